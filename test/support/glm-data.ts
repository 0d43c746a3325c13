// Simulated data and small helpers for the GLM tests.
import { INTERCEPT, type Design, type GlmFit } from '../../src/glm.ts';

export function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function poisson(rand: () => number, mu: number): number {
  const u = rand();
  let k = 0;
  let prob = Math.exp(-mu);
  let cdf = prob;
  while (u > cdf && k < 10_000) {
    k++;
    prob *= mu / k;
    cdf += prob;
  }
  return k;
}

export function exponential(rand: () => number): number {
  return -Math.log(1 - rand());
}

export function design(columns: Record<string, Float64Array>, n: number): Design {
  const names = [INTERCEPT, ...Object.keys(columns)];
  const p = names.length;
  const X = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    X[i * p] = 1;
    names.slice(1).forEach((name, j) => {
      X[i * p + j + 1] = columns[name]![i]!;
    });
  }
  return { X, n, p, names };
}

export function coef(fit: GlmFit, name: string): number {
  const j = fit.names.indexOf(name);
  if (j < 0) throw new Error(`no ${name}`);
  return fit.coefficients[j]!;
}
