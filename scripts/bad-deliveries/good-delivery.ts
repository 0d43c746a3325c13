// The small, readable good delivery every bad delivery starts from: three practices, their
// patients and events, the reference files and a little secondary care.
import type { ExpectedOutcome } from '../../test/support/bad-delivery.ts';

/** Files by path in the delivery: text, bytes, a symbolic link, or null to remove it. */
export type Files = Record<string, string | Buffer | null>;

export const P = ['a1a1a1a1a1a1a1a1', 'a2a2a2a2a2a2a2a2', 'a3a3a3a3a3a3a3a3'];
export const Q = ['b1b1b1b1b1b1b1b1', 'b2b2b2b2b2b2b2b2'];
export const R = ['c1c1c1c1c1c1c1c1', 'c2c2c2c2c2c2c2c2'];

export const base: Files = {
  'delivery.json':
    JSON.stringify(
      { extract_date: '2026-03-31', source_system: 'test fixture', schema_version: '1.0' },
      null,
      2,
    ) + '\n',
  'reference/practices.csv': [
    'practice_code,practice_name,pcn_code,pcn_name,place',
    "C82001,St Peter's Surgery,U60001,City North PCN,Leicester City",
    'C82002,"Church Street, Medical Centre",U60001,City North PCN,Leicester City',
    'C82003,Oakham Medical Practice,U60026,Rutland PCN,Rutland',
    '',
  ].join('\n'),
  'reference/lsoa.csv': [
    'lsoa_code,imd_decile,place',
    'E01013001,1,Leicester City',
    'E01013002,6,Leicester City',
    'E01013300,9,Rutland',
    '',
  ].join('\n'),
  'practices/C82001/patients.csv': [
    'pseudo_id,sex,birth_month,lsoa_code,registered_from,registered_to,date_of_death',
    `${P[0]},F,1941-05,E01013001,1990-01-15,,`,
    `${P[1]},M,1980-11,E01013002,2005-06-01,,`,
    `${P[2]},F,2010-02,E01013001,2010-03-01,,`,
    '',
  ].join('\n'),
  'practices/C82001/observations.csv': [
    'pseudo_id,recorded_date,snomed_code,value,unit',
    `${P[0]},2015-04-02,10725009,,`,
    `${P[0]},2019-09-10,111552007,,`,
    `${P[0]},2025-10-01,925831000000107,,`,
    `${P[0]},2025-11-20,60621009,31.2,kg/m2`,
    `${P[1]},2022-01-05,1064811000000103,,`,
    `${P[2]},2024-07-07,60621009,17.5,kg/m2`,
    '',
  ].join('\n'),
  'practices/C82001/medications.csv': [
    'pseudo_id,issue_date,dmd_code,bnf_code,quantity',
    `${P[0]},2025-12-01,3012345671000001,0407010H0AAAAAA,100`,
    `${P[1]},2026-01-10,3012345671000001,0301011R0AAAAAA,1`,
    '',
  ].join('\n'),
  'practices/C82002/patients.csv': [
    'pseudo_id,sex,birth_month,lsoa_code,registered_from,registered_to,date_of_death',
    `${Q[0]},M,1955-03,E01013002,2001-01-01,,`,
    `${Q[1]},F,1999-12,,2020-02-02,,`,
    '',
  ].join('\n'),
  'practices/C82002/observations.csv': [
    'pseudo_id,recorded_date,snomed_code,value,unit',
    `${Q[0]},2018-05-05,129151000119102,,`,
    '',
  ].join('\n'),
  'practices/C82002/medications.csv': [
    'pseudo_id,issue_date,dmd_code,bnf_code,quantity',
    `${Q[0]},2026-02-02,3012345671000001,0407010F0AAAAAA,56`,
    '',
  ].join('\n'),
  'practices/C82003/patients.csv': [
    'pseudo_id,sex,birth_month,lsoa_code,registered_from,registered_to,date_of_death',
    `${R[0]},F,1930-08,E01013300,1975-05-05,,`,
    `${R[1]},M,1962-06,E01013300,1990-09-09,,2025-01-01`,
    '',
  ].join('\n'),
  'practices/C82003/observations.csv': [
    'pseudo_id,recorded_date,snomed_code,value,unit',
    `${R[0]},2024-12-12,925831000000107,,`,
    '',
  ].join('\n'),
  'practices/C82003/medications.csv': ['pseudo_id,issue_date,dmd_code,bnf_code,quantity', ''].join('\n'),
  'secondary-care/acute.csv': [
    'activity_id,pseudo_id,setting,provider_code,start_date,end_date,hrg_code,primary_diagnosis,secondary_diagnoses,cost_gbp',
    `S1,${P[0]},APC_NEL,RWE,2025-06-01,2025-06-09,WH10A,S720,F00;R296,5200.50`,
    `S2,${P[0]},OP,RWE,2025-08-01,,,,,`,
    `S3,${Q[0]},AE,RWE,2025-09-09,,,,,150`,
    `S4,${R[0]},APC_EL,RX1,2024-04-04,2024-04-06,HN12B,M170,,3800`,
    '',
  ].join('\n'),
};

export interface Case {
  files: Files;
  expected: ExpectedOutcome;
}

/** A collection of cases, and the function that adds one by name. */
export function caseList(): [
  Record<string, Case>,
  (name: string, expected: ExpectedOutcome, files: Files) => void,
] {
  const cases: Record<string, Case> = {};
  return [cases, (name, expected, files) => void (cases[name] = { files, expected })];
}

/** The good delivery's file with lines added at its end. */
export const line = (path: string, extra: string[]) =>
  `${(base[path] as string).trimEnd()}\n${extra.join('\n')}\n`;
