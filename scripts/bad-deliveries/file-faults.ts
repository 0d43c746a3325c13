// Faults in whole files and folders: missing, empty, misnamed, badly encoded or damaged.
import { gzipSync } from 'node:zlib';
import { base, caseList, line, P } from './good-delivery.ts';

const [fileFaults, add] = caseList();
export { fileFaults };

add(
  'empty-file',
  { fault: 'an observations file of 0 bytes', exit_code: 2, quarantined: ['C82001'] },
  { 'practices/C82001/observations.csv': '' },
);
add(
  'missing-file',
  { fault: 'a practice without its medications file', exit_code: 2, quarantined: ['C82002'] },
  { 'practices/C82002/medications.csv': null },
);
add(
  'header-only',
  { fault: 'an observations file with only its header', exit_code: 0, eligible: 6 },
  { 'practices/C82001/observations.csv': 'pseudo_id,recorded_date,snomed_code,value,unit\n' },
);
add(
  'wrong-header',
  { fault: 'patients.csv with other column names', exit_code: 2, quarantined: ['C82001'] },
  {
    'practices/C82001/patients.csv': (base['practices/C82001/patients.csv'] as string).replace(
      'pseudo_id,sex',
      'id,gender',
    ),
  },
);
add(
  'wrong-field-count',
  {
    fault: 'lines with too many and too few fields',
    exit_code: 0,
    rejected: { 'practices/C82001/observations.csv': 2 },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[0]},2020-01-01,10725009,,,extra`,
      `${P[0]},2020-01-01,10725009`,
    ]),
  },
);
add(
  'impossible-dates',
  {
    fault: 'dates that do not exist or are not ISO',
    exit_code: 0,
    rejected: { 'practices/C82001/medications.csv': 3 },
  },
  {
    'practices/C82001/medications.csv': line('practices/C82001/medications.csv', [
      `${P[0]},2023-02-30,3012345671000001,0407010H0AAAAAA,100`,
      `${P[0]},31/12/2023,3012345671000001,0407010H0AAAAAA,100`,
      `${P[0]},20230115,3012345671000001,0407010H0AAAAAA,100`,
    ]),
  },
);
add(
  'crlf-line-ends',
  {
    fault: 'Windows line ends',
    exit_code: 0,
    eligible: 6,
    rejected: { 'practices/C82001/observations.csv': 0 },
  },
  {
    'practices/C82001/observations.csv': (base['practices/C82001/observations.csv'] as string).replace(
      /\n/g,
      '\r\n',
    ),
  },
);
add(
  'byte-order-mark',
  {
    fault: 'a UTF-8 byte order mark before the header',
    exit_code: 0,
    eligible: 6,
    rejected: { 'practices/C82001/patients.csv': 0 },
  },
  {
    'practices/C82001/patients.csv': '\ufeff' + (base['practices/C82001/patients.csv'] as string),
  },
);
add(
  'truncated-gzip',
  { fault: 'a gzip file cut short', exit_code: 2, quarantined: ['C82003'] },
  {
    'practices/C82003/observations.csv': null,
    'practices/C82003/observations.csv.gz': gzipSync(
      Buffer.from((base['practices/C82003/observations.csv'] as string).repeat(50)),
    ).subarray(0, 60),
  },
);
add(
  'binary-file',
  { fault: 'binary data where CSV should be', exit_code: 2, quarantined: ['C82002'] },
  {
    'practices/C82002/medications.csv': Buffer.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 1, 2, 3,
    ]),
  },
);
add(
  'unknown-practice-folder',
  {
    fault: 'a practice folder the reference list does not know',
    exit_code: 2,
    quarantined: ['C82999'],
    eligible: 6,
  },
  {
    'practices/C82999/patients.csv': base['practices/C82002/patients.csv']!,
    'practices/C82999/observations.csv': base['practices/C82002/observations.csv']!,
    'practices/C82999/medications.csv': base['practices/C82002/medications.csv']!,
  },
);
add(
  'not-a-practice-folder',
  { fault: 'a folder that is not named as an ODS code', exit_code: 0, eligible: 6 },
  {
    'practices/notes/readme.txt': 'not data\n',
  },
);
add(
  'practice-without-extract',
  { fault: 'a listed practice with no folder in the delivery', exit_code: 2, quarantined: ['C82003'] },
  {
    'practices/C82003/patients.csv': null,
    'practices/C82003/observations.csv': null,
    'practices/C82003/medications.csv': null,
  },
);
add(
  'unclosed-quote',
  { fault: 'a quote that is never closed', exit_code: 2, quarantined: ['C82001'] },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[1]},2021-01-01,60621009,"22.1,kg/m2`,
      `${P[1]},2021-02-01,60621009,22.3,kg/m2`,
    ]),
  },
);
add(
  'non-utf8-text',
  {
    fault: 'a Latin-1 byte in a text field',
    exit_code: 0,
    rejected: { 'practices/C82001/observations.csv': 1 },
  },
  {
    'practices/C82001/observations.csv': Buffer.concat([
      Buffer.from(
        line('practices/C82001/observations.csv', []).trimEnd() + `\n${P[1]},2021-01-01,60621009,22.1,kg/m`,
      ),
      Buffer.from([0xb2, 0x0a]),
    ]),
  },
);
add(
  'broken-check-digit',
  {
    fault: 'SNOMED CT codes that lost or changed a digit',
    exit_code: 0,
    dropped: { 'practices/C82001/observations.csv': { 'SNOMED CT code fails its check digit': 2 } },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[1]},2021-01-01,1072500,,`,
      `${P[1]},2021-01-01,10725008,,`,
    ]),
  },
);
add(
  'future-dates',
  {
    fault: 'entries dated after the extract date',
    exit_code: 0,
    dropped: { 'practices/C82001/observations.csv': { 'date in the future': 1 } },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[1]},2027-01-01,10725009,,`,
    ]),
  },
);
add(
  'before-birth',
  {
    fault: 'an entry dated before the patient was born',
    exit_code: 0,
    dropped: { 'practices/C82001/observations.csv': { 'date before birth': 1 } },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[2]},2005-01-01,10725009,,`,
    ]),
  },
);
add(
  'duplicate-rows',
  {
    fault: 'the same line sent twice',
    exit_code: 0,
    dropped: { 'practices/C82001/observations.csv': { 'duplicate row': 2 } },
  },
  {
    'practices/C82001/observations.csv': line('practices/C82001/observations.csv', [
      `${P[0]},2015-04-02,10725009,,`,
      `${P[0]},2015-04-02,10725009,,`,
    ]),
  },
);
// The first of two identical files, in path order, is the one loaded.
add(
  'resent-file',
  {
    fault: 'a secondary-care file sent twice under two names',
    exit_code: 0,
    dropped: { 'secondary-care/acute.csv': { 'resent file': 4 } },
  },
  {
    'secondary-care/acute-again.csv': base['secondary-care/acute.csv']!,
  },
);
add(
  'unknown-patient',
  {
    fault: 'activity for a patient no practice has',
    exit_code: 0,
    dropped: { 'secondary-care/acute.csv': { 'unknown patient': 1 } },
  },
  {
    'secondary-care/acute.csv': line('secondary-care/acute.csv', [
      `S9,ffffffffffffffff,AE,RWE,2025-10-10,,,,,150`,
    ]),
  },
);
