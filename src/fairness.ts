// Whether the cost model serves every group alike: for each sex, age band, deprivation quintile
// and place, observed cost against predicted (calibration) and the share flagged as predicted
// high cost, each with its standard error, so that a group's figure can be read against chance.
//
// The target: no group's observed / predicted ratio is further from 1 than its 95% interval
// (1.96 standard errors) plus 10%. Chance alone moves a small group's ratio a long way (costs
// are skewed), and a model that is 10% off for a group is still fit for ranking within it.

export const FAIRNESS_DIMENSIONS = ['sex', 'age band', 'deprivation quintile', 'place'] as const;
export type FairnessDimension = (typeof FAIRNESS_DIMENSIONS)[number];

/** Allowed distance of a group's ratio from 1 beyond its 95% interval. */
export const FAIRNESS_TOLERANCE = 0.1;
const Z95 = 1.959964;

export interface GroupFairness {
  dimension: FairnessDimension;
  group: string;
  patients: number;
  mean_observed: number;
  mean_predicted: number;
  /** mean_observed / mean_predicted; null when nothing was predicted. */
  ratio: number | null;
  /**
   * Standard error of the ratio from the spread of observed cost in the group (sample standard
   * deviation / sqrt(patients) / mean_predicted), the prediction taken as fixed. Null with one
   * patient or no prediction.
   */
  ratio_standard_error: number | null;
  /** Share of the group flagged as predicted high cost, with its binomial standard error. */
  share_flagged: number;
  share_flagged_standard_error: number;
  /** Share whose observed cost reached the high cost threshold, with its standard error. */
  share_observed_high_cost: number;
  share_observed_high_cost_standard_error: number;
  /** |ratio - 1| <= 1.96 x standard error + tolerance; null where the ratio has no error. */
  within_target: boolean | null;
}

/**
 * Figures for every group of every dimension, groups in order of their names. `groups` holds,
 * for each dimension, the group of each row; `flagged` and `observedHigh` are 0/1 per row.
 */
export function fairnessByGroup(
  predicted: ArrayLike<number>,
  observed: ArrayLike<number>,
  flagged: ArrayLike<number>,
  observedHigh: ArrayLike<number>,
  groups: Record<FairnessDimension, readonly string[]>,
): GroupFairness[] {
  const n = predicted.length;
  for (const xs of [observed, flagged, observedHigh, ...Object.values(groups)])
    if (xs.length !== n) throw new Error('fairnessByGroup: columns of different lengths');
  const out: GroupFairness[] = [];
  for (const dimension of FAIRNESS_DIMENSIONS) {
    const of = groups[dimension];
    const rows = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const g = of[i]!;
      let list = rows.get(g);
      if (!list) rows.set(g, (list = []));
      list.push(i);
    }
    for (const group of [...rows.keys()].sort()) {
      const members = rows.get(group)!;
      out.push(groupFigures(dimension, group, members, predicted, observed, flagged, observedHigh));
    }
  }
  return out;
}

function groupFigures(
  dimension: FairnessDimension,
  group: string,
  members: number[],
  predicted: ArrayLike<number>,
  observed: ArrayLike<number>,
  flagged: ArrayLike<number>,
  observedHigh: ArrayLike<number>,
): GroupFairness {
  const k = members.length;
  let sumP = 0;
  let sumO = 0;
  let nFlagged = 0;
  let nHigh = 0;
  for (const i of members) {
    sumP += predicted[i]!;
    sumO += observed[i]!;
    nFlagged += flagged[i]!;
    nHigh += observedHigh[i]!;
  }
  const meanP = sumP / k;
  const meanO = sumO / k;
  let squares = 0;
  for (const i of members) squares += (observed[i]! - meanO) ** 2;
  const sd = k > 1 ? Math.sqrt(squares / (k - 1)) : null;
  const ratio = meanP !== 0 ? meanO / meanP : null;
  const se = sd !== null && meanP !== 0 ? sd / Math.sqrt(k) / meanP : null;
  const share = (x: number) => x / k;
  const shareError = (x: number) => Math.sqrt((share(x) * (1 - share(x))) / k);
  return {
    dimension,
    group,
    patients: k,
    mean_observed: meanO,
    mean_predicted: meanP,
    ratio,
    ratio_standard_error: se,
    share_flagged: share(nFlagged),
    share_flagged_standard_error: shareError(nFlagged),
    share_observed_high_cost: share(nHigh),
    share_observed_high_cost_standard_error: shareError(nHigh),
    within_target:
      ratio === null || se === null ? null : Math.abs(ratio - 1) <= Z95 * se + FAIRNESS_TOLERANCE,
  };
}
