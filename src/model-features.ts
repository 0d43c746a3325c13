// The cost and admission models' inputs: which columns they read from patient_features and
// patient_record and how each enters (flags, log scale, categorical levels), and drawing the
// seeded fitting samples of adults whose outcome year is complete.
import { quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import { conditions } from '../pipeline/conditions.ts';
import { readColumns, type RawColumns } from './db.ts';
import type { Columns, FeatureSpec } from './glm-encoding.ts';

export const conditionIds = conditions.map((c) => c.id);
export function conditionColumn(id: string): string {
  return `condition:${id}`;
}
const CONDITION_COLUMNS = conditionIds.map(conditionColumn);

export const CATEGORICAL = ['age_band_sex', 'efi_category', 'coded_frailty'] as const;

// What is known about a patient before any use of hospital services: the first stage, which
// sets how much activity to expect of someone with this record. The squared condition count lets
// each further condition add less on the log scale, as it does in hospital use.
//
// Deprivation enters as the IMD decile itself (risk rises steadily with deprivation) with a flag
// where it is unknown: one coefficient, where ten levels each estimated on their own added noise.
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
//
// Last year's contacts of every kind count beside its cost: how often someone is seen in
// hospital carries over to the next year apart from what each contact cost, which is why the
// Combined Predictive Model (Wennberg et al., King's Fund 2006) and PARR (Billings et al.,
// BMJ 2006;333:327) use prior outpatient, A&E and inpatient counts. It carries over only in
// part: the frequently admitted fall back towards the mean (Roland et al., BMJ 2005;330:289).
const ACTIVITY_NUMERIC = [
  'hfrs',
  'log_prior_cost_12m',
  'log_prior_emergency_admissions',
  'log_prior_events_12m',
  'experience',
];

// The 0/1 columns, entered as they are (see FeatureSpec.flags): each coefficient is then the
// effect of having the condition, and the fit skips the rows without it.
const FLAGS = ['imd_unknown', ...CONDITION_COLUMNS];

export const CLINICAL: FeatureSpec = {
  numeric: CLINICAL_NUMERIC,
  flags: FLAGS,
  categorical: [...CATEGORICAL],
};
export const FEATURES: FeatureSpec = {
  numeric: [...CLINICAL_NUMERIC, ...ACTIVITY_NUMERIC],
  flags: FLAGS,
  categorical: [...CATEGORICAL],
};

export type Ref = 'current' | 'train' | 'backtest';

/** A fitting sample: adults at a reference date whose outcome year is complete. */
export interface FeatureRows {
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
export function clinicalColumns(use: 'score' | 'read'): string {
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
        ln(1 + coalesce(prior_emergency_admissions, 0) + coalesce(prior_elective_admissions, 0)
          + coalesce(prior_day_cases, 0) + coalesce(prior_outpatient, 0) + coalesce(prior_ae, 0))
          as log_prior_events_12m,
        coalesce(history_events, 0)::DOUBLE as history_events`;
}

/** Each condition's 0/1 column from condition_bits, as the SQL of clinicalColumns('score') has it. */
export function conditionFlags(raw: RawColumns, columns: Columns): void {
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
export function modelFeatures(): string {
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
export function registeredThroughOutcomeYear(alias: string): string {
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

export async function readSample(
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
export async function readExpected(conn: DuckDBConnection, ref: Ref, sample: FeatureRows): Promise<void> {
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

/** Each patient's expected history events at the three model dates (see fitFirstStage). */
export const EXPECTED_EVENTS = 'expected_history_events';
