// The two models behind the high-cost cohort, the risk tiers and the admission risk: next-year
// secondary-care cost (log-link GLM) and emergency admission (logistic GLM), fitted on the
// population itself a year back, backtested out of time on every run, applied today.
//
// Family: Tweedie quasi-likelihood (variance mu^power, power from the configuration). On the
// first version of the synthetic population at scale 0.1 it backtested better than Poisson (R² 0.77 against 0.75
// with the same features, and closer calibration in the lowest deciles): with variance
// growing faster than the mean, the handful of patients costing six figures pull the fit less
// far from everyone else, while the log link still carries them multiplicatively. The default
// power is 1.3: on the current populations (0.1x, seeds 7, 8, 9) the 3x cohort's Jaccard index was
// 0.801-0.802, 0.805-0.806 and 0.812 at 1.2 and 1.3, and 0.799, 0.804, 0.811 at 1.5.
//
// Features: the activity counts by setting are summarised by one experience-rating term (see
// fitExperience) rather than entered one by one; the separate log counts backtested worse
// (R² 0.77 against 0.84, same population), because each on its own can only scale the prediction by a fixed
// factor, whatever the clinical record says to expect.
import { join } from 'node:path';
import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import { conditions } from '../pipeline/conditions.ts';
import { EFI_VALIDATED_FROM_AGE, HFRS } from '../pipeline/frailty.ts';
import { queryRows, readColumns, type RawColumns } from './db.ts';
import {
  describeFit,
  encode,
  learnEncoding,
  predictSql,
  type Columns,
  type Encoding,
  type Family,
  type FeatureSpec,
  type FitTerm,
  type GlmFit,
} from './glm.ts';
import {
  auroc,
  calibrationByDecile,
  confusion,
  meanAbsoluteError,
  orderBy,
  rSquared,
  shareByGroup,
  type CalibrationDecile,
  type GroupShare,
} from './model-metrics.ts';
import type { RunContext } from './stage.ts';
import { openGlmPool, type GlmPool } from './glm-pool.ts';
import { writeFileDurable } from './publish.ts';

export const COST_FAMILY: Family = 'tweedie';

const conditionIds = conditions.map((c) => c.id);
function conditionColumn(id: string): string {
  return `condition:${id}`;
}
const CONDITION_COLUMNS = conditionIds.map(conditionColumn);

const CATEGORICAL = ['age_band_sex', 'efi_category', 'coded_frailty'] as const;

// What is known about a patient before any use of hospital services: the first stage, which
// sets how much activity to expect of someone with this record. The squared condition count lets
// each further condition add less on the log scale, as it does in hospital use: with the count
// alone the backtest R² was 0.918, 0.908 and 0.925 of the oracle's at 0.1x (seeds 7, 8, 9), with
// the square 0.943, 0.946 and 0.945 (condition-count bands did about as well: 0.946, 0.931, 0.941).
//
// Deprivation enters as the IMD decile itself (risk rises steadily with deprivation) with a flag
// where it is unknown: one coefficient, where ten levels each estimated on their own added noise
// (Jaccard index of the 3x cohort 0.799, 0.804, 0.810 against 0.797, 0.800, 0.810).
const CLINICAL_NUMERIC = [
  'imd_decile',
  'imd_unknown',
  'condition_count',
  'condition_count_squared',
  'efi_score',
  'distinct_drugs_12m',
  ...CONDITION_COLUMNS,
];

// Cost and counts enter on the log scale: under a log link a linear term multiplies the
// prediction by a constant per event, which explodes for the few patients with dozens.
const ACTIVITY_NUMERIC = ['hfrs', 'log_prior_cost_12m', 'log_prior_emergency_admissions', 'experience'];

// The 0/1 columns, entered as they are (see FeatureSpec.flags): each coefficient is then the
// effect of having the condition, and the fit skips the rows without it.
const FLAGS = ['imd_unknown', ...CONDITION_COLUMNS];

const CLINICAL: FeatureSpec = { numeric: CLINICAL_NUMERIC, flags: FLAGS, categorical: [...CATEGORICAL] };
const FEATURES: FeatureSpec = {
  numeric: [...CLINICAL_NUMERIC, ...ACTIVITY_NUMERIC],
  flags: FLAGS,
  categorical: [...CATEGORICAL],
};

type Ref = 'current' | 'train' | 'backtest';

/** A fitting sample: adults at a reference date whose outcome year is complete. */
interface FeatureRows {
  n: number;
  columns: Columns;
  /** Secondary-care events of any kind in the history before the reference date. */
  events: Float64Array;
  /** The events the first stage expects over that history, year by year (see fitFirstStage). */
  expected: Float64Array;
  /** The outcome: cost and any emergency admission in the 12 months after the date. */
  cost: Float64Array;
  admitted: Float64Array;
}

/**
 * The model's inputs, as SQL over patient_features: nulls as 0, counts on the log scale (under
 * a log link a linear count would multiply the prediction by a constant per event), a flag per
 * condition from its bit in condition_bits. The fitting samples and the scoring both read these
 * columns, so they cannot drift apart. Read into JavaScript, the flags come as condition_bits and
 * are unpacked there (conditionFlags): one column instead of one per condition, which halved the
 * time to read a sample.
 */
function clinicalColumns(use: 'score' | 'read'): string {
  const conditionFlags =
    use === 'read'
      ? ['coalesce(condition_bits, 0)::DOUBLE as condition_bits']
      : conditionIds.map(
          (id, k) =>
            `((coalesce(condition_bits, 0)::BIGINT >> ${k}) & 1)::DOUBLE as ${quotedIdentifier(conditionColumn(id))}`,
        );
  return [
    // Identifiers for scoring; a sample read into JavaScript needs none.
    ...(use === 'score' ? ['pseudo_id', 'patient_key'] : []),
    'age_band_sex',
    // Where the LSOA has no decile: the middle one, and the flag says so.
    'coalesce(imd_decile, 5.5)::DOUBLE as imd_decile',
    '(imd_decile is null)::DOUBLE as imd_unknown',
    "coalesce(efi_category, '(missing)') as efi_category",
    "coalesce(coded_frailty, 'none') as coded_frailty",
    'coalesce(condition_count, 0)::DOUBLE as condition_count',
    '(coalesce(condition_count, 0) * coalesce(condition_count, 0))::DOUBLE as condition_count_squared',
    'coalesce(efi_score, 0)::DOUBLE as efi_score',
    'coalesce(distinct_drugs_12m, 0)::DOUBLE as distinct_drugs_12m',
    ...conditionFlags,
  ].join(',\n        ');
}

function featureColumns(use: 'score' | 'read'): string {
  return `${clinicalColumns(use)},
        coalesce(hfrs, 0)::DOUBLE as hfrs,
        ln(1 + coalesce(prior_cost_12m, 0)) as log_prior_cost_12m,
        ln(1 + coalesce(prior_emergency_admissions, 0)) as log_prior_emergency_admissions,
        coalesce(history_events, 0)::DOUBLE as history_events`;
}

/** Each condition's 0/1 column from condition_bits, as the SQL of clinicalColumns('score') has it. */
function conditionFlags(raw: RawColumns, columns: Columns): void {
  const bits = raw.condition_bits as number[];
  conditionIds.forEach((id, k) => {
    const flag = new Float64Array(bits.length);
    const weight = 2 ** k;
    // Bits above the 32nd are beyond JavaScript's bitwise operators: divide instead.
    for (let i = 0; i < bits.length; i++) flag[i] = Math.floor(bits[i]! / weight) % 2;
    columns[conditionColumn(id)] = flag;
  });
}

/** The adults at a reference date, with their expected history events (see fitFirstStage). */
function modelFeatures(): string {
  return `
    select
        ${featureColumns('score')},
        coalesce(e.expected_events, 0) as expected_events,
        next_cost_12m::DOUBLE as next_cost_12m,
        next_admitted::DOUBLE as next_admitted
    from patient_features
    left join ${EXPECTED_EVENTS} e using (ref, patient_key)
    where ref = $ref`;
}

function toFeatureRows(raw: RawColumns): FeatureRows {
  const n = raw.age_band_sex!.length;
  const num = (name: string) => Float64Array.from(raw[name] as number[]);
  const columns: Columns = {};
  for (const name of CATEGORICAL) columns[name] = raw[name] as (string | null)[];
  conditionFlags(raw, columns);
  // Every other numeric feature but the experience term, which is worked out from these.
  for (const name of FEATURES.numeric)
    if (name !== 'experience' && !(name in columns)) columns[name] = num(name);
  return {
    n,
    columns,
    events: num('history_events'),
    // Filled in by readExpected once the first stage has written them.
    expected: new Float64Array(n),
    cost: num('next_cost_12m'),
    admitted: num('next_admitted'),
  };
}

/**
 * Joins that keep the patients of `alias` (a table keyed on ref and patient_key) who are still
 * registered and alive at the next reference date, when their outcome year ends. The models
 * predict a full year; a leaver's or a death's year is cut short, and fitted on, those shortened
 * years teach the models to expect less of the old and the ill, who die most. Peer tools (ACG,
 * the Combined Predictive Model) likewise fit on people enrolled through the outcome year. On the
 * synthetic populations at 0.1x (seeds 7, 8, 9) it moved the 3x cohort's Jaccard index from
 * just under 0.8, 0.806 and 0.811 to 0.802, 0.805 and 0.812, and seed 7's lowest calibration
 * decile from 1.148 to 1.129 observed / predicted.
 */
function registeredThroughOutcomeYear(alias: string): string {
  return `join reference_date at_date on at_date.ref = ${alias}.ref
     join reference_date year_end on year_end.years_back = at_date.years_back - 1
     semi join population still on still.ref = year_end.ref and still.patient_key = ${alias}.patient_key`;
}

/**
 * The fitting sample: a deterministic pseudo-random subset, the same for the same data and
 * seed, in a fixed order so IRLS sums in the same order and gives identical coefficients. It is
 * drawn once, on the keys alone, into a temp table: its columns are worked out for the sample
 * only, and the expected events read later (readExpected) come for the same adults in the same
 * order.
 */
const sampleTable = (ref: Ref) => `model_sample_${ref}`;

async function readSample(
  conn: DuckDBConnection,
  ref: Ref,
  size: number,
  seed: number,
): Promise<FeatureRows> {
  await conn.run(
    `create or replace temp table ${sampleTable(ref)} as
     select f.patient_key, hash(f.pseudo_id || $seed) as draw, f.pseudo_id as tie
     from patient_features f
     ${registeredThroughOutcomeYear('f')}
     where f.ref = $ref and f.next_cost_12m is not null
     order by draw, tie
     limit $size`,
    { ref, seed: String(seed), size },
  );
  const raw = await readColumns(
    conn,
    `select ${featureColumns('read')}, next_cost_12m::DOUBLE as next_cost_12m, next_admitted::DOUBLE as next_admitted
     from patient_features
     join ${sampleTable(ref)} using (patient_key)
     where ref = $ref
     order by draw, tie`,
    { ref },
  );
  return toFeatureRows(raw);
}

/** The sample's expected history events, read once the first stage has written them. */
async function readExpected(conn: DuckDBConnection, ref: Ref, sample: FeatureRows): Promise<void> {
  const raw = await readColumns(
    conn,
    `select coalesce(e.expected_events, 0) as expected_events
     from ${sampleTable(ref)} s
     left join ${EXPECTED_EVENTS} e on e.ref = $ref and e.patient_key = s.patient_key
     order by s.draw, s.tie`,
    { ref },
  );
  sample.expected = Float64Array.from(raw.expected_events as number[]);
  await conn.run(`drop table ${sampleTable(ref)}`);
}

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
interface FirstStage {
  encoding: Encoding;
  /** Null where the delivery holds no complete year before the backtest's date. */
  fit: GlmFit | null;
  /** Patient-years the first stage was fitted on. */
  sampleRows: number;
}

interface Experience {
  firstStage: FirstStage;
  /** The gamma shape k; null with no first stage (the experience term is then 0). */
  shape: number | null;
}

// A shape this large makes the experience term vanish (no extra-Poisson variation to learn from).
const NO_OVERDISPERSION_SHAPE = 1e6;

/** Each patient's expected history events at the three model dates (see fitFirstStage). */
const EXPECTED_EVENTS = 'expected_history_events';

/**
 * The first stage: events in the year after each reference date before the backtest's, on the
 * record at that date, for patients of every age (a seeded sample of patient-years). Fitted once,
 * on nothing later than the backtest's date, it serves the backtest and today's model alike. It
 * then writes every adult's expected events over the history before each model date: each
 * history year's rate from the record at its start (the record on the model date where the
 * patient was not registered then), weighted by how much of that year the history covers.
 */
async function fitFirstStage(
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
function shapeOf(sample: FeatureRows): number {
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

function addExperience(rows: FeatureRows, shape: number | null): void {
  const col = new Float64Array(rows.n);
  if (shape !== null)
    for (let i = 0; i < rows.n; i++)
      col[i] = Math.log((shape + rows.events[i]!) / (shape + rows.expected[i]!));
  rows.columns.experience = col;
}

interface FittedPair {
  experience: Experience;
  ref: Ref;
  encoding: Encoding;
  cost: GlmFit;
  admission: GlmFit;
  sampleRows: number;
  sampleMeanCost: number;
  sampleAdmissionRate: number;
}

async function fitPair(
  ctx: RunContext,
  pool: GlmPool,
  ref: Ref,
  sample: FeatureRows,
  firstStage: FirstStage,
  costFamily: Family,
): Promise<FittedPair> {
  const { ridge, tweediePower } = ctx.config.model;
  if (sample.n === 0)
    throw new Error(`cost model: no adults with a complete outcome year at the ${ref} date`);
  const experience: Experience = { firstStage, shape: firstStage.fit ? shapeOf(sample) : null };
  addExperience(sample, experience.shape);
  const encoding = learnEncoding(sample.columns, FEATURES);
  const design = encode(sample.columns, encoding, sample.n);
  const [cost, admission] = await Promise.all([
    pool.fit(design, sample.cost, {
      family: costFamily,
      ridge,
      ...(costFamily === 'tweedie' ? { tweediePower } : {}),
    }),
    pool.fit(design, sample.admitted, { family: 'binomial', ridge }),
  ]);
  return {
    experience,
    ref,
    encoding,
    cost,
    admission,
    sampleRows: sample.n,
    sampleMeanCost: mean(sample.cost),
    sampleAdmissionRate: mean(sample.admitted),
  };
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length > 0 ? s / xs.length : NaN;
}

/**
 * Scores every adult at a reference date into a temp table (pseudo_id, the two predictions,
 * the outcomes where known), in the database: a million rows never come out to JavaScript.
 * The experience term is worked out as addExperience does, from the first stage in SQL.
 */
async function scoreInDatabase(ctx: RunContext, pair: FittedPair, ref: Ref, table: string): Promise<void> {
  const { experience } = pair;
  const cost = predictSql(pair.cost, pair.encoding, 'cost', quotedIdentifier);
  const admission = predictSql(pair.admission, pair.encoding, 'admission', quotedIdentifier);
  const rating =
    experience.shape === null ? '0::DOUBLE' : 'ln(($shape + history_events) / ($shape + expected_events))';
  await ctx.conn.run(
    `create or replace temp table ${quotedIdentifier(table)} as
     with features as (${modelFeatures()}),
     rated as (select *, ${rating} as experience from features)
     select pseudo_id, ${cost.sql} as predicted_cost_12m, ${admission.sql} as admission_probability_12m,
            next_cost_12m, next_admitted
     from rated`,
    {
      ...cost.params,
      ...admission.params,
      ...(experience.shape === null ? {} : { shape: experience.shape }),
      ref,
    },
  );
}

async function writePredictions(
  ctx: RunContext,
  pair: FittedPair,
): Promise<{ adults: number; meanPredicted: number }> {
  await scoreInDatabase(ctx, pair, 'current', 'scored_current');
  await ctx.conn.run(`create or replace table patient_prediction as
    select pseudo_id, predicted_cost_12m, admission_probability_12m from scored_current`);
  await ctx.conn.run('drop table scored_current');
  const [row] = await queryRows<{ adults: number; mean: number | null }>(
    ctx.conn,
    // Summed as exact decimals: a float sum would depend on the order threads add in.
    `select count(*) as adults, (sum(predicted_cost_12m::DECIMAL(38, 8)) / count(*))::DOUBLE as mean
     from patient_prediction`,
  );
  return { adults: row!.adults, meanPredicted: row!.mean ?? NaN };
}

export interface Validation {
  patients: number;
  cost: {
    r_squared: number;
    mean_absolute_error: number;
    mean_observed: number;
    mean_predicted: number;
    calibration_by_decile: CalibrationDecile[];
  };
  high_cost: {
    multiple: number;
    predicted_threshold: number;
    observed_threshold: number;
    auroc: number;
    flagged: number;
    observed_cases: number;
    ppv: number | null;
    sensitivity: number | null;
    specificity: number | null;
  };
  admission: { auroc: number; mean_predicted: number; observed_rate: number };
  tiers: GroupShare<string>[];
  /**
   * The same measures for the adults still registered and alive when the outcome year ends: a
   * leaver's or a death's year is cut short, which no model of a full year can foresee. Peer
   * tools (ACG, the Combined Predictive Model) report their figures on this population.
   */
  still_registered: {
    patients: number;
    cost: {
      r_squared: number;
      mean_observed: number;
      mean_predicted: number;
      calibration_by_decile: CalibrationDecile[];
    };
    high_cost_auroc: number;
    admission_auroc: number;
  };
}

/**
 * Tier by rank of predicted cost, with the cut-offs patient_list.sql uses. Rows are in
 * pseudo_id order, so breaking ties by position breaks them by pseudo_id, as it does.
 */
function tiersOf(predicted: Float64Array, tiers: RunContext['config']['tiers']): string[] {
  const n = predicted.length;
  const order = orderBy(
    predicted.map((v) => -v),
    'tiers',
  );
  const out = new Array<string>(n);
  order.forEach((row, k) => {
    const rank = k + 1;
    out[row] =
      rank <= Math.ceil(tiers.veryHigh * n)
        ? 'very high'
        : rank <= Math.ceil(tiers.high * n)
          ? 'high'
          : rank <= Math.ceil(tiers.moderate * n)
            ? 'moderate'
            : 'low';
  });
  return out;
}

async function validate(ctx: RunContext, pair: FittedPair): Promise<Validation> {
  await scoreInDatabase(ctx, pair, 'train', 'scored_backtest');
  // In pseudo_id order, so the metrics break ties as they always have; with whether each
  // adult is in the population at the as-of date (still registered and alive).
  const scored = await readColumns(
    ctx.conn,
    `select s.predicted_cost_12m, s.admission_probability_12m, s.next_cost_12m, s.next_admitted,
            c.pseudo_id is not null as stayed
     from scored_backtest s
     left join population c on c.ref = 'current' and c.pseudo_id = s.pseudo_id
     order by s.pseudo_id`,
  );
  await ctx.conn.run('drop table scored_backtest');
  const column = (name: string) => Float64Array.from(scored[name] as number[]);
  const predicted = column('predicted_cost_12m');
  const observed = column('next_cost_12m');
  const admissionP = column('admission_probability_12m');
  const admitted = column('next_admitted');
  const stayed = scored.stayed as boolean[];
  const n = predicted.length;
  const multiple = ctx.config.cohorts.highCostMultiple;
  const meanPredicted = mean(predicted);
  const meanObserved = mean(observed);
  const predictedThreshold = multiple * meanPredicted;
  const observedThreshold = multiple * meanObserved;
  const flags = new Uint8Array(n);
  const truth = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    flags[i] = predicted[i]! >= predictedThreshold ? 1 : 0;
    truth[i] = observed[i]! >= observedThreshold ? 1 : 0;
  }
  const table = confusion(flags as unknown as ArrayLike<0 | 1>, truth as unknown as ArrayLike<0 | 1>);
  return {
    patients: n,
    cost: {
      r_squared: rSquared(observed, predicted),
      mean_absolute_error: meanAbsoluteError(observed, predicted),
      mean_observed: meanObserved,
      mean_predicted: meanPredicted,
      calibration_by_decile: calibrationByDecile(predicted, observed),
    },
    high_cost: {
      multiple,
      predicted_threshold: predictedThreshold,
      observed_threshold: observedThreshold,
      auroc: auroc(predicted, truth),
      flagged: table.tp + table.fp,
      observed_cases: table.tp + table.fn,
      ppv: table.ppv,
      sensitivity: table.sensitivity,
      specificity: table.specificity,
    },
    admission: {
      auroc: auroc(admissionP, admitted),
      mean_predicted: mean(admissionP),
      observed_rate: mean(admitted),
    },
    tiers: shareByGroup(observed, tiersOf(predicted, ctx.config.tiers)),
    still_registered: stillRegistered(stayed, predicted, observed, admissionP, admitted, multiple),
  };
}

function stillRegistered(
  stayed: boolean[],
  predicted: Float64Array,
  observed: Float64Array,
  admissionP: Float64Array,
  admitted: Float64Array,
  multiple: number,
): Validation['still_registered'] {
  const keep = (xs: Float64Array) => Float64Array.from(xs.filter((_, i) => stayed[i]));
  const [p, o, ap, a] = [keep(predicted), keep(observed), keep(admissionP), keep(admitted)];
  const threshold = multiple * mean(o);
  return {
    patients: p.length,
    cost: {
      r_squared: rSquared(o, p),
      mean_observed: mean(o),
      mean_predicted: mean(p),
      calibration_by_decile: calibrationByDecile(p, o),
    },
    high_cost_auroc: auroc(
      p,
      Array.from(o, (v) => (v >= threshold ? 1 : 0)),
    ),
    admission_auroc: auroc(ap, a),
  };
}

function fitSummary(fit: GlmFit, encoding: Encoding) {
  return {
    family: fit.family,
    link: fit.family === 'binomial' ? 'logit' : 'log',
    ...(fit.tweediePower !== undefined ? { tweedie_power: fit.tweediePower } : {}),
    iterations: fit.iterations,
    converged: fit.converged,
    deviance: fit.deviance,
    null_deviance: fit.nullDeviance,
    deviance_explained: fit.nullDeviance > 0 ? 1 - fit.deviance / fit.nullDeviance : null,
    dropped: fit.dropped,
    coefficients: describeFit(fit, encoding),
  };
}

export async function fitModels(ctx: RunContext): Promise<void> {
  const periods = await queryRows<{ ref: Ref; ref_date: string }>(
    ctx.conn,
    `select ref, strftime(ref_date, '%Y-%m-%d') as ref_date from reference_date order by ref_date`,
  );
  const dateOf = (ref: Ref): string => periods.find((p) => p.ref === ref)?.ref_date ?? '';

  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    ctx.log.debug('model step', { step, seconds: (performance.now() - started) / 1000 });
    return result;
  };
  const { sampleSize, seed } = ctx.config.model;
  const pool = openGlmPool();
  let backtest: FittedPair;
  let model: FittedPair;
  try {
    const samples: Partial<Record<Ref, FeatureRows>> = {};
    const firstStage = await timed('first stage and samples', () =>
      fitFirstStage(ctx, pool, async () => {
        samples.backtest = await readSample(ctx.conn, 'backtest', sampleSize, seed);
        samples.train = await readSample(ctx.conn, 'train', sampleSize, seed);
      }),
    );
    for (const ref of ['backtest', 'train'] as const) await readExpected(ctx.conn, ref, samples[ref]!);
    // The backtest's models and today's are independent: fitted side by side.
    [backtest, model] = await timed('fit', () =>
      Promise.all([
        fitPair(ctx, pool, 'backtest', samples.backtest!, firstStage, COST_FAMILY),
        fitPair(ctx, pool, 'train', samples.train!, firstStage, COST_FAMILY),
      ]),
    );
  } finally {
    await pool.close();
  }
  const validation = await timed('validate', () => validate(ctx, backtest));
  const current = await timed('score', () => writePredictions(ctx, model));
  for (const [label, pair] of [
    ['applied', model],
    ['backtest', backtest],
  ] as const) {
    for (const fit of [pair.cost, pair.admission])
      if (!fit.converged)
        ctx.log.warn('model did not converge', {
          model: label,
          family: fit.family,
          iterations: fit.iterations,
        });
  }

  const multiple = ctx.config.cohorts.highCostMultiple;
  const models = {
    features: { numeric: FEATURES.numeric, categorical: FEATURES.categorical },
    ridge: ctx.config.model.ridge,
    tweedie_power_tested: ctx.config.model.tweediePower,
    sample: { size_limit: ctx.config.model.sampleSize, seed: ctx.config.model.seed },
    periods: {
      applied: {
        fitted_on: {
          features_at: dateOf('train'),
          outcome_from_after: dateOf('train'),
          outcome_to: dateOf('current'),
        },
        applied_at: dateOf('current'),
      },
      backtest: {
        fitted_on: {
          features_at: dateOf('backtest'),
          outcome_from_after: dateOf('backtest'),
          outcome_to: dateOf('train'),
        },
        scored_at: dateOf('train'),
        outcome_from_after: dateOf('train'),
        outcome_to: dateOf('current'),
      },
    },
    applied: {
      sample_rows: model.sampleRows,
      sample_mean_cost: model.sampleMeanCost,
      sample_admission_rate: model.sampleAdmissionRate,
      adults_scored: current.adults,
      mean_predicted_cost: current.meanPredicted,
      high_cost_threshold: multiple * current.meanPredicted,
      cost: fitSummary(model.cost, model.encoding),
      admission: fitSummary(model.admission, model.encoding),
    },
    experience_rating: {
      // One first stage serves both models: fitted on years that end by the backtest's date.
      first_stage: {
        fitted_on:
          'events in the year after each reference date before the backtest date, on the record at that date',
        sample_patient_years: model.experience.firstStage.sampleRows,
        ...(model.experience.firstStage.fit
          ? { fit: fitSummary(model.experience.firstStage.fit, model.experience.firstStage.encoding) }
          : {}),
      },
      gamma_shape: { applied: model.experience.shape, backtest: backtest.experience.shape },
    },
    backtest: {
      sample_rows: backtest.sampleRows,
      cost: fitSummary(backtest.cost, backtest.encoding),
      admission: fitSummary(backtest.admission, backtest.encoding),
      validation,
    },
  };
  ctx.manifest.models = models;
  writeFileDurable(join(ctx.runDir, 'model-card.md'), modelCard(ctx, models, validation, model));
  ctx.log.info('models fitted', {
    adults_scored: current.adults,
    backtest_r_squared: round(validation.cost.r_squared, 3),
    backtest_high_cost_auroc: round(validation.high_cost.auroc, 3),
    backtest_admission_auroc: round(validation.admission.auroc, 3),
  });
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : NaN;
}
const fmt = (x: number | null, digits = 3): string =>
  x === null || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
const pounds = (x: number): string => `£${Math.round(x).toLocaleString('en-GB')}`;
const pct = (x: number | null, digits = 1): string =>
  x === null || !Number.isFinite(x) ? 'n/a' : `${(100 * x).toFixed(digits)}%`;
const sig = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(4))) : 'n/a');

function coefficientTable(terms: FitTerm[], ratioLabel: string): string {
  const lines = [`| term | coefficient | ${ratioLabel} | compared with |`, '|---|---:|---:|---|'];
  for (const t of terms)
    lines.push(`| ${t.term} | ${sig(t.coefficient)} | ${sig(t.rate_ratio)} | ${t.comparison} |`);
  return lines.join('\n');
}

function modelCard(
  ctx: RunContext,
  models: {
    periods: {
      applied: { fitted_on: { features_at: string; outcome_to: string }; applied_at: string };
      backtest: {
        fitted_on: { features_at: string; outcome_to: string };
        scored_at: string;
        outcome_to: string;
      };
    };
    applied: {
      sample_rows: number;
      adults_scored: number;
      mean_predicted_cost: number;
      high_cost_threshold: number;
    };
    backtest: { sample_rows: number };
  },
  v: Validation,
  model: FittedPair,
): string {
  const p = models.periods;
  const t = ctx.config.tiers;
  const r = v.still_registered;
  const card = [
    `# Model card: next-year cost and emergency admission`,
    '',
    `System: ${ctx.config.system.name} (${ctx.config.system.code}). As-of date ${p.applied.applied_at}.`,
    '',
    '## Intended use',
    '',
    'Ranking adults by predicted secondary-care cost and emergency-admission risk over the next 12 months, to',
    'support proactive care and population planning: practice risk lists, the predicted high-cost cohort, risk',
    'tiers and commissioner summaries. Not for individual clinical decisions: a prediction describes what is',
    'typical for patients with a similar record, not what will happen to this patient, and must be read',
    'alongside clinical judgement.',
    '',
    '## Models',
    '',
    `- Cost: generalised linear model, log link, Tweedie quasi-likelihood (variance power ${ctx.config.model.tweediePower}),`,
    '  fitted by iteratively reweighted least squares. Tweedie was chosen over Poisson because it backtested',
    '  better on the synthetic population (R² and calibration in the lowest deciles).',
    '- Emergency admission: logistic regression (binomial, logit link) on the same features, outcome at least one',
    '  emergency (non-elective) admission in the 12 months after the reference date.',
    `- Ridge penalty ${ctx.config.model.ridge} on standardised coefficients; categorical levels seen on fewer than 30`,
    '  sampled patients are pooled into "other". Together these keep correlated features (condition flags and',
    '  the condition count, cost and activity counts) and rare levels from producing unstable coefficients.',
    `- Fitted on a seeded random sample of at most ${ctx.config.model.sampleSize.toLocaleString('en-GB')} adults`,
    `  (seed ${ctx.config.model.seed}); the same data always gives the same coefficients. The sample holds adults`,
    '  still registered and alive when the outcome year ended, as peer tools fit on people enrolled through the',
    "  year: a leaver's or a death's shortened year would teach the models to expect less of the old and the ill.",
    '',
    '## Data periods',
    '',
    `- Applied model: features on ${p.applied.fitted_on.features_at}, outcome in the 12 months to ${p.applied.fitted_on.outcome_to};`,
    `  ${models.applied.sample_rows.toLocaleString('en-GB')} adults sampled; applied to ${models.applied.adults_scored.toLocaleString('en-GB')} adults on ${p.applied.applied_at}.`,
    `- Backtest model: features on ${p.backtest.fitted_on.features_at}, outcome in the 12 months to ${p.backtest.fitted_on.outcome_to};`,
    `  ${models.backtest.sample_rows.toLocaleString('en-GB')} adults sampled; scored on features at ${p.backtest.scored_at} against`,
    `  cost and admissions in the 12 months to ${p.backtest.outcome_to} (out of time: nothing after ${p.backtest.scored_at} was used to fit or score).`,
    '',
    '## Features',
    '',
    '- Categorical: age band x sex, eFI-style frailty category, coded frailty severity.',
    `- Flags (0/1): each of the ${conditionIds.length} chronic conditions, and an unknown IMD decile.`,
    '- Numeric (standardised): deprivation (IMD) decile (5.5 where unknown),',
    '  chronic condition count and its square (each further condition adding less),',
    '  eFI-style frailty score, distinct drugs in 12 months (polypharmacy), Hospital Frailty Risk Score,',
    '  log(1 + secondary-care cost) and log(1 + emergency admissions) in the last 12 months, and an',
    `  experience-rating term for all secondary-care activity (every setting) in the last ${ctx.config.model.experienceMonths} months`,
    '  (or as far back as the delivery holds, when that is less).',
    `- Experience rating: the term is log((k + events) / (k + expected events)), with k = ${model.experience.shape === null ? 'n/a (no history year to fit it on)' : sig(model.experience.shape)} estimated`,
    '  from the overdispersion of the counts, so a rarely seen patient stays near the average for their record and',
    '  a frequent attender is judged mostly by their own activity. Expected events come year by year from the',
    '  clinical record as it stood when each history year began (so someone who gathered conditions lately is',
    '  not expected to have used as much in earlier, healthier years), by a first-stage Poisson GLM of the events',
    `  in the year after each earlier reference date on the record at that date (${model.experience.firstStage.sampleRows.toLocaleString('en-GB')} patient-years of every age,`,
    '  none later than the backtest date).',
    '',
    '## Backtest (out of time)',
    '',
    `${v.patients.toLocaleString('en-GB')} adults.`,
    '',
    '| measure | value |',
    '|---|---:|',
    `| R² on cost | ${fmt(v.cost.r_squared)} |`,
    `| mean absolute error | ${pounds(v.cost.mean_absolute_error)} |`,
    `| mean observed cost | ${pounds(v.cost.mean_observed)} |`,
    `| mean predicted cost | ${pounds(v.cost.mean_predicted)} |`,
    `| ${v.high_cost.multiple}x flag: AUROC | ${fmt(v.high_cost.auroc)} |`,
    `| ${v.high_cost.multiple}x flag: positive predictive value | ${pct(v.high_cost.ppv)} |`,
    `| ${v.high_cost.multiple}x flag: sensitivity | ${pct(v.high_cost.sensitivity)} |`,
    `| ${v.high_cost.multiple}x flag: flagged / observed | ${v.high_cost.flagged.toLocaleString('en-GB')} / ${v.high_cost.observed_cases.toLocaleString('en-GB')} |`,
    `| emergency admission: AUROC | ${fmt(v.admission.auroc)} |`,
    `| emergency admission: mean predicted / observed rate | ${pct(v.admission.mean_predicted)} / ${pct(v.admission.observed_rate)} |`,
    '',
    `The ${v.high_cost.multiple}x flag compares predicted cost >= ${v.high_cost.multiple} x mean predicted with observed cost >= ${v.high_cost.multiple} x mean observed.`,
    '',
    `Of these adults, ${r.patients.toLocaleString('en-GB')} were still registered and alive when the outcome year ended; the`,
    "others' year was cut short by leaving or dying, which a model of a full year cannot foresee. On those",
    `still registered (the population peer tools report on): R² ${fmt(r.cost.r_squared)}, ${v.high_cost.multiple}x flag AUROC ${fmt(r.high_cost_auroc)},`,
    `emergency admission AUROC ${fmt(r.admission_auroc)}, mean predicted ${pounds(r.cost.mean_predicted)} against ${pounds(r.cost.mean_observed)} observed.`,
    '',
    '### Calibration by decile of predicted cost',
    '',
    'The standard error is how far the ratio would move by chance alone, from the spread of costs',
    'within the decile: a ratio within about two standard errors of 1 is consistent with a',
    'calibrated model.',
    '',
    '| decile | adults | mean predicted | mean observed | observed / predicted | standard error |',
    '|---:|---:|---:|---:|---:|---:|',
    ...v.cost.calibration_by_decile.map(
      (d) =>
        `| ${d.decile} | ${d.patients.toLocaleString('en-GB')} | ${pounds(d.mean_predicted)} | ${pounds(d.mean_observed)} | ${fmt(d.ratio, 2)} | ${fmt(d.ratio_standard_error, 3)} |`,
    ),
    '',
    '### Share of next-year cost by risk tier',
    '',
    `Tiers by rank of predicted cost: very high top ${pct(t.veryHigh)}, high to ${pct(t.high, 0)}, moderate to ${pct(t.moderate, 0)}, low the rest.`,
    '',
    '| tier | adults | share of observed cost |',
    '|---|---:|---:|',
    ...['very high', 'high', 'moderate', 'low'].map((tier) => {
      const g = v.tiers.find((x) => x.group === tier);
      return `| ${tier} | ${(g?.patients ?? 0).toLocaleString('en-GB')} | ${pct(g?.share ?? null)} |`;
    }),
    '',
    '## Published references, for comparison',
    '',
    '- ACG (Johns Hopkins) prospective cost R² about 0.25-0.38 (truncated costs).',
    '- UK Combined Predictive Model and PARR: R² about 0.2-0.3.',
    '- SPARRA v4 (Scotland, emergency admission): AUROC about 0.80. QAdmissions: AUROC about 0.77.',
    '',
    'These were measured on real records; figures here are not directly comparable (see limits).',
    '',
    '## Limits',
    '',
    '- Validated here only as well as the data allow: on synthetic deliveries the figures measure the pipeline',
    '  against a known generating model and say nothing about real-world accuracy.',
    '- No social-care, community, mental-health-trust or prescribing-cost data: cost is secondary care only.',
    '- The frailty score is an eFI-style open re-derivation, not the eFI; its codelists differ from the official ones.',
    `  The eFI was validated from age ${EFI_VALIDATED_FROM_AGE} and the HFRS (admitted-patient diagnoses only) from age ${HFRS.validatedFromAge};`,
    '  both are computed for every adult here.',
    '- The chronic conditions follow Cassell et al. 2018, except:',
    ...conditions.filter((c) => c.deviation).map((c) => `  - ${c.name}: ${c.deviation}.`),
    '- Fitted on the population itself one year back: a change in coding, counting or tariffs between years shifts',
    '  predictions, which the yearly backtest is there to reveal.',
    '- Adults only (18+ on the reference date). Predictions are for a full year registered: someone who dies or',
    '  leaves within it will cost less than predicted (the backtest reports both populations).',
    '',
    '## Coefficients (applied model)',
    '',
    'Numeric coefficients are per training standard deviation, and a flag (a condition, an unknown IMD decile)',
    'compares having it with not; ratios are exp(coefficient).',
    '',
    '### Cost',
    '',
    `Iterations ${model.cost.iterations}, ${model.cost.converged ? 'converged' : 'NOT converged'}; deviance explained ${pct(model.cost.nullDeviance > 0 ? 1 - model.cost.deviance / model.cost.nullDeviance : null)}.` +
      (model.cost.dropped.length
        ? ` Dropped (constant or collinear): ${model.cost.dropped.join(', ')}.`
        : ''),
    '',
    coefficientTable(describeFit(model.cost, model.encoding), 'rate ratio'),
    '',
    '### Emergency admission',
    '',
    `Iterations ${model.admission.iterations}, ${model.admission.converged ? 'converged' : 'NOT converged'}; deviance explained ${pct(model.admission.nullDeviance > 0 ? 1 - model.admission.deviance / model.admission.nullDeviance : null)}.` +
      (model.admission.dropped.length
        ? ` Dropped (constant or collinear): ${model.admission.dropped.join(', ')}.`
        : ''),
    '',
    coefficientTable(describeFit(model.admission, model.encoding), 'odds ratio'),
    '',
  ];
  return card.join('\n');
}
