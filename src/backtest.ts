// The out-of-time backtest: the models fitted a year further back, scored at the fitting date
// of today's models, measured against what happened in the year after it.
import { readColumns } from './db.ts';
import {
  auroc,
  calibrationByDecile,
  confusion,
  meanAbsoluteError,
  rSquared,
  shareByGroup,
  type CalibrationDecile,
  type GroupShare,
} from './model-metrics.ts';
import { mean, scoreInDatabase, type FittedPair } from './model-fit.ts';
import { fairnessByGroup, type GroupFairness } from './fairness.ts';
import type { RunContext } from './stage.ts';

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
    /** Calibration and the share flagged by sex, age band, deprivation quintile and place. */
    fairness: GroupFairness[];
  };
}

export async function validate(ctx: RunContext, pair: FittedPair): Promise<Validation> {
  await scoreInDatabase(ctx, pair, 'train', 'scored_backtest');
  // In pseudo_id order, so the metrics break ties as they always have; with whether each
  // adult is in the population at the as-of date (still registered and alive), and the tier
  // each would have been given (ties broken by pseudo_id, as in the practice lists).
  const scored = await readColumns(
    ctx.conn,
    `select s.predicted_cost_12m, s.admission_probability_12m, s.next_cost_12m, s.next_admitted,
            c.pseudo_id is not null as stayed,
            risk_tier(row_number() over (order by s.predicted_cost_12m desc, s.pseudo_id), count(*) over ()) as tier,
            coalesce(b.sex, 'unknown') as sex, coalesce(b.age_band, 'unknown') as age_band,
            coalesce(((b.imd_decile + 1) // 2)::VARCHAR, 'unknown') as imd_quintile,
            coalesce(pr.place, 'unknown') as place
     from scored_backtest s
     left join population c on c.ref = 'current' and c.pseudo_id = s.pseudo_id
     left join population b on b.ref = 'train' and b.pseudo_id = s.pseudo_id
     left join stg_practice pr on pr.practice_code = b.practice_code
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
    tiers: shareByGroup(observed, scored.tier as string[]),
    still_registered: stillRegistered(stayed, predicted, observed, admissionP, admitted, multiple, {
      sex: scored.sex as string[],
      'age band': scored.age_band as string[],
      'deprivation quintile': scored.imd_quintile as string[],
      place: scored.place as string[],
    }),
  };
}

function stillRegistered(
  stayed: boolean[],
  predicted: Float64Array,
  observed: Float64Array,
  admissionP: Float64Array,
  admitted: Float64Array,
  multiple: number,
  groups: Record<'sex' | 'age band' | 'deprivation quintile' | 'place', string[]>,
): Validation['still_registered'] {
  const keep = (xs: Float64Array) => Float64Array.from(xs.filter((_, i) => stayed[i]));
  const [p, o, ap, a] = [keep(predicted), keep(observed), keep(admissionP), keep(admitted)];
  const threshold = multiple * mean(o);
  // The flag as the run sets it: at least the multiple of the mean prediction.
  const flagAt = multiple * mean(p);
  const keepGroup = (xs: string[]) => xs.filter((_, i) => stayed[i]);
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
    fairness: fairnessByGroup(
      p,
      o,
      Array.from(p, (v) => (v >= flagAt ? 1 : 0)),
      Array.from(o, (v) => (v >= threshold ? 1 : 0)),
      {
        sex: keepGroup(groups.sex),
        'age band': keepGroup(groups['age band']),
        'deprivation quintile': keepGroup(groups['deprivation quintile']),
        place: keepGroup(groups.place),
      },
    ),
  };
}
