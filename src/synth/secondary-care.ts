// A synthetic patient's secondary-care activity, year by year over the history, drawn from
// the cost process (src/synth/cost-process.ts), and what the ground truth expects of the year
// before the as-of date and the year after it.
import type { Setting } from '../contract.ts';
import { addMonths } from './calendar.ts';
import type { Codebook } from './codebook.ts';
import {
  BASE_RATE,
  CATASTROPHE,
  catastropheChance,
  COST_SPREAD,
  drawCatastropheCost,
  drawTransientPath,
  eventRate,
  outlook,
  transientMultiplier,
  UNIT_COST,
  type YearOutlook,
} from './cost-process.ts';
import type { Rng } from './random.ts';

export interface ActivityEvent {
  setting: Setting;
  start: number;
  end: number | null;
  diagnoses: string[];
  /** Null: sent without a cost, so the unit cost applies. */
  cost: number | null;
}

/** Years of activity written before the as-of date. */
const HISTORY_YEARS = 4;
/** Share of lines a provider sends without a cost. */
const UNCOSTED = 0.05;

export interface SecondaryCare {
  activity: ActivityEvent[];
  /** The ground truth's outlook for the 12 months before the as-of date, and after it. */
  previousYear: YearOutlook;
  nextYear: YearOutlook;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function drawSecondaryCare(
  rng: Rng,
  book: Codebook,
  patient: {
    asOf: number;
    birthDay: number;
    /** Day the record stops (death or leaving LLR), else the as-of date. */
    stop: number;
    age: number;
    /** Latent frailty, which makes frailty diagnoses likelier on admission. */
    frailty: number;
    riskAt: (day: number) => number;
  },
): SecondaryCare {
  const { asOf, birthDay, stop, age } = patient;
  // One value of the transient effect per history year, oldest first.
  const transient = drawTransientPath(rng, HISTORY_YEARS);
  const activity: ActivityEvent[] = [];
  for (let y = HISTORY_YEARS - 1; y >= 0; y--) {
    const periodStart = addMonths(asOf, -12 * (y + 1));
    const periodEnd = addMonths(asOf, -12 * y);
    const r = patient.riskAt(periodStart);
    if (r <= 0) continue;
    const multiplier = transientMultiplier(transient[HISTORY_YEARS - 1 - y]!);
    const dayIn = () => rng.int(periodStart + 1, periodEnd);
    for (const setting of Object.keys(BASE_RATE) as Setting[]) {
      const k = rng.poisson(eventRate(setting, r) * multiplier);
      for (let i = 0; i < k; i++) {
        const start = dayIn();
        if (start > stop || start <= birthDay) continue;
        const los =
          setting === 'APC_NEL'
            ? rng.int(0, 2) + rng.poisson(3 * Math.max(0.3, age / 60))
            : setting === 'APC_EL'
              ? rng.int(1, 5)
              : 0;
        const end = setting.startsWith('APC') ? Math.min(start + los, asOf) : null;
        // A&E and outpatient lines carry a diagnosis now and then; the HFRS must not read them.
        const diagnoses =
          setting.startsWith('APC') || rng.chance(0.3)
            ? admissionDiagnoses(rng, book, patient.frailty, age)
            : [];
        const cost = rng.chance(UNCOSTED)
          ? null
          : cents(UNIT_COST[setting] * rng.lognormalUnitMean(COST_SPREAD[setting]));
        activity.push({ setting, start, end, diagnoses, cost });
      }
    }
    if (rng.chance(catastropheChance(r))) {
      const start = dayIn();
      const cost = cents(drawCatastropheCost(rng));
      if (start <= stop && start > birthDay) {
        const [shortest, longest] = CATASTROPHE.stayDays;
        activity.push({
          setting: 'APC_NEL',
          start,
          end: Math.min(start + rng.int(shortest, longest), asOf),
          diagnoses: admissionDiagnoses(rng, book, patient.frailty, age),
          // Always costed: no unit cost stands in for a spell like this.
          cost,
        });
      }
    }
  }
  return {
    activity,
    previousYear: outlook(patient.riskAt(addMonths(asOf, -12)), transient[HISTORY_YEARS - 2]!),
    nextYear: outlook(patient.riskAt(asOf), transient[HISTORY_YEARS - 1]!),
  };
}

function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

function admissionDiagnoses(rng: Rng, book: Codebook, f: number, age: number): string[] {
  const frailShare = sigmoid(-2.6 + 0.9 * f + (age >= 75 ? 1.2 : age >= 65 ? 0.6 : 0));
  const out: string[] = [];
  const n = 1 + rng.poisson(age >= 65 ? 2 : 0.8);
  for (let i = 0; i < n; i++)
    out.push(rng.chance(frailShare) ? rng.pick(book.hfrsCodes) : rng.pick(book.otherIcd10));
  return out.map((c) => (rng.chance(0.5) ? c + rng.pick(['0', '1', '8', '9', 'X']) : c));
}

/** Events and cost that fall in (from, to]: the realised figures of a year. */
export function realisedIn(activity: ActivityEvent[], from: number, to: number) {
  let cost = 0;
  let emergency = false;
  for (const a of activity) {
    if (a.start <= from || a.start > to) continue;
    cost += a.cost ?? UNIT_COST[a.setting];
    if (a.setting === 'APC_NEL') emergency = true;
  }
  return { cost, emergency };
}
