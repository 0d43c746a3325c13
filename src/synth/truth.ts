// What the counting rules should find in a synthetic patient's record on a date: the
// ground truth's eFI-style deficits, latest coded frailty and HFRS, worked out from the
// generated record itself rather than from the latent traits behind it.
import { deficits, CODED_FRAILTY, HFRS } from '../../pipeline/frailty.ts';
import { addMonths } from './calendar.ts';
import type { Codebook } from './codebook.ts';
import type { ActivityEvent } from './secondary-care.ts';

export interface Observation {
  day: number;
  code: string;
  value: string;
  unit: string;
}
export interface Medication {
  day: number;
  bnf: string;
}
export type CodedFrailty = 'none' | 'mild' | 'moderate' | 'severe';

/** The columns of ground-truth/patients.csv.gz, in order. */
export const GROUND_TRUTH_COLUMNS = [
  'pseudo_id',
  'practice_code',
  'pcn_code',
  'place',
  'sex',
  'birth_month',
  'age',
  'imd_decile',
  'eligible',
  'conditions',
  'condition_count',
  'efi_score',
  'efi_category',
  'efi_deficits',
  'coded_frailty',
  'hfrs',
  'expected_cost_next_12m',
  'expected_cost_prev_12m',
  'realised_cost_prev_12m',
  'p_admission_next_12m',
  'p_admission_prev_12m',
  'admitted_prev_12m',
  'mover',
  'care_contexts',
  'recently_discharged',
];

const POLYPHARMACY = deficits.find((d) => d.distinctDrugs)!.distinctDrugs!;

/** Deficits a correct eFI-style count finds on `asOf`: codes on or before it, after birth, polypharmacy in 12 months. */
export function countDeficits(
  book: Codebook,
  obs: Observation[],
  meds: Medication[],
  asOf: number,
  birthDay: number,
): string[] {
  const found = new Set<string>();
  for (const o of obs) {
    if (o.day > asOf || o.day < birthDay) continue;
    for (const d of book.deficitsOfCode(o.code)) found.add(d);
  }
  const windowStart = addMonths(asOf, -12);
  const drugs = new Set<string>();
  const { min, bnfChapters } = POLYPHARMACY;
  for (const m of meds) {
    const chapter = m.bnf.slice(0, 2);
    if (chapter < bnfChapters.from || chapter > bnfChapters.to) continue;
    if (m.day > windowStart && m.day <= asOf) drugs.add(m.bnf);
  }
  if (drugs.size >= min) found.add('polypharmacy');
  return [...found].sort();
}

export function latestCodedFrailty(book: Codebook, obs: Observation[], asOf: number): CodedFrailty {
  const from = addMonths(asOf, -CODED_FRAILTY.withinMonths);
  let best: { day: number; severity: CodedFrailty } | null = null;
  for (const o of obs) {
    const severity = book.frailtySeverityOf(o.code);
    if (!severity || o.day <= from || o.day > asOf) continue;
    if (!best || o.day > best.day) best = { day: o.day, severity };
  }
  return best?.severity ?? 'none';
}

export function hfrsOf(book: Codebook, activity: ActivityEvent[], asOf: number): number {
  const from = addMonths(asOf, -24);
  const codes = new Set<string>();
  const admitted: readonly string[] = HFRS.settings;
  for (const a of activity)
    if (admitted.includes(a.setting) && a.start > from && a.start <= asOf)
      for (const d of a.diagnoses) codes.add(d.slice(0, 3));
  let score = 0;
  for (const c of codes) score += book.hfrsPoints.get(c) ?? 0;
  return Math.round(score * 10) / 10;
}
