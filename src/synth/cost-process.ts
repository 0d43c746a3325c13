// How much secondary care a synthetic patient uses, year by year, and what the ground truth
// may know of it in advance. Real hospital use is far less predictable than a patient's
// record suggests, and the generator must be too, or the models are judged against a world
// kinder than the one they will meet. Four sources of chance, on top of the record:
//
// 1. A person effect fixed for life (frailty the record does not capture), Gamma with mean 1.
// 2. A transient effect that persists from one year to the next and regresses to the mean:
//    a stationary AR(1) on the log scale. A bad year is followed by a better one on average,
//    as in Roland et al. 2005 (BMJ 330:289: people aged 65+ with two or more emergency
//    admissions in a year had 38% of that age group's admissions that year and under 10%
//    the next, falling to the mean in four to five years), while a sizeable minority stays
//    costly, as in Monheit 2003 (Med Care 41(7 Suppl):III53: of the top 5% of spenders in
//    one year, 30% stayed in the top 5% the next year and 45% in the top decile).
// 3. Heavy-tailed costs per event: each spell or attendance costs its national unit cost
//    (domain facts, section 3: NHS National Cost Collection) times a mean-one log-normal
//    whose spread is our choice, set so that cost is as concentrated as published: the top
//    1% of patients about a fifth of cost (AHRQ MEPS Statistical Briefs 354 and 392, Cohen and
//    Yu 2012: 20-23%), the top 5% about half (domain facts, section 2.3).
// 4. A rare catastrophic spell (major trauma, a stroke with a long stay, intensive care), whose
//    chance rises with the risk index but whose cost is Pareto-distributed: our choice of
//    scale and shape, within what the National Cost Collection shows for long non-elective
//    stays with critical care (tens of thousands of pounds, a few above 100,000).
//
// The ground truth's expected cost and admission probability for a year are prospective: what
// someone knowing the record, the person effect and the transient effect at the start of the
// year could expect, not the year's own luck. That is the oracle the models are judged against.
import type { Setting } from '../contract.ts';
import type { Rng } from './random.ts';

/** National unit costs (domain facts, section 3: NHS National Cost Collection, rounded). */
export const UNIT_COST: Record<Setting, number> = {
  APC_NEL: 1600,
  APC_EL: 3700,
  APC_DC: 740,
  OP: 120,
  AE: 150,
};

/**
 * Yearly events per unit of risk index. Set so that about 9% of adults have an emergency
 * admission in a year (domain facts, section 6) with the other settings in their usual
 * proportion to it.
 */
export const BASE_RATE: Record<Setting, number> = {
  APC_NEL: 0.065,
  APC_EL: 0.045,
  APC_DC: 0.1,
  OP: 1.1,
  AE: 0.32,
};

/**
 * How steeply each setting's rate rises with the risk index: emergency admissions gather
 * among the oldest and most multimorbid far more than outpatient attendances do (our choice,
 * set so that the ground truth's own emergency admission risk ranks patients about as well as
 * the best published models and a little better: AUROC 0.82-0.85, against SPARRA v4's 0.80
 * and QAdmissions' 0.77, domain facts section 2.3).
 */
export const RISK_POWER: Record<Setting, number> = {
  APC_NEL: 1.25,
  APC_EL: 1,
  APC_DC: 1,
  OP: 1,
  AE: 1,
};

/** A setting's yearly event rate at a risk index, before the year's transient effect. */
export function eventRate(setting: Setting, risk: number): number {
  return BASE_RATE[setting] * Math.pow(risk, RISK_POWER[setting]);
}

/**
 * Spread (sigma of the log) of a mean-one log-normal on each event's cost: our choice, see 3,
 * kept narrow enough that the top 5% of adults carry about half of a year's cost, not more.
 */
export const COST_SPREAD: Record<Setting, number> = {
  APC_NEL: 0.6,
  APC_EL: 0.6,
  APC_DC: 0.5,
  OP: 0.5,
  AE: 0.5,
};

/**
 * Gamma shape of the person effect (1): smaller is more spread out. Our choice, set with the
 * transient effect so that the oracle's prospective cost R^2 lies between 0.35 and 0.5, a little
 * above the best published models (ACG about 0.25-0.38, the Combined Predictive Model 0.2-0.3;
 * domain facts section 2.3), and a model of demographics and conditions alone near 0.2-0.3.
 */
export const PERSON_SHAPE = 6;

/**
 * The transient effect (2): year-on-year correlation and spread on the log scale. Our choice,
 * set so that about 30% of one year's top 5% by cost stay there the next year and about 45% are
 * in the top decile (Monheit 2003, above).
 */
export const TRANSIENT = { persistence: 0.5, sigma: 0.75 } as const;

/**
 * The catastrophic spell (4): yearly chance = base * (risk index)^power, capped; cost Pareto
 * with this minimum and shape (mean = shape * minimum / (shape - 1)); a long stay.
 */
export const CATASTROPHE = {
  base: 0.0015,
  power: 0.6,
  cap: 0.05,
  minimumCost: 12_000,
  shape: 2.3,
  stayDays: [14, 60],
} as const;
const CATASTROPHE_MEAN = (CATASTROPHE.shape * CATASTROPHE.minimumCost) / (CATASTROPHE.shape - 1);

const CONDITION_EFFECT: Record<string, number> = {
  heart_failure: 0.75,
  cancer: 0.65,
  copd: 0.55,
  dementia: 0.5,
  ckd_3_5: 0.45,
  chronic_liver_disease: 0.55,
  coronary_heart_disease: 0.4,
  atrial_fibrillation: 0.4,
  stroke_tia: 0.4,
  diabetes: 0.35,
  parkinsons_disease: 0.45,
  peripheral_vascular_disease: 0.4,
  alcohol_problems: 0.45,
  substance_misuse: 0.45,
  schizophrenia_bipolar: 0.35,
  epilepsy: 0.35,
  multiple_sclerosis: 0.4,
  bronchiectasis: 0.35,
  inflammatory_bowel_disease: 0.35,
};
const DEFAULT_CONDITION_EFFECT = 0.18;
/**
 * Each further condition adds less: the conditions' summed effects S enter the risk index as
 * C * tanh(S / C), close to S for a few conditions and never more than C. Unbounded, fifteen
 * conditions multiplied a patient's hospital use a thousandfold.
 */
const CONDITION_CEILING = 2.5;

const AGE_FACTOR = (age: number) =>
  age < 5 ? 0.8 : age < 18 ? 0.35 : age < 45 ? 0.45 : age < 65 ? 0.7 : age < 75 ? 1.1 : age < 85 ? 1.6 : 2.1;

/**
 * A patient's yearly risk index: what the record (age, sex, deprivation, conditions and
 * deficits begun by then) and the person effect say of hospital use, before the year's luck.
 * Deprivation: 0.04 on the log scale per IMD decile from the middle.
 */
export function riskIndex(p: {
  age: number;
  sex: string;
  imdDecile: number;
  conditions: string[];
  deficits: number;
  personEffect: number;
}): number {
  let conditionsLp = 0;
  for (const id of p.conditions) conditionsLp += CONDITION_EFFECT[id] ?? DEFAULT_CONDITION_EFFECT;
  const lp =
    0.0405 * (5.5 - p.imdDecile) +
    CONDITION_CEILING * Math.tanh(conditionsLp / CONDITION_CEILING) +
    0.06 * p.deficits;
  return AGE_FACTOR(p.age) * (p.sex === 'M' ? 1.05 : 1) * Math.exp(lp) * p.personEffect;
}

/** Expected cost of the ordinary events in a year at a risk index, before the transient effect. */
export function ordinaryCost(risk: number): number {
  let cost = 0;
  for (const setting of SETTINGS) cost += UNIT_COST[setting] * eventRate(setting, risk);
  return cost;
}
const SETTINGS = Object.keys(UNIT_COST) as Setting[];

export function drawPersonEffect(rng: Rng): number {
  return rng.gamma(PERSON_SHAPE, 1 / PERSON_SHAPE);
}

/**
 * The transient effect's log values for `years` consecutive years, oldest first, starting
 * from the stationary distribution: a[t] = rho * a[t-1] + sqrt(1 - rho^2) * sigma * e[t].
 */
export function drawTransientPath(rng: Rng, years: number): number[] {
  const { persistence: rho, sigma } = TRANSIENT;
  const innovation = Math.sqrt(1 - rho * rho) * sigma;
  const path: number[] = [];
  let a = sigma * rng.normal();
  for (let t = 0; t < years; t++) {
    path.push(a);
    a = rho * a + innovation * rng.normal();
  }
  return path;
}

/** The multiplier on the year's event rates: mean one over the stationary distribution. */
export function transientMultiplier(a: number): number {
  return Math.exp(a - (TRANSIENT.sigma * TRANSIENT.sigma) / 2);
}

/**
 * The next year's multiplier as seen from the start of that year, knowing last year's value:
 * its log is normal with mean rho * a - sigma^2 / 2 and spread sqrt(1 - rho^2) * sigma.
 */
function nextLogMultiplier(previous: number | null): { mean: number; sd: number } {
  const { persistence: rho, sigma } = TRANSIENT;
  if (previous === null) return { mean: -(sigma * sigma) / 2, sd: sigma };
  return { mean: rho * previous - (sigma * sigma) / 2, sd: Math.sqrt(1 - rho * rho) * sigma };
}

export function catastropheChance(risk: number): number {
  return Math.min(CATASTROPHE.cap, CATASTROPHE.base * Math.pow(risk, CATASTROPHE.power));
}

export function drawCatastropheCost(rng: Rng): number {
  return CATASTROPHE.minimumCost / Math.pow(1 - rng.next(), 1 / CATASTROPHE.shape);
}

// A standard normal integrated on a fine grid: the trapezoid rule on a smooth, fast-vanishing
// density is accurate far beyond what the ground truth prints.
const GRID = Array.from({ length: 81 }, (_, k) => -6 + (12 * k) / 80);
const GRID_WEIGHTS = (() => {
  const w = GRID.map((z) => Math.exp(-(z * z) / 2));
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
})();

export interface YearOutlook {
  expectedCost: number;
  pEmergencyAdmission: number;
}

/**
 * What can be expected of a year, knowing the risk index at its start and the transient
 * effect of the year before it (null where there is no year before: the stationary spread).
 */
export function outlook(risk: number, previousTransient: number | null): YearOutlook {
  const { mean, sd } = nextLogMultiplier(previousTransient);
  const expectedMultiplier = Math.exp(mean + (sd * sd) / 2);
  const pCatastrophe = catastropheChance(risk);
  // No emergency admission: no ordinary one (Poisson, given the multiplier) and no catastrophe.
  let pNone = 0;
  for (let k = 0; k < GRID.length; k++)
    pNone += GRID_WEIGHTS[k]! * Math.exp(-eventRate('APC_NEL', risk) * Math.exp(mean + sd * GRID[k]!));
  return {
    expectedCost: ordinaryCost(risk) * expectedMultiplier + pCatastrophe * CATASTROPHE_MEAN,
    pEmergencyAdmission: 1 - pNone * (1 - pCatastrophe),
  };
}
