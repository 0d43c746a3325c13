// Faults in rows and values: bad codes, dates, numbers and keys, duplicates and strays.
import { gzipSync } from 'node:zlib';
import { base, caseList, line, P, Q, R, type Files } from './good-delivery.ts';

const [rowFaults, add] = caseList();
export { rowFaults };

add(
  'missing-required-values',
  {
    fault: 'a required value left empty in every kind of file',
    exit_code: 0,
    dropped: {
      'practices/C82001/patients.csv': { 'missing required value': 1 },
      'practices/C82001/observations.csv': { 'missing required value': 2 },
      'practices/C82001/medications.csv': { 'missing required value': 1 },
      'secondary-care/acute.csv': { 'missing required value': 1 },
    },
  },
  {
    'practices/C82001/patients.csv': line('practices/C82001/patients.csv', [
      `d1d1d1d1d1d1d1d1,F,1950-01,,,,`,
    ]),
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[0]},,10725009,,`,
      `${P[1]},2022-01-05,,,`,
    ]),
    'practices/C82001/medications.csv': line('practices/C82001/medications.csv', [
      `${P[0]},,3012345671000001,0407010H0AAAAAA,100`,
    ]),
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [`S9,${P[0]},AE,RWE,,,,,,150`]),
  },
);
add(
  'unknown-setting',
  {
    fault: 'a setting outside the allowed values',
    exit_code: 0,
    rejected: { 'secondary-care/acute.csv': 2 },
  },
  {
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [
      `S9,${P[0]},APC_XX,RWE,2025-10-10,,,,,150`,
      `S10,${P[0]},A&E,RWE,2025-10-10,,,,,150`,
    ]),
  },
);
add(
  'invalid-icd10',
  { fault: 'diagnosis codes that are not ICD-10 (the spell is kept)', exit_code: 0 },
  {
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [
      `S9,${P[1]},APC_NEL,RWE,2025-10-10,2025-10-12,WH10A,I5O0,R5;1234,1600`,
    ]),
  },
);
add(
  'no-delivery-json',
  { fault: 'no delivery.json', exit_code: 3, error: 'delivery.json' },
  { 'delivery.json': null },
);
add(
  'delivery-json-unknown-field',
  { fault: 'delivery.json with a field the contract does not have', exit_code: 3, error: 'Unrecognized key' },
  {
    'delivery.json': JSON.stringify({
      extract_date: '2026-03-31',
      source_system: 'x',
      schema_version: '1.0',
      nhs_numbers_included: true,
    }),
  },
);
add(
  'delivery-json-not-json',
  { fault: 'delivery.json that is not JSON', exit_code: 3, error: 'not valid JSON' },
  { 'delivery.json': '{ extract_date: 2026-03-31 ' },
);
add(
  'no-practice-reference',
  { fault: 'no reference/practices.csv', exit_code: 3, error: 'reference/practices.csv' },
  { 'reference/practices.csv': null },
);
add(
  'empty-delivery',
  { fault: 'a delivery with reference files and no extracts', exit_code: 3, error: 'no practice extracts' },
  {
    practices: null,
    'secondary-care': null,
  },
);
add(
  'conflicting-demographics',
  { fault: 'one pseudo_id with two sexes and birth months at two practices', exit_code: 0, eligible: 6 },
  {
    'practices/C82002/patients.csv': line('practices/C82002/patients.csv', [
      `${P[1]},F,1981-01,E01013002,1990-01-01,2005-06-01,`,
    ]),
  },
);
add(
  'two-practices-at-once',
  { fault: 'a patient registered at two practices at the same time', exit_code: 0, eligible: 6 },
  {
    'practices/C82002/patients.csv': line('practices/C82002/patients.csv', [
      `${P[1]},M,1980-11,E01013002,2024-01-01,,`,
    ]),
  },
);
add(
  'activity-before-birth',
  {
    fault: 'a hospital spell before the patient was born',
    exit_code: 0,
    dropped: { 'secondary-care/acute.csv': { 'date before birth': 1 } },
  },
  {
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [`S9,${P[2]},AE,RWE,2008-10-10,,,,,150`]),
  },
);
add(
  'formula-cells',
  { fault: 'cells a spreadsheet would run as formulas', exit_code: 0, eligible: 6 },
  {
    'reference/practices.csv': (base['reference/practices.csv'] as string).replace(
      "St Peter's Surgery",
      '"=HYPERLINK(""http://example.org"",""x"")"',
    ),
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[1]},2021-01-01,60621009,22.1,@SUM(1)`,
    ]),
  },
);
add(
  'sql-looking-strings',
  { fault: 'text that looks like SQL', exit_code: 0, eligible: 6 },
  {
    'reference/practices.csv': (base['reference/practices.csv'] as string).replace(
      "St Peter's Surgery",
      "Robert'); DROP TABLE stg_practice;--",
    ),
  },
);
add(
  'very-long-code',
  {
    fault: 'a 400-digit code',
    exit_code: 0,
    dropped: { 'practices/C82001/observations.csv': { 'SNOMED CT code fails its check digit': 1 } },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[1]},2021-01-01,${'7'.repeat(400)},,`,
    ]),
  },
);
add(
  'zip-bomb',
  { fault: 'a small gzip that expands to 256 MB of zeros', exit_code: 2, quarantined: ['C82003'] },
  {
    'practices/C82003/observations.csv': null,
    'practices/C82003/observations.csv.gz': gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }),
  },
);
add(
  'registration-ends-before-it-starts',
  {
    fault: 'registered_to before registered_from',
    exit_code: 0,
    dropped: { 'practices/C82002/patients.csv': { 'registration ends before it starts': 1 } },
  },
  {
    'practices/C82002/patients.csv': line('practices/C82002/patients.csv', [
      `d1d1d1d1d1d1d1d1,F,1970-01,,2020-01-01,2019-01-01,`,
    ]),
  },
);
add(
  'linked-practice-folder',
  { fault: 'a practice folder that is a symbolic link', exit_code: 2, quarantined: ['C82003'] },
  {
    'practices/C82003/patients.csv': null,
    'practices/C82003/observations.csv': null,
    'practices/C82003/medications.csv': null,
    // A dangling link: it must be refused for being a link, whatever it points at.
    'practices/C82003': { link: '../../elsewhere/C82003' } as unknown as string,
  },
);
add(
  'contract-violations',
  {
    fault: 'a bad value in every kind of column',
    exit_code: 0,
    dropped: {
      'practices/C82002/patients.csv': { 'invalid sex': 1, 'invalid birth_month': 1, 'invalid pseudo_id': 1 },
    },
    rejected: { 'practices/C82002/medications.csv': 1, 'secondary-care/acute.csv': 1 },
  },
  {
    'practices/C82002/patients.csv': line('practices/C82002/patients.csv', [
      `e1e1e1e1e1e1e1e1,X,1970-01,,2020-01-01,,`,
      `e2e2e2e2e2e2e2e2,F,1970-13,,2020-01-01,,`,
      `NOT-A-PSEUDONYM,F,1970-01,,2020-01-01,,`,
    ]),
    'practices/C82002/medications.csv': line('practices/C82002/medications.csv', [
      `${Q[0]},2026-02-02,3012345671000001,0407010F0AAAAAA,lots`,
    ]),
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [`S9,${P[0]},AE,RWE,2025-10-10,,,,,£150`]),
  },
);

/** Lines holding the given values in each numeric column: observation value, quantity, cost. */
const numbers = (values: string[], quantities: string[], costs: string[]): Files => ({
  'practices/C82001/observations.csv': line(
    'practices/C82001/observations.csv',
    values.map((v, i) => `${P[1]},2021-0${i + 1}-01,60621009,${v},kg/m2`),
  ),
  'practices/C82001/medications.csv': line(
    'practices/C82001/medications.csv',
    quantities.map((q, i) => `${P[1]},2026-01-1${i + 1},3012345671000001,0301011R0AAAAAA,${q}`),
  ),
  'secondary-care/acute.csv': line(
    'secondary-care/acute.csv',
    costs.map((c, i) => `S${9 + i},${P[1]},OP,RWE,2025-10-1${i},,,,,${c}`),
  ),
});
add(
  'non-finite-numbers',
  {
    fault: 'inf, -inf and nan in every numeric column',
    exit_code: 0,
    eligible: 6,
    dropped: {
      'practices/C82001/observations.csv': { 'value not a finite number': 2 },
      'practices/C82001/medications.csv': { 'quantity not a finite number': 1 },
      'secondary-care/acute.csv': { 'cost_gbp not a finite number': 3 },
    },
  },
  numbers(['inf', 'nan'], ['inf'], ['inf', '-inf', 'nan']),
);
add(
  'out-of-range-numbers',
  {
    fault:
      'numbers no record can hold: a cost of 1e308 or below zero, an observation past a billion, a negative quantity',
    exit_code: 0,
    eligible: 6,
    dropped: {
      'practices/C82001/observations.csv': { 'value out of range': 2 },
      'practices/C82001/medications.csv': { 'quantity out of range': 2 },
      'secondary-care/acute.csv': { 'cost_gbp out of range': 3 },
    },
    never_shown: ['1e308', '123456789012', '7e300', '4444444', '987654321'],
  },
  numbers(['7e300', '-4444444444'], ['-3', '987654321'], ['1e308', '-5', '123456789012']),
);
add(
  'dates-before-1900',
  {
    fault: 'a birth in 1066, a registration in year 1, a death in 1850',
    exit_code: 0,
    eligible: 6,
    dropped: { 'practices/C82002/patients.csv': { 'date before 1900-01-01': 3 } },
    never_shown: ['1066', '0001-01-01', '1850'],
  },
  {
    'practices/C82002/patients.csv': line('practices/C82002/patients.csv', [
      `f1f1f1f1f1f1f1f1,F,1066-10,,2000-01-01,,`,
      `f2f2f2f2f2f2f2f2,M,1950-01,,0001-01-01,,`,
      `f3f3f3f3f3f3f3f3,F,1950-01,,2000-01-01,,1850-06-01`,
    ]),
  },
);
add(
  'impossible-extract-date',
  {
    fault: 'an extract date of 30 February',
    exit_code: 3,
    error: 'extract_date: is not a real calendar date',
  },
  {
    'delivery.json': JSON.stringify({
      extract_date: '2026-02-30',
      source_system: 'x',
      schema_version: '1.0',
    }),
  },
);
add(
  'ancient-extract-date',
  { fault: 'an extract date of 1900-01-01', exit_code: 3, error: 'extract_date: is outside 2000-01-01 to' },
  {
    'delivery.json': JSON.stringify({
      extract_date: '1900-01-01',
      source_system: 'x',
      schema_version: '1.0',
    }),
  },
);
add(
  'reference-quoted-newline',
  {
    fault: 'a line break inside a quoted practice name',
    exit_code: 3,
    error: 'reference/practices.csv: 4 data lines hold 3 records: a line break inside a quoted value',
  },
  {
    'reference/practices.csv': (base['reference/practices.csv'] as string).replace(
      'Oakham Medical Practice',
      '"Oakham Medical\nPractice"',
    ),
  },
);
// The contract says UTF-8. A reference file is read whole, so a line that is not UTF-8 stops
// the run (a data file's line is rejected instead, as in non-utf8-text).
add(
  'reference-latin1-name',
  {
    fault: 'a practice name with a Latin-1 byte',
    exit_code: 3,
    error: 'reference/practices.csv: line 4 is not UTF-8 text (save the file as UTF-8)',
  },
  {
    'reference/practices.csv': Buffer.from(
      (base['reference/practices.csv'] as string).replace('Oakham Medical', 'Oakham M\u00e9dical'),
      'latin1',
    ),
  },
);
add(
  'reference-row-breaks-contract',
  {
    fault: 'a practice name with a tab and a PCN code that is not one',
    exit_code: 3,
    error: '1 row(s) whose practice_name does not meet the contract (Practice name)',
  },
  {
    'reference/practices.csv': (base['reference/practices.csv'] as string)
      .replace('Oakham Medical Practice', 'Oakham\tPractice')
      .replace('U60026', 'X60026'),
  },
);
add(
  'every-registration-invalid',
  {
    fault: 'a practice whose every pseudo_id is invalid',
    exit_code: 2,
    quarantined: ['C82003'],
    eligible: 5,
  },
  {
    'practices/C82003/patients.csv': (base['practices/C82003/patients.csv'] as string)
      .replace(R[0]!, 'NOT-A-PSEUDONYM')
      .replace(R[1]!, 'NOT-ONE-EITHER'),
  },
);
add(
  'no-registrations',
  {
    fault: 'a practice whose patients file holds only its header',
    exit_code: 2,
    quarantined: ['C82002'],
    eligible: 4,
  },
  {
    'practices/C82002/patients.csv':
      'pseudo_id,sex,birth_month,lsoa_code,registered_from,registered_to,date_of_death\n',
  },
);
