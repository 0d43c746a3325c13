import { describe, it, expect } from 'vitest';
import {
  auroc,
  calibrationByDecile,
  confusion,
  jaccard,
  meanAbsoluteError,
  orderBy,
  rSquared,
  shareByGroup,
} from '../src/model-metrics.ts';
import { mulberry32 } from '../src/synth/random.ts';

describe('rSquared and meanAbsoluteError', () => {
  it('match hand-computed values', () => {
    // mean 3; SS_tot = 4+1+0+1+4 = 10; residuals 0.5,-0.5,0,1,-1 -> SS_res = 2.5
    const observed = [1, 2, 3, 4, 5];
    const predicted = [0.5, 2.5, 3, 3, 6];
    expect(rSquared(observed, predicted)).toBeCloseTo(0.75, 12);
    expect(meanAbsoluteError(observed, predicted)).toBeCloseTo(3 / 5, 12);
  });

  it('goes negative for a model worse than the mean, NaN for a constant outcome', () => {
    expect(rSquared([1, 2, 3], [3, 2, 1])).toBeCloseTo(1 - 8 / 2, 12);
    expect(rSquared([2, 2], [1, 3])).toBeNaN();
    expect(meanAbsoluteError([], [])).toBeNaN();
    expect(() => rSquared([1], [1, 2])).toThrow(RangeError);
  });
});

describe('auroc', () => {
  it('counts concordant pairs', () => {
    // Positives 0.35 and 0.8; negatives 0.1 and 0.4: 3 of 4 pairs ranked right.
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(auroc([0.1, 0.4, 0.35, 0.8], [false, false, true, true])).toBeCloseTo(0.75, 12);
    expect(auroc([1, 2, 3], [0, 1, 1])).toBe(1);
    expect(auroc([1, 2, 3], [1, 0, 0])).toBe(0);
  });

  it('gives tied pairs half credit', () => {
    // Pos 0.5 vs neg 0.5 tie (0.5) and vs 0.2 (1); pos 0.9 beats both (2): 3.5 / 4.
    expect(auroc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1])).toBeCloseTo(0.875, 12);
    expect(auroc([7, 7, 7, 7], [1, 0, 1, 0])).toBeCloseTo(0.5, 12);
  });

  it('is NaN with only one class and rejects labels that are not 0/1', () => {
    expect(auroc([1, 2], [1, 1])).toBeNaN();
    expect(() => auroc([1, 2], [1, 2])).toThrow(RangeError);
  });
});

describe('calibrationByDecile', () => {
  it('splits 20 rows into ten pairs by predicted value with hand-computed means', () => {
    // Predicted 1..20 in reverse row order; observed = 2 x predicted for odd, 0 for even.
    const predicted = Array.from({ length: 20 }, (_, i) => 20 - i);
    const observed = predicted.map((p) => (p % 2 === 1 ? 2 * p : 0));
    const table = calibrationByDecile(predicted, observed);
    expect(table).toHaveLength(10);
    // Two observed values a and b: sample sd |a - b| / sqrt(2), standard error of their mean
    // |a - b| / 2, divided by the mean predicted.
    expect(table[0]).toEqual({
      decile: 1,
      patients: 2,
      mean_predicted: 1.5,
      mean_observed: 1,
      ratio: 1 / 1.5,
      ratio_standard_error: expect.closeTo(2 / 2 / 1.5, 12),
    });
    expect(table[9]).toEqual({
      decile: 10,
      patients: 2,
      mean_predicted: 19.5,
      mean_observed: 19,
      ratio: 19 / 19.5,
      ratio_standard_error: expect.closeTo(38 / 2 / 19.5, 12),
    });
    for (const [d, row] of table.entries()) {
      // Decile d+1 holds predicted 2d+1 and 2d+2; only the odd one has cost 2(2d+1).
      expect(row.mean_predicted).toBe(2 * d + 1.5);
      expect(row.mean_observed).toBe(2 * d + 1);
    }
  });

  it('breaks ties by row index and keeps groups as equal as possible', () => {
    // 23 rows, all predicted 1: cut points floor(23d/10) = 0,2,4,6,9,11,13,16,18,20,23.
    const predicted = new Array(23).fill(1);
    const observed = Array.from({ length: 23 }, (_, i) => i);
    const table = calibrationByDecile(predicted, observed);
    expect(table.map((r) => r.patients)).toEqual([2, 2, 2, 3, 2, 2, 3, 2, 2, 3]);
    expect(table[0]!.mean_observed).toBe(0.5); // rows 0 and 1
    expect(table[3]!.mean_observed).toBe(7); // rows 6, 7, 8
    expect(table[9]!.mean_observed).toBe(21); // rows 20, 21, 22
    // Rows 20, 21, 22: sample sd 1, so the standard error is 1 / sqrt(3) over a prediction of 1.
    expect(table[9]!.ratio_standard_error).toBeCloseTo(1 / Math.sqrt(3), 12);
  });

  it('reports a null ratio when nothing was predicted', () => {
    const table = calibrationByDecile(new Array(10).fill(0), new Array(10).fill(1));
    expect(table.every((r) => r.ratio === null && r.ratio_standard_error === null)).toBe(true);
  });

  it('has no standard error for a decile of one', () => {
    const table = calibrationByDecile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(table.every((r) => r.patients === 1 && r.ratio_standard_error === null)).toBe(true);
  });
});

describe('confusion', () => {
  it('counts the 2x2 table', () => {
    const flags = [1, 1, 1, 0, 0, 0, 0, 0] as const;
    const truth = [1, 1, 0, 1, 0, 0, 0, 0] as const;
    expect(confusion(flags, truth)).toEqual({
      tp: 2,
      fp: 1,
      fn: 1,
      tn: 4,
      ppv: 2 / 3,
      sensitivity: 2 / 3,
      specificity: 4 / 5,
    });
  });

  it('leaves undefined ratios null', () => {
    const c = confusion([false, false], [false, false]);
    expect(c.ppv).toBeNull();
    expect(c.sensitivity).toBeNull();
    expect(c.specificity).toBe(1);
  });
});

describe('jaccard', () => {
  it('is intersection over union, ignoring duplicates', () => {
    expect(jaccard(['a', 'b', 'c'], ['b', 'c', 'd'])).toBeCloseTo(2 / 4, 12);
    expect(jaccard(['a', 'a', 'b'], new Set(['a']))).toBeCloseTo(1 / 2, 12);
    expect(jaccard([], ['x'])).toBe(0);
    expect(jaccard([], [])).toBe(1);
  });
});

describe('shareByGroup', () => {
  it('gives each tier its share of the total, in a stable order', () => {
    const cost = [100, 0, 300, 50, 50, 500];
    const tier = ['low', 'low', 'high', 'moderate', 'low', 'high'];
    expect(shareByGroup(cost, tier)).toEqual([
      { group: 'high', patients: 2, total: 800, share: 0.8 },
      { group: 'low', patients: 3, total: 150, share: 0.15 },
      { group: 'moderate', patients: 1, total: 50, share: 0.05 },
    ]);
    expect(shareByGroup([1, 3], [2, 1]).map((g) => g.group)).toEqual([1, 2]);
    expect(shareByGroup([0, 0], ['a', 'b'])[0]!.share).toBeNull();
  });
});

describe('orderBy', () => {
  it('orders by value with ties by row, exactly as a comparison sort does', () => {
    const random = mulberry32(11);
    for (const n of [0, 1, 2, 17, 5000]) {
      // Few distinct values, so there are many ties; negatives, zeros of both signs, infinities.
      const pool = [-Infinity, -1e300, -2.5, -1, -0, 0, 1e-300, 0.5, 1, 3, 1e12, Infinity];
      const values = Array.from({ length: n }, () => pool[Math.floor(random() * pool.length)]!);
      const expected = values
        .map((_, i) => i)
        .sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b));
      expect([...orderBy(values, 'test')]).toEqual(expected);
    }
    const continuous = Array.from({ length: 3000 }, () => (random() - 0.5) * 1e6);
    const sorted = [...orderBy(continuous, 'test')].map((i) => continuous[i]!);
    expect(sorted).toEqual([...continuous].sort((a, b) => a - b));
  });

  it('refuses NaN', () => {
    expect(() => orderBy([1, NaN], 'test')).toThrow(/NaN/);
  });
});
