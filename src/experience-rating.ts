// Experience rating: the first-stage Poisson GLM of how much secondary-care activity a
// patient's clinical record predicts, the gamma shape that says how far to trust their own
// history against it, and the experience term built from the two.
import { quotedIdentifier } from '@duckdb/node-api';
import { readColumns } from './db.ts';
import type { GlmFit } from './glm.ts';
import { encode, learnEncoding, predictSql, type Columns, type Encoding } from './glm-encoding.ts';
import type { GlmPool } from './glm-pool.ts';
import {
  CLINICAL,
  clinicalColumns,
  conditionFlags,
  EXPECTED_EVENTS,
  registeredThroughOutcomeYear,
  type FeatureRows,
} from './model-features.ts';
import type { RunContext } from './stage.ts';

/**
 * Experience rating. Every kind of hospital use scales with a patient's own, unobserved
 * propensity to use services, beyond what their conditions and frailty predict; in a
 * Poisson-gamma (negative binomial) model of the event count, the best estimate of that
 * propensity is (k + events) / (k + expected events), with k the gamma shape. The expected
 * events come from a Poisson GLM on the clinical record alone (the first stage), and k from the
 * method of moments (Var N = mu + mu^2 / k), so the weight given to a patient's own history
 * grows with how much history there is to go on: a rarely seen patient stays near the average
 * for their record, a frequent attender is judged mostly by their own activity. A plain
 * log-link term in the counts cannot express that shrinkage, and on the synthetic population it
 * left the heaviest users (most of the cost) under-predicted.
 *
 * Each history year's expected events come from the record as it stood when that year began:
 * someone who gathered conditions lately was expected to use less in the years before, and
 * judging those years by today's record under-reads their propensity.
 */
export interface FirstStage {
  encoding: Encoding;
  /** Null where the delivery holds no complete year before the backtest's date. */
  fit: GlmFit | null;
  /** Patient-years the first stage was fitted on. */
  sampleRows: number;
}

export interface Experience {
  firstStage: FirstStage;
  /** The gamma shape k; null with no first stage (the experience term is then 0). */
  shape: number | null;
}

// A shape this large makes the experience term vanish (no extra-Poisson variation to learn from).
const NO_OVERDISPERSION_SHAPE = 1e6;

/**
 * The first stage: events in the year after each reference date before the backtest's, on the
 * record at that date, for patients of every age (a seeded sample of patient-years). Fitted once,
 * on nothing later than the backtest's date, it serves the backtest and today's model alike. It
 * then writes every adult's expected events over the history before each model date: each
 * history year's rate from the record at its start (the record on the model date where the
 * patient was not registered then), weighted by how much of that year the history covers.
 */
export async function fitFirstStage(
  ctx: RunContext,
  pool: GlmPool,
  alongside: () => Promise<void>,
): Promise<FirstStage> {
  const { ridge, sampleSize, seed } = ctx.config.model;
  const raw = await readColumns(
    ctx.conn,
    `with sample as (
         select x.ref, x.patient_key, hash(x.pseudo_id || x.ref || $seed) as draw, x.pseudo_id as tie
         from patient_record x
         join reference_date r on r.ref = x.ref
         ${registeredThroughOutcomeYear('x')}
         where r.years_back > 2 and x.next_events is not null
         order by draw, tie, ref
         limit $size
     )
     select ${clinicalColumns('read')}, next_events::DOUBLE as next_events
     from patient_record
     join sample using (ref, patient_key)
     order by draw, tie, ref`,
    { seed: String(seed), size: sampleSize },
  );
  const n = raw.age_band_sex!.length;
  const columns: Columns = {};
  for (const name of CLINICAL.categorical) columns[name] = raw[name] as (string | null)[];
  conditionFlags(raw, columns);
  for (const name of CLINICAL.numeric)
    if (!(name in columns)) columns[name] = Float64Array.from(raw[name] as number[]);
  const encoding = learnEncoding(columns, CLINICAL);
  if (n === 0) {
    await alongside();
    await ctx.conn.run(
      `create or replace temp table ${EXPECTED_EVENTS} (ref VARCHAR, patient_key UBIGINT, expected_events DOUBLE)`,
    );
    return { encoding, fit: null, sampleRows: 0 };
  }
  const events = Float64Array.from(raw.next_events as number[]);
  // The fit runs in a worker thread: the database reads whatever else it can meanwhile.
  const [fit] = await Promise.all([
    pool.fit(encode(columns, encoding, n), events, { family: 'poisson', ridge }),
    alongside(),
  ]);
  const rate = predictSql(fit, encoding, 'first_stage', quotedIdentifier);
  await ctx.conn.run(
    `create or replace temp table ${EXPECTED_EVENTS} as
     with years as (
         -- Each history year of each model date: the reference date it began on, and the share
         -- of it inside the history window.
         select
             w.ref as at_ref,
             h.ref as record_ref,
             greatest(date_diff('day', greatest(h.ref_date, w.history_start), n.ref_date), 0)
                 / date_diff('day', h.ref_date, n.ref_date) as covered
         from history_window w
         join reference_date a on a.ref = w.ref
         join reference_date h
             on h.years_back > a.years_back
            and h.years_back <= a.years_back + ceil(getvariable('experience_months') / 12)
         join reference_date n on n.years_back = h.years_back - 1
     ),
     rates as (
         select ref, patient_key, ${rate.sql} as rate
         from (select ${clinicalColumns('score')}, ref from patient_record)
         where patient_key in (select patient_key from patient_features)
     )
     -- Summed as exact decimals: a float sum would depend on the order threads add in.
     select
         y.at_ref as ref,
         a.patient_key,
         sum((y.covered * coalesce(h.rate, a.rate))::DECIMAL(18, 9))::DOUBLE as expected_events
     from years y
     join rates a on a.ref = y.at_ref
     left join rates h on h.ref = y.record_ref and h.patient_key = a.patient_key
     semi join patient_features f on f.ref = a.ref and f.patient_key = a.patient_key
     group by all`,
    rate.params,
  );
  return { encoding, fit, sampleRows: n };
}

/** The gamma shape k by the method of moments, over a model sample's history events. */
export function shapeOf(sample: FeatureRows): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < sample.n; i++) {
    const mu = sample.expected[i]!;
    const r = sample.events[i]! - mu;
    num += mu * mu;
    den += r * r - sample.events[i]!;
  }
  return den > 0 ? Math.min(num / den, NO_OVERDISPERSION_SHAPE) : NO_OVERDISPERSION_SHAPE;
}

export function addExperience(rows: FeatureRows, shape: number | null): void {
  const col = new Float64Array(rows.n);
  if (shape !== null)
    for (let i = 0; i < rows.n; i++)
      col[i] = Math.log((shape + rows.events[i]!) / (shape + rows.expected[i]!));
  rows.columns.experience = col;
}
