// Reads a synthetic delivery's ground truth, for tests and for the generator's report.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';

export interface TruthRow {
  pseudo_id: string;
  practice_code: string;
  pcn_code: string;
  place: string;
  sex: string;
  birth_month: string;
  age: number;
  imd_decile: number;
  eligible: boolean;
  conditions: string[];
  condition_count: number;
  efi_score: number;
  efi_category: string;
  efi_deficits: string[];
  coded_frailty: string;
  hfrs: number;
  expected_cost_next_12m: number;
  expected_cost_prev_12m: number;
  realised_cost_prev_12m: number;
  p_admission_next_12m: number;
  p_admission_prev_12m: number;
  admitted_prev_12m: boolean;
  mover: boolean;
  care_contexts: string[];
  recently_discharged: boolean;
}

/** Empty where the generator cannot know a figure (a delivery cut before its world date). */
const figure = (cell: string) => (cell === '' ? NaN : Number(cell));

export function readGroundTruth(delivery: string): TruthRow[] {
  const text = gunzipSync(readFileSync(join(delivery, 'ground-truth', 'patients.csv.gz')));
  const rows: Record<string, string>[] = parse(text, { columns: true });
  return rows.map((r) => ({
    pseudo_id: r.pseudo_id!,
    practice_code: r.practice_code!,
    pcn_code: r.pcn_code!,
    place: r.place!,
    sex: r.sex!,
    birth_month: r.birth_month!,
    age: Number(r.age),
    imd_decile: Number(r.imd_decile),
    eligible: r.eligible === 'true',
    conditions: r.conditions ? r.conditions.split(';') : [],
    condition_count: Number(r.condition_count),
    efi_score: Number(r.efi_score),
    efi_category: r.efi_category!,
    efi_deficits: r.efi_deficits ? r.efi_deficits.split(';') : [],
    coded_frailty: r.coded_frailty!,
    hfrs: Number(r.hfrs),
    expected_cost_next_12m: figure(r.expected_cost_next_12m!),
    expected_cost_prev_12m: figure(r.expected_cost_prev_12m!),
    realised_cost_prev_12m: Number(r.realised_cost_prev_12m),
    p_admission_next_12m: figure(r.p_admission_next_12m!),
    p_admission_prev_12m: figure(r.p_admission_prev_12m!),
    admitted_prev_12m: r.admitted_prev_12m === 'true',
    mover: r.mover === 'true',
    care_contexts: r.care_contexts ? r.care_contexts.split(';') : [],
    recently_discharged: r.recently_discharged === 'true',
  }));
}

/** The generator's headline figures, measured on the ground truth. */
export function truthFigures(rows: TruthRow[]) {
  const eligible = rows.filter((r) => r.eligible);
  const adults = eligible.filter((r) => r.age >= 18);
  const share = (xs: TruthRow[], f: (r: TruthRow) => boolean) => xs.filter(f).length / Math.max(1, xs.length);
  const byPlace: Record<string, number> = {};
  for (const place of new Set(eligible.map((r) => r.place)))
    byPlace[place] = share(
      eligible.filter((r) => r.place === place),
      (r) => r.age >= 65,
    );
  const pcnSizes = new Map<string, number>();
  for (const r of eligible) pcnSizes.set(r.pcn_code, (pcnSizes.get(r.pcn_code) ?? 0) + 1);
  const over65 = eligible.filter((r) => r.age >= 65);
  const efi: Record<string, number> = {};
  for (const c of ['fit', 'mild', 'moderate', 'severe']) efi[c] = share(over65, (r) => r.efi_category === c);
  const costs = eligible.map((r) => r.realised_cost_prev_12m).sort((a, b) => b - a);
  const top = costs.slice(0, Math.ceil(costs.length * 0.05)).reduce((a, b) => a + b, 0);
  const total = costs.reduce((a, b) => a + b, 0);
  const over75 = adults.filter((r) => r.age >= 75);
  return {
    patients: rows.length,
    eligible: eligible.length,
    practices: new Set(eligible.map((r) => r.practice_code)).size,
    pcns: pcnSizes.size,
    pcnSize: { min: Math.min(...pcnSizes.values()), max: Math.max(...pcnSizes.values()) },
    over65ByPlace: byPlace,
    multimorbidity2plus: share(eligible, (r) => r.condition_count >= 2),
    multimorbidity5plusAdults: share(adults, (r) => r.condition_count >= 5),
    multimorbidity5plusOver75: share(over75, (r) => r.condition_count >= 5),
    efiOver65: efi,
    emergencyAdmissionAdults: share(adults, (r) => r.admitted_prev_12m),
    top5CostShare: top / total,
    meanCost: total / costs.length,
  };
}
