import { describe, it, expect } from 'vitest';
import { fitGlm, fitGlmStaged, INTERCEPT, predictGlm } from '../src/glm.ts';
import { encode, learnEncoding, type Columns } from '../src/glm-encoding.ts';
import { inlinePool, openGlmPool, WORKER_MIN_CELLS } from '../src/glm-pool.ts';
import { mulberry32 } from '../src/synth/random.ts';
import { coef, design, exponential, normal, poisson } from './support/glm-data.ts';

interface Simulated {
  x1: Float64Array;
  x2: Float64Array;
  y: Float64Array;
  n: number;
}

function simulatePoisson(n: number, seed: number): Simulated {
  const rand = mulberry32(seed);
  const x1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x1[i] = normal(rand);
    x2[i] = normal(rand);
    y[i] = poisson(rand, Math.exp(0.5 + 0.8 * x1[i]! - 0.3 * x2[i]!));
  }
  return { x1, x2, y, n };
}

describe('fitGlm recovers simulated coefficients', () => {
  it('poisson: log mu = 0.5 + 0.8 x1 - 0.3 x2', () => {
    const { x1, x2, y, n } = simulatePoisson(20_000, 1);
    const fit = fitGlm(design({ x1, x2 }, n), y, { family: 'poisson' });
    expect(fit.converged).toBe(true);
    expect(fit.dropped).toEqual([]);
    expect(Math.abs(coef(fit, INTERCEPT) - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(coef(fit, 'x1') - 0.8)).toBeLessThan(0.05);
    expect(Math.abs(coef(fit, 'x2') + 0.3)).toBeLessThan(0.05);
    expect(fit.deviance).toBeLessThan(fit.nullDeviance);
  });

  it('poisson through the encoding, converted back from per-SD to original units', () => {
    const n = 20_000;
    const rand = mulberry32(2);
    const age = new Float64Array(n);
    const imd = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      age[i] = 60 + 15 * normal(rand);
      imd[i] = 5.5 + 2.8 * normal(rand);
      y[i] = poisson(rand, Math.exp(-2 + 0.04 * age[i]! - 0.1 * imd[i]!));
    }
    const rows: Columns = { age, imd };
    const enc = learnEncoding(rows, { numeric: ['age', 'imd'], categorical: [] });
    const fit = fitGlm(encode(rows, enc, n), y, { family: 'poisson' });
    const [a, d] = enc.numeric;
    const bAge = coef(fit, 'age') / a!.sd;
    const bImd = coef(fit, 'imd') / d!.sd;
    const b0 = coef(fit, INTERCEPT) - bAge * a!.mean - bImd * d!.mean;
    expect(Math.abs(bAge - 0.04)).toBeLessThan(0.005);
    expect(Math.abs(bImd + 0.1)).toBeLessThan(0.01);
    expect(Math.abs(b0 + 2)).toBeLessThan(0.1);
  });

  it('tweedie: zero-inflated gamma costs with log E[cost] = 6 + 0.5 x1 - 0.4 x2', () => {
    const n = 20_000;
    const rand = mulberry32(3);
    const x1 = new Float64Array(n);
    const x2 = new Float64Array(n);
    const y = new Float64Array(n);
    const pAny = 0.4;
    const shape = 2;
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      x1[i] = normal(rand);
      x2[i] = normal(rand);
      const mean = Math.exp(6 + 0.5 * x1[i]! - 0.4 * x2[i]!);
      const scale = mean / (pAny * shape);
      const any = rand() < pAny;
      // Gamma(2, scale) as the sum of two exponentials.
      y[i] = any ? scale * (exponential(rand) + exponential(rand)) : 0;
      if (!any) zeros++;
    }
    expect(zeros / n).toBeGreaterThan(0.5);
    const fit = fitGlm(design({ x1, x2 }, n), y, { family: 'tweedie', tweediePower: 1.5 });
    expect(fit.converged).toBe(true);
    expect(fit.tweediePower).toBe(1.5);
    expect(Math.abs(coef(fit, INTERCEPT) - 6)).toBeLessThan(0.1);
    expect(Math.abs(coef(fit, 'x1') - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(coef(fit, 'x2') + 0.4)).toBeLessThan(0.1);
  });

  it('binomial: logit p = -1 + 1.2 x1 - 0.7 x2', () => {
    const n = 20_000;
    const rand = mulberry32(4);
    const x1 = new Float64Array(n);
    const x2 = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x1[i] = normal(rand);
      x2[i] = normal(rand);
      const prob = 1 / (1 + Math.exp(-(-1 + 1.2 * x1[i]! - 0.7 * x2[i]!)));
      y[i] = rand() < prob ? 1 : 0;
    }
    const fit = fitGlm(design({ x1, x2 }, n), y, { family: 'binomial' });
    expect(fit.converged).toBe(true);
    expect(Math.abs(coef(fit, INTERCEPT) + 1)).toBeLessThan(0.1);
    expect(Math.abs(coef(fit, 'x1') - 1.2)).toBeLessThan(0.1);
    expect(Math.abs(coef(fit, 'x2') + 0.7)).toBeLessThan(0.1);
    const p = predictGlm(fit, design({ x1, x2 }, n));
    expect(Math.min(...p)).toBeGreaterThan(0);
    expect(Math.max(...p)).toBeLessThan(1);
  });

  it('the intercept-only fit is the log of the mean', () => {
    const y = Float64Array.from([0, 0, 3, 1, 0, 8]);
    const fit = fitGlm(design({}, 6), y, { family: 'tweedie' });
    expect(fit.converged).toBe(true);
    expect(fit.coefficients[0]).toBeCloseTo(Math.log(2), 12);
  });
});

describe('the fitting pool', () => {
  it('fits on worker threads exactly as in this thread, whatever the size threshold', async () => {
    const { x1, x2, y, n } = simulatePoisson(5_000, 31);
    const d = design({ x1, x2 }, n);
    const opts = { family: 'poisson', ridge: 1e-4 } as const;
    const here = await inlinePool.fit(d, y, opts);
    // minCells 0: every fit goes to a worker; the default keeps this one in the thread.
    for (const pool of [openGlmPool(2, 0), openGlmPool(2)]) {
      try {
        const fits = await Promise.all([pool.fit(d, y, opts), pool.fit(d, y, opts)]);
        for (const fit of fits) expect(fit.coefficients).toEqual(here.coefficients);
      } finally {
        await pool.close();
      }
    }
    expect(d.n * d.p).toBeLessThan(WORKER_MIN_CELLS);
  });
});

describe('fitGlmStaged', () => {
  // 60,000 rows: above the size where the rough pass on every fourth row is used.
  it("reaches the cold fit's optimum for each family, with its null deviance", () => {
    const n = 60_000;
    const rand = mulberry32(21);
    const x1 = new Float64Array(n);
    const x2 = new Float64Array(n);
    const counts = new Float64Array(n);
    const costs = new Float64Array(n);
    const flags = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x1[i] = normal(rand);
      x2[i] = rand() < 0.2 ? 1 : 0;
      const mean = Math.exp(0.3 + 0.6 * x1[i]! - 0.5 * x2[i]!);
      counts[i] = poisson(rand, mean);
      costs[i] = rand() < 0.3 ? (1000 * mean * (exponential(rand) + exponential(rand))) / 0.6 : 0;
      flags[i] = rand() < 1 / (1 + Math.exp(-(-1.5 + 0.9 * x1[i]! + 0.4 * x2[i]!))) ? 1 : 0;
    }
    const d = design({ x1, x2 }, n);
    for (const [y, opts] of [
      [counts, { family: 'poisson', ridge: 1e-4 }],
      [costs, { family: 'tweedie', tweediePower: 1.5 }],
      [flags, { family: 'binomial' }],
    ] as const) {
      const cold = fitGlm(d, y, opts);
      const staged = fitGlmStaged(d, y, opts);
      expect(staged.converged).toBe(true);
      expect(staged.nullDeviance).toBe(cold.nullDeviance);
      expect(Math.abs(staged.deviance - cold.deviance) / cold.deviance).toBeLessThan(1e-7);
      for (let j = 0; j < d.p; j++)
        expect(
          Math.abs(staged.coefficients[j]! - cold.coefficients[j]!),
          `${opts.family} ${d.names[j]}`,
        ).toBeLessThan(1e-4);
      // Started at the optimum, a fit has nothing left to do.
      const again = fitGlm(d, y, { ...opts, start: cold.coefficients });
      expect(again.iterations).toBeLessThanOrEqual(2);
    }
  });
});

describe('fitGlm with awkward columns', () => {
  const sim = simulatePoisson(20_000, 5);
  const clean = fitGlm(design({ x1: sim.x1, x2: sim.x2 }, sim.n), sim.y, { family: 'poisson' });
  const cleanPred = predictGlm(clean, design({ x1: sim.x1, x2: sim.x2 }, sim.n));

  it('drops a duplicated, a constant and a linearly dependent column and predicts as before', () => {
    const x1dup = Float64Array.from(sim.x1);
    const constant = new Float64Array(sim.n).fill(5);
    const combo = sim.x1.map((v, i) => 2 * v - sim.x2[i]!);
    const d = design({ x1: sim.x1, x2: sim.x2, x1dup, constant, combo }, sim.n);
    const fit = fitGlm(d, sim.y, { family: 'poisson' });
    expect(fit.converged).toBe(true);
    expect(fit.dropped).toEqual(['x1dup', 'constant', 'combo']);
    expect(coef(fit, 'x1dup')).toBe(0);
    expect(coef(fit, 'constant')).toBe(0);
    for (const name of [INTERCEPT, 'x1', 'x2']) {
      expect(coef(fit, name)).toBeCloseTo(coef(clean, name), 8);
    }
    const pred = predictGlm(fit, d);
    for (let i = 0; i < sim.n; i += 997) expect(pred[i]! / cleanPred[i]!).toBeCloseTo(1, 8);
  });

  it('drops the last of a full set of one-hot levels, which sums to the intercept', () => {
    const levels = 5;
    const effects = [0, 0.4, -0.3, 0.2, 0.6];
    const rand = mulberry32(6);
    const group = Array.from({ length: sim.n }, () => Math.floor(rand() * levels));
    const y = Float64Array.from(group, (g, i) =>
      poisson(rand, Math.exp(0.2 + 0.5 * sim.x1[i]! + effects[g]!)),
    );
    const dummies = (from: number): Record<string, Float64Array> =>
      Object.fromEntries(
        Array.from({ length: levels - from }, (_, k) => [
          `g=${k + from}`,
          Float64Array.from(group, (g) => (g === k + from ? 1 : 0)),
        ]),
      );
    const full = design({ x1: sim.x1, ...dummies(0) }, sim.n);
    const fit = fitGlm(full, y, { family: 'poisson' });
    expect(fit.dropped).toEqual(['g=4']);
    const reference = fitGlm(design({ x1: sim.x1, ...dummies(1) }, sim.n), y, { family: 'poisson' });
    // Level 4 is the baseline of the full fit and level 0 the baseline of the other.
    for (let k = 1; k < 4; k++) {
      expect(coef(fit, `g=${k}`) - coef(fit, 'g=0')).toBeCloseTo(coef(reference, `g=${k}`), 8);
      expect(Math.abs(coef(reference, `g=${k}`) - effects[k]!)).toBeLessThan(0.06);
    }
    const a = predictGlm(fit, full);
    const b = predictGlm(reference, full);
    for (let i = 0; i < sim.n; i += 997) expect(a[i]! / b[i]!).toBeCloseTo(1, 8);
  });

  it('with a ridge keeps duplicates (sharing the effect) but still drops constants', () => {
    const x1dup = Float64Array.from(sim.x1);
    const constant = new Float64Array(sim.n).fill(1);
    const d = design({ x1: sim.x1, x1dup, x2: sim.x2, constant }, sim.n);
    const fit = fitGlm(d, sim.y, { family: 'poisson', ridge: 1e-6 });
    expect(fit.dropped).toEqual(['constant']);
    expect(coef(fit, 'x1')).toBeCloseTo(coef(fit, 'x1dup'), 6);
    expect(coef(fit, 'x1') + coef(fit, 'x1dup')).toBeCloseTo(coef(clean, 'x1'), 3);
    const pred = predictGlm(fit, d);
    for (let i = 0; i < sim.n; i += 997) expect(pred[i]! / cleanPred[i]!).toBeCloseTo(1, 3);
  });

  it('applies the ridge on the standardised scale, so rescaling a column changes nothing', () => {
    const opts = { family: 'poisson' as const, ridge: 0.05 };
    const a = fitGlm(design({ x1: sim.x1, x2: sim.x2 }, sim.n), sim.y, opts);
    const x1k = sim.x1.map((v) => v * 1000);
    const b = fitGlm(design({ x1: x1k, x2: sim.x2 }, sim.n), sim.y, opts);
    expect(coef(b, 'x1') * 1000).toBeCloseTo(coef(a, 'x1'), 6);
    expect(coef(b, 'x2')).toBeCloseTo(coef(a, 'x2'), 6);
    // And it does shrink.
    expect(Math.abs(coef(a, 'x1'))).toBeLessThan(Math.abs(coef(clean, 'x1')) - 0.01);
  });

  it('prior weights act as row replication', () => {
    const n = 3000;
    const w = new Float64Array(n);
    const rep: number[] = [];
    for (let i = 0; i < n; i++) {
      w[i] = i % 3 === 0 ? 2 : 1;
      rep.push(i);
      if (w[i] === 2) rep.push(i);
    }
    const pick = (a: Float64Array, idx: number[]) => Float64Array.from(idx, (i) => a[i]!);
    const first = Array.from({ length: n }, (_, i) => i);
    const weighted = fitGlm(
      design({ x1: pick(sim.x1, first), x2: pick(sim.x2, first) }, n),
      pick(sim.y, first),
      { family: 'poisson', weights: w },
    );
    const expanded = fitGlm(
      design({ x1: pick(sim.x1, rep), x2: pick(sim.x2, rep) }, rep.length),
      pick(sim.y, rep),
      { family: 'poisson' },
    );
    for (let j = 0; j < 3; j++) {
      expect(weighted.coefficients[j]).toBeCloseTo(expanded.coefficients[j]!, 8);
    }
  });

  it('is deterministic: two fits give bit-identical coefficients', () => {
    const d = design({ x1: sim.x1, x2: sim.x2 }, sim.n);
    const a = fitGlm(d, sim.y, { family: 'tweedie', ridge: 0.01 });
    const b = fitGlm(d, sim.y, { family: 'tweedie', ridge: 0.01 });
    expect(a.coefficients.length).toBe(3);
    for (let j = 0; j < a.coefficients.length; j++) {
      expect(Object.is(a.coefficients[j], b.coefficients[j])).toBe(true);
    }
    expect(Object.is(a.deviance, b.deviance)).toBe(true);
  });

  it('predicts by column name, ignoring order and extra columns', () => {
    const noise = new Float64Array(sim.n).fill(7);
    const shuffled = design({ extra: noise, x2: sim.x2, x1: sim.x1 }, sim.n);
    const pred = predictGlm(clean, shuffled);
    for (let i = 0; i < sim.n; i += 101) expect(pred[i]).toBe(cleanPred[i]);
    expect(() => predictGlm(clean, design({ x1: sim.x1 }, sim.n))).toThrow(/x2/);
  });

  it('rejects responses outside the family range and a missing intercept', () => {
    const d = design({ x1: Float64Array.from([0, 1, 2]) }, 3);
    expect(() => fitGlm(d, Float64Array.from([0, 1, -1]), { family: 'poisson' })).toThrow(RangeError);
    expect(() => fitGlm(d, Float64Array.from([0, 1, 2]), { family: 'binomial' })).toThrow(RangeError);
    const noIntercept = { ...d, X: Float64Array.from([0, 0, 1, 1, 1, 2]) };
    expect(() => fitGlm(noIntercept, Float64Array.from([0, 1, 2]), { family: 'poisson' })).toThrow(
      /intercept/,
    );
  });

  it('does not overflow when the linear predictor is extreme', () => {
    const x = Float64Array.from([0, 1, 2, 3, 4, 5]);
    const y = Float64Array.from([0, 0, 0, 1e6, 1e9, 1e12]);
    const fit = fitGlm(design({ x }, 6), y, { family: 'tweedie' });
    const pred = predictGlm(fit, design({ x: Float64Array.from([1000]) }, 1));
    expect(Number.isFinite(fit.deviance)).toBe(true);
    expect(Number.isFinite(pred[0])).toBe(true);
  });
});
