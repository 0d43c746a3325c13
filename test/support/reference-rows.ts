// Tiny inputs for the reference implementation's tests: one patient, real codes from the codelists.
import { expect } from 'vitest';
import { loadCodelists } from '../../src/codelists.ts';
import {
  referenceCohorts,
  type RefActivity,
  type RefInput,
  type RefMedication,
  type RefObservation,
  type RefRegistration,
  type RefRow,
} from './reference-cohorts.ts';

export const lists = loadCodelists();
export const code = (list: string, i = 0): string => lists.get(list)!.codes[i]!.code;

export const REF = '2026-09-30';
export const A = 'A81001';
export const B = 'A81002';
export const NOT_LISTED = 'Y99999';

export const CKD = code('ckd_3_5');
export const CKD_RESOLVED = code('ckd_resolved');
export const DEPRESSION = code('depression_anxiety');
export const CANCER = code('cancer');
export const ASTHMA = code('asthma');
export const MILD = code('frailty_mild');
export const MODERATE = code('frailty_moderate');
export const SEVERE = code('frailty_severe');
// Issues carry full 15-character presentations; the rules look at the 9-character chemical.
export const ANALGESIC = `${code('med_analgesics')}AAAAAA`;
export const INHALER = `${code('med_asthma_inhalers')}AAAAAA`;
export const ANTIEPILEPTIC = `${code('med_antiepileptics')}AAAAAA`;
export const EPILEPSY = code('epilepsy');
export const PSORIASIS = code('psoriasis_eczema');
export const EMOLLIENT_OR_STEROID = `${code('med_psoriasis_eczema')}AAAAAA`;
export const LAXATIVE = `${code('med_laxatives')}AAAAAA`;
export const ANTIDEPRESSANT = `${code('med_antidepressants')}AAAAAA`;
export const FOUR_ISSUES = ['2025-11-01', '2026-02-01', '2026-05-01', '2026-08-01'];

export function reg(extra: Partial<RefRegistration> = {}): RefRegistration {
  return {
    pseudo_id: 'p1',
    practice_code: A,
    sex: 'F',
    birth_month: '1950-06',
    registered_from: '2000-01-01',
    registered_to: null,
    date_of_death: null,
    ...extra,
  };
}
export const obs = (recorded_date: string, snomed_code: string, pseudo_id = 'p1'): RefObservation => ({
  pseudo_id,
  recorded_date,
  snomed_code,
});
export const med = (issue_date: string, bnf_code: string, pseudo_id = 'p1'): RefMedication => ({
  pseudo_id,
  issue_date,
  bnf_code,
});
export const spell = (
  start_date: string,
  primary: string | null,
  secondary: string | null = null,
  setting = 'APC_NEL',
): RefActivity => ({
  pseudo_id: 'p1',
  setting,
  start_date,
  primary_diagnosis: primary,
  secondary_diagnoses: secondary,
});

export function run(parts: Partial<RefInput>): RefRow[] {
  return referenceCohorts({
    asOf: REF,
    practices: [A, B],
    registrations: [reg()],
    observations: [],
    medications: [],
    activity: [],
    ...parts,
  });
}

/** The single row of a one-patient cohort. */
export function only(parts: Partial<RefInput>): RefRow {
  const rows = run(parts);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}
