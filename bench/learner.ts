// A second opinion for bench:models: gradient-boosted trees (XGBoost, compiled to WebAssembly in
// the ml-xgboost package, so it runs offline) on the same adults, dates and outcomes as the
// GLMs, to say whether a stronger learner would find the high cost cohort materially better.
// Trees take the raw record (age, conditions, frailty, activity by setting) and find the
// interactions themselves; the GLMs take the designed features and the experience rating.
import { createRequire } from 'node:module';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readColumns } from '../src/db.ts';
import { conditionIds } from '../src/model-features.ts';

interface Booster {
  train(rows: number[][], values: number[]): void;
  predict(rows: number[][]): number[];
  free(): void;
}
type BoosterClass = new (options: Record<string, unknown>) => Booster;

// ml-xgboost exports a promise of the class, once its WebAssembly module is ready.
const loadBooster = (): Promise<BoosterClass> => createRequire(import.meta.url)('ml-xgboost');

export const LEARNER = {
  package: 'ml-xgboost',
  objective: 'reg:tweedie',
  tweedie_variance_power: 1.3,
  max_depth: 4,
  eta: 0.1,
  subsample: 0.8,
  colsample_bytree: 0.8,
  min_child_weight: 20,
  iterations: 150,
  /**
   * Adults sampled to fit on: the package's WebAssembly build has a fixed memory, and fitting on
   * 40,000 adults runs out of it. The GLMs fit on up to 120,000, so the trees start behind.
   */
  sampleSize: 20_000,
} as const;

const FEATURES = [
  'p.age::DOUBLE as age',
  "(p.sex = 'M')::DOUBLE as male",
  'coalesce(f.imd_decile, 5.5)::DOUBLE as imd_decile',
  'coalesce(f.condition_count, 0)::DOUBLE as condition_count',
  'coalesce(f.efi_score, 0)::DOUBLE as efi_score',
  "(case coalesce(f.coded_frailty, 'none') when 'severe' then 3 when 'moderate' then 2 when 'mild' then 1 else 0 end)::DOUBLE as coded_frailty",
  'coalesce(f.distinct_drugs_12m, 0)::DOUBLE as distinct_drugs_12m',
  'coalesce(f.hfrs, 0)::DOUBLE as hfrs',
  'coalesce(f.prior_cost_12m, 0)::DOUBLE as prior_cost_12m',
  'coalesce(f.prior_emergency_admissions, 0)::DOUBLE as prior_emergency_admissions',
  'coalesce(f.prior_elective_admissions, 0)::DOUBLE as prior_elective_admissions',
  'coalesce(f.prior_day_cases, 0)::DOUBLE as prior_day_cases',
  'coalesce(f.prior_outpatient, 0)::DOUBLE as prior_outpatient',
  'coalesce(f.prior_ae, 0)::DOUBLE as prior_ae',
  '(f.history_events / f.history_years)::DOUBLE as history_events_a_year',
  ...conditionIds.map((_, k) => `((coalesce(f.condition_bits, 0)::BIGINT >> ${k}) & 1)::DOUBLE as c${k}`),
];
const NAMES = FEATURES.map((f) => f.slice(f.lastIndexOf(' as ') + 4));

interface Rows {
  pseudoIds: string[];
  x: number[][];
  cost: number[];
}

/** Adults at a reference date; with `outcome`, only those still registered a year later, with their cost. */
async function read(conn: DuckDBConnection, ref: string, outcome: boolean, limit: number | null) {
  const raw = await readColumns(
    conn,
    `select f.pseudo_id, ${FEATURES.join(', ')}, coalesce(f.next_cost_12m, 0)::DOUBLE as next_cost
     from patient_features f
     join population p on p.ref = f.ref and p.patient_key = f.patient_key
     ${
       outcome
         ? `join reference_date at_date on at_date.ref = f.ref
            join reference_date year_end on year_end.years_back = at_date.years_back - 1
            semi join population still on still.ref = year_end.ref and still.patient_key = f.patient_key`
         : ''
     }
     where f.ref = $ref ${outcome ? 'and f.next_cost_12m is not null' : ''}
     order by hash(f.pseudo_id || 'learner'), f.pseudo_id
     ${limit === null ? '' : `limit ${Math.floor(limit)}`}`,
    { ref },
  );
  const pseudoIds = raw.pseudo_id as string[];
  const columns = NAMES.map((n) => raw[n] as number[]);
  const x = pseudoIds.map((_, i) => columns.map((c) => c[i]!));
  return { pseudoIds, x, cost: raw.next_cost as number[] } satisfies Rows;
}

async function fitAndScore(conn: DuckDBConnection, fitRef: string, scoreRef: string, scoreOutcome: boolean) {
  const Booster = await loadBooster();
  const fit = await read(conn, fitRef, true, LEARNER.sampleSize);
  const { package: _package, sampleSize: _size, ...options } = LEARNER;
  const booster = new Booster({ booster: 'gbtree', silent: 1, ...options });
  try {
    booster.train(fit.x, fit.cost);
    const score = await read(conn, scoreRef, scoreOutcome, null);
    // In slices, for the same fixed memory.
    const predicted: number[] = [];
    for (let i = 0; i < score.x.length; i += 2000)
      predicted.push(...booster.predict(score.x.slice(i, i + 2000)));
    return { ...score, predicted };
  } finally {
    booster.free();
  }
}

/**
 * The trees fitted a year back and scored at the fitting date of today's models (the backtest,
 * on adults still registered a year on), and fitted on the latest complete year and scored today.
 */
export async function boostedTrees(conn: DuckDBConnection) {
  const backtest = await fitAndScore(conn, 'backtest', 'train', true);
  const today = await fitAndScore(conn, 'train', 'current', false);
  return { backtest, today };
}
