// Validation metrics for the model card and the tier report. Each is a small pure function;
// scalar metrics return NaN where the quantity is undefined (JSON writes it as null), and
// record fields that can be undefined are typed `number | null`.

type Flag = boolean | 0 | 1;

function sameLength(a: ArrayLike<unknown>, b: ArrayLike<unknown>, fn: string): number {
  if (a.length !== b.length) throw new RangeError(`${fn}: lengths differ (${a.length} vs ${b.length})`);
  return a.length;
}

function isPositive(label: unknown, fn: string, i: number): boolean {
  if (label === 1 || label === true) return true;
  if (label === 0 || label === false) return false;
  throw new RangeError(`${fn}: label on row ${i} is not 0/1 or boolean`);
}

/**
 * Coefficient of determination, R² = 1 − SS_res / SS_tot, where SS_res = Σ(yᵢ − ŷᵢ)² and
 * SS_tot = Σ(yᵢ − ȳ)². Not clipped at 0: a model worse than the mean scores negative.
 * NaN when SS_tot is 0 (a constant outcome).
 */
export function rSquared(observed: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const n = sameLength(observed, predicted, 'rSquared');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += observed[i]!;
  const mean = sum / n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const o = observed[i]!;
    const r = o - predicted[i]!;
    ssRes += r * r;
    ssTot += (o - mean) * (o - mean);
  }
  return ssTot > 0 ? 1 - ssRes / ssTot : NaN;
}

/** Mean absolute error, Σ|yᵢ − ŷᵢ| / n. NaN for no rows. */
export function meanAbsoluteError(observed: ArrayLike<number>, predicted: ArrayLike<number>): number {
  const n = sameLength(observed, predicted, 'meanAbsoluteError');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.abs(observed[i]! - predicted[i]!);
  return n > 0 ? sum / n : NaN;
}

/**
 * Row order by value, ties by row index, so equal values never depend on sort stability.
 * A stable least-significant-digit radix sort on the bits of each double, 16 bits a pass:
 * a comparison sort of a million rows with a callback takes about a second, this a few
 * tens of milliseconds, and stability gives the ties by index for free.
 */
export function orderBy(values: ArrayLike<number>, fn: string): Uint32Array {
  const n = values.length;
  // Each double becomes an unsigned 64-bit key (two 32-bit halves) that sorts as the number does:
  // non-negative numbers have the sign bit set, negative ones have every bit flipped.
  const bits = new Float64Array(1);
  const halves = new Uint32Array(bits.buffer);
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) throw new RangeError(`${fn}: value on row ${i} is NaN`);
    bits[0] = v === 0 ? 0 : v; // -0 and 0 are equal
    const l = halves[0]!;
    const h = halves[1]!;
    if (h >>> 31) {
      hi[i] = ~h >>> 0;
      lo[i] = ~l >>> 0;
    } else {
      hi[i] = (h | 0x80000000) >>> 0;
      lo[i] = l;
    }
  }
  let order = new Uint32Array(n);
  let next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const counts = new Uint32Array(65536);
  for (const [key, shift] of [
    [lo, 0],
    [lo, 16],
    [hi, 0],
    [hi, 16],
  ] as const) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[(key[i]! >>> shift) & 0xffff]!++;
    let total = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[d]!;
      counts[d] = total;
      total += c;
    }
    for (let k = 0; k < n; k++) {
      const row = order[k]!;
      next[counts[(key[row]! >>> shift) & 0xffff]!++] = row;
    }
    [order, next] = [next, order];
  }
  return order;
}

/**
 * Area under the ROC curve as the Mann–Whitney statistic: the probability that a randomly
 * chosen positive scores above a randomly chosen negative, with tied pairs counting one
 * half. AUC = (R₁ − n₁(n₁+1)/2) / (n₁·n₀), R₁ the sum of mid-ranks of the positives.
 * O(n log n). NaN when there are no positives or no negatives.
 */
export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const n = sameLength(scores, labels, 'auroc');
  const order = orderBy(scores, 'auroc');
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    const s = scores[order[i]!]!;
    while (j + 1 < n && scores[order[j + 1]!]! === s) j++;
    // Ranks i+1 .. j+1 share their mean.
    const midRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      const row = order[k]!;
      if (isPositive(labels[row], 'auroc', row)) {
        rankSumPos += midRank;
        nPos++;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export interface CalibrationDecile {
  /** 1 = lowest predicted. */
  decile: number;
  patients: number;
  mean_predicted: number;
  mean_observed: number;
  /** mean_observed / mean_predicted (observed-to-expected); null when mean_predicted is 0. */
  ratio: number | null;
  /**
   * Standard error of that ratio from the spread of observed values in the decile (sample
   * standard deviation / sqrt(patients) / mean_predicted): how far the ratio would wander
   * by chance alone. Costs are skewed, so at a few thousand people a decile's ratio moves by
   * several per cent between equally good samples. Null with one patient or no prediction.
   */
  ratio_standard_error: number | null;
}

/**
 * Calibration table: rows ordered by predicted value (ties by row index), cut into ten groups
 * as equal as possible — group d holds ranks ⌊(d−1)n/10⌋ … ⌊dn/10⌋−1 — with the mean predicted
 * and mean observed in each. Groups that would be empty (fewer than ten rows) are omitted.
 */
export function calibrationByDecile(
  predicted: ArrayLike<number>,
  observed: ArrayLike<number>,
): CalibrationDecile[] {
  const n = sameLength(predicted, observed, 'calibrationByDecile');
  const order = orderBy(predicted, 'calibrationByDecile');
  const out: CalibrationDecile[] = [];
  for (let d = 1; d <= 10; d++) {
    const from = Math.floor(((d - 1) * n) / 10);
    const to = Math.floor((d * n) / 10);
    if (to === from) continue;
    let sumP = 0;
    let sumO = 0;
    for (let k = from; k < to; k++) {
      const row = order[k]!;
      sumP += predicted[row]!;
      sumO += observed[row]!;
    }
    const patients = to - from;
    const meanP = sumP / patients;
    const meanO = sumO / patients;
    let squares = 0;
    for (let k = from; k < to; k++) squares += (observed[order[k]!]! - meanO) ** 2;
    const sd = patients > 1 ? Math.sqrt(squares / (patients - 1)) : null;
    out.push({
      decile: d,
      patients,
      mean_predicted: meanP,
      mean_observed: meanO,
      ratio: meanP !== 0 ? meanO / meanP : null,
      ratio_standard_error: sd !== null && meanP !== 0 ? sd / Math.sqrt(patients) / meanP : null,
    });
  }
  return out;
}

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  /** tp / (tp + fp); null when nothing was flagged. */
  ppv: number | null;
  /** tp / (tp + fn); null when there are no true cases. */
  sensitivity: number | null;
  /** tn / (tn + fp); null when there are no true non-cases. */
  specificity: number | null;
}

/**
 * 2×2 table of flags (e.g. "in the top 5% risk tier") against truth (e.g. "had an emergency
 * admission"), with positive predictive value, sensitivity and specificity.
 */
export function confusion(flags: ArrayLike<Flag>, truth: ArrayLike<Flag>): Confusion {
  const n = sameLength(flags, truth, 'confusion');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < n; i++) {
    const f = isPositive(flags[i], 'confusion', i);
    const t = isPositive(truth[i], 'confusion', i);
    if (f && t) tp++;
    else if (f) fp++;
    else if (t) fn++;
    else tn++;
  }
  const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);
  return {
    tp,
    fp,
    fn,
    tn,
    ppv: ratio(tp, tp + fp),
    sensitivity: ratio(tp, tp + fn),
    specificity: ratio(tn, tn + fp),
  };
}

/**
 * Jaccard similarity of two sets, |A ∩ B| / |A ∪ B| (duplicates ignored), e.g. overlap of the
 * patients flagged by two models. Two empty sets are identical, so 1.
 */
export function jaccard(a: Iterable<string>, b: Iterable<string>): number {
  const setA = new Set(a);
  const setB = new Set(b);
  let both = 0;
  for (const x of setA) if (setB.has(x)) both++;
  const union = setA.size + setB.size - both;
  return union === 0 ? 1 : both / union;
}

export interface GroupShare<G> {
  group: G;
  patients: number;
  total: number;
  /** total / grand total; null when the grand total is 0. */
  share: number | null;
}

/**
 * Share of the grand total of values falling in each group, Σ_{i∈g} vᵢ / Σᵢ vᵢ — e.g. the
 * share of next-year cost incurred by each risk tier. Groups are returned numbers ascending,
 * then strings in code-unit order, so the output does not depend on row order.
 */
export function shareByGroup<G extends string | number>(
  values: ArrayLike<number>,
  groups: ArrayLike<G>,
): GroupShare<G>[] {
  const n = sameLength(values, groups, 'shareByGroup');
  const totals = new Map<G, { patients: number; total: number }>();
  let grand = 0;
  for (let i = 0; i < n; i++) {
    const g = groups[i]!;
    const v = values[i]!;
    grand += v;
    const t = totals.get(g);
    if (t) {
      t.patients++;
      t.total += v;
    } else totals.set(g, { patients: 1, total: v });
  }
  const keys = [...totals.keys()].sort((a, b) => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'number') return -1;
    if (typeof b === 'number') return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  return keys.map((group) => {
    const t = totals.get(group)!;
    return { group, patients: t.patients, total: t.total, share: grand !== 0 ? t.total / grand : null };
  });
}
