// How common a condition or an eFI-style deficit is at a given age: the published bands of
// each declaration turned into a chance, on the logit scale where latent traits shift it.
import type { ConditionDeclaration } from '../../pipeline/conditions.ts';

export function logit(p: number) {
  const q = Math.min(Math.max(p, 1e-6), 1 - 1e-6);
  return Math.log(q / (1 - q));
}
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function bandPrevalence(c: ConditionDeclaration, age: number, sex: string): number {
  // Infants have no history to speak of: no chronic conditions before the age of two.
  if (age < 2) return 0;
  if (age < 18)
    return c.id === 'asthma' || c.id === 'psoriasis_eczema' || c.id === 'epilepsy' ? c.prevalence.under45 : 0;
  const p =
    age < 45
      ? c.prevalence.under45
      : age < 65
        ? c.prevalence.from45to64
        : age < 75
          ? c.prevalence.from65to74
          : c.prevalence.over75;
  if (c.id === 'prostate_disorders') return sex === 'M' ? 2 * p : 0;
  return p;
}

export function deficitAgeFactor(age: number) {
  return age < 18 ? 0 : age < 45 ? 0.12 : age < 65 ? 0.4 : age < 75 ? 0.75 : age < 85 ? 1.3 : 1.7;
}
