// The two models behind the high-cost cohort, the risk tiers and the admission risk: next-year
// secondary-care cost (log-link GLM) and emergency admission (logistic GLM), fitted on the
// population itself a year back, backtested out of time on every run, applied today.
//
// Family: Tweedie quasi-likelihood (variance mu^power, power from the configuration). With
// variance growing faster than the mean, the handful of patients costing six figures pull the
// fit less far from everyone else, while the log link still carries them multiplicatively; it
// backtested better than Poisson, and the default power was chosen on the 3x cohort's agreement
// with the ground truth (docs/model-validation.md has the figures).
//
// Features: the activity counts by setting are summarised by one experience-rating term (see
// src/experience-rating.ts) rather than entered one by one: each count on its own can only scale the
// prediction by a fixed factor, whatever the clinical record says to expect, and backtested worse.
import { queryRows } from './db.ts';
import type { Family, GlmFit } from './glm.ts';
import { describeFit, type Encoding } from './glm-encoding.ts';
import { openGlmPool } from './glm-pool.ts';
import { fitFirstStage } from './experience-rating.ts';
import { FEATURES, readExpected, readSample, type FeatureRows, type Ref } from './model-features.ts';
import { fitPair, scoreInDatabase, type FittedPair } from './model-fit.ts';
import { validate, type Validation } from './backtest.ts';
import type { RunContext } from './stage.ts';

export const COST_FAMILY: Family = 'tweedie';

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

/**
 * Whether each fitting year holds enough outcomes to fit on. A delivery without secondary care
 * (or with a year of it missing) would otherwise give every adult a prediction of about nothing,
 * and every adult would clear 3 times a mean of nothing.
 */
async function outcomeShortfall(ctx: RunContext): Promise<string | null> {
  const { minimumWithCost, minimumAdmitted } = ctx.config.model;
  const rows = await queryRows<{ ref: Ref; with_cost: number; admitted: number }>(
    ctx.conn,
    `select r.ref,
            count(f.patient_key) filter (where f.next_cost_12m > 0)::INTEGER as with_cost,
            count(f.patient_key) filter (where f.next_admitted)::INTEGER as admitted
     from (values ('backtest'), ('train')) r(ref)
     left join patient_features f on f.ref = r.ref
     group by r.ref order by r.ref`,
  );
  const short = rows.filter((r) => r.with_cost < minimumWithCost || r.admitted < minimumAdmitted);
  if (!short.length) return null;
  const years = short
    .map(
      (r) =>
        `${r.with_cost} adults with any secondary-care cost and ${r.admitted} with an emergency admission in the year after the ${r.ref === 'train' ? 'fitting' : 'backtest'} date`,
    )
    .join('; ');
  return `too little outcome data to fit the cost and admission models: ${years} (at least ${minimumWithCost} and ${minimumAdmitted} needed)`;
}

/**
 * Why this run has no predictions, or null when it has them: every output that shows the
 * predicted high cost cohort, the tiers or the admission risk says so instead.
 */
export function predictionsNotAvailable(ctx: RunContext): string | null {
  const models = ctx.results.models;
  return models && !models.available ? models.reason : null;
}

/** No predictions: the cohorts that need none are still published, and this one says why not. */
async function modelsNotAvailable(ctx: RunContext, reason: string): Promise<{ models: FittedModels }> {
  await ctx.conn.run(`create or replace table patient_prediction
    (pseudo_id VARCHAR, predicted_cost_12m DOUBLE, admission_probability_12m DOUBLE)`);
  ctx.log.warn('predicted high cost cohort not available', { reason });
  return {
    models: {
      available: false,
      reason,
      summary: {
        available: false,
        reason,
        minimum_with_cost: ctx.config.model.minimumWithCost,
        minimum_admitted: ctx.config.model.minimumAdmitted,
      },
    },
  };
}

export async function fitModels(ctx: RunContext): Promise<{ models: FittedModels }> {
  const shortfall = await outcomeShortfall(ctx);
  if (shortfall) return modelsNotAvailable(ctx, shortfall);
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

  const summary = describeModels(ctx, dateOf, model, backtest, validation, current);
  ctx.log.info('models fitted', {
    adults_scored: current.adults,
    backtest_r_squared: round(validation.cost.r_squared, 3),
    backtest_high_cost_auroc: round(validation.high_cost.auroc, 3),
    backtest_admission_auroc: round(validation.admission.auroc, 3),
  });
  return { models: { available: true, summary, validation, applied: model } };
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : NaN;
}

/** The models as the manifest records them: what was fitted, on which periods, and how it backtested. */
function describeModels(
  ctx: RunContext,
  dateOf: (ref: Ref) => string,
  model: FittedPair,
  backtest: FittedPair,
  validation: Validation,
  current: { adults: number; meanPredicted: number },
) {
  const multiple = ctx.config.cohorts.highCostMultiple;
  return {
    available: true as const,
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
}

export type ModelsSummary = ReturnType<typeof describeModels>;

/**
 * What the cost model stage hands on: the manifest's summary, and what the model card shows;
 * or, when there was too little outcome data to fit on, why not.
 */
export type FittedModels =
  | { available: true; summary: ModelsSummary; validation: Validation; applied: FittedPair }
  | {
      available: false;
      reason: string;
      summary: { available: false; reason: string; minimum_with_cost: number; minimum_admitted: number };
    };
