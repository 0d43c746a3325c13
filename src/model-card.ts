// The model card published with every run: intended use, models, data periods, features, the
// backtest's figures, published references, limits and the applied model's coefficients.
import { conditions } from '../pipeline/conditions.ts';
import { EFI_VALIDATED_FROM_AGE, HFRS } from '../pipeline/frailty.ts';
import { describeFit, type FitTerm } from './glm-encoding.ts';
import { conditionIds } from './model-features.ts';
import type { FittedPair } from './model-fit.ts';
import type { Validation } from './backtest.ts';
import { FAIRNESS_TOLERANCE, type GroupFairness } from './fairness.ts';
import type { RunContext } from './stage.ts';

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

/**
 * Calibration and the share flagged by group, on the adults still registered. A group of fewer
 * people than the disclosure threshold has its figures withheld, as any small count's costs are.
 */
export function fairnessSection(groups: GroupFairness[], suppressBelow: number): string[] {
  const outside = groups.filter((g) => g.patients >= suppressBelow && g.within_target === false);
  return [
    '### Fairness: calibration and share flagged by group',
    '',
    `Target: no group's observed / predicted ratio further from 1 than its 95% interval (1.96 standard errors) plus ${pct(FAIRNESS_TOLERANCE, 0)}.`,
    outside.length
      ? `Outside the target: ${outside.map((g) => `${g.dimension} ${g.group}`).join(', ')}.`
      : 'Every group shown is within the target.',
    '',
    '| dimension | group | adults | observed / predicted | standard error | within target | share flagged | share observed high cost |',
    '|---|---|---:|---:|---:|---|---:|---:|',
    ...groups.map((g) =>
      g.patients < suppressBelow
        ? `| ${g.dimension} | ${g.group} | suppressed | | | | | |`
        : `| ${g.dimension} | ${g.group} | ${g.patients.toLocaleString('en-GB')} | ${fmt(g.ratio, 2)} | ${fmt(g.ratio_standard_error, 3)} | ${g.within_target === null ? 'n/a' : g.within_target ? 'yes' : 'NO'} | ${pct(g.share_flagged)} ± ${pct(g.share_flagged_standard_error)} | ${pct(g.share_observed_high_cost)} ± ${pct(g.share_observed_high_cost_standard_error)} |`,
    ),
    '',
  ];
}

export function modelCard(
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
    '  log(1 + secondary-care cost), log(1 + emergency admissions) and log(1 + secondary-care contacts of every',
    '  kind: admissions, day cases, outpatient appointments, A&E attendances) in the last 12 months, and an',
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
    ...fairnessSection(r.fairness, ctx.config.disclosure.suppressBelow),
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
