// Generalised linear models for next-year cost and event risk, fitted by iteratively
// reweighted least squares. Everything is plain loops over Float64Array in a fixed order so
// that the same data always gives bit-identical coefficients: a risk list that changed
// between two runs on the same extract would be impossible to defend to a practice.

import { choleskySolve, crossProducts } from './normal-equations.ts';

export interface Design {
  /** Row-major n x p; column 0 is the intercept (all 1). */
  X: Float64Array;
  n: number;
  p: number;
  names: string[];
}

export type Family = 'poisson' | 'tweedie' | 'binomial';

export interface GlmOptions {
  family: Family;
  /** Variance power for tweedie, strictly between 1 and 2. Default 1.5. */
  tweediePower?: number;
  /**
   * L2 penalty on every coefficient except the intercept, applied as if each column were
   * standardised (weighted sd 1). The objective is deviance / (2 * sum of weights) +
   * ridge / 2 * sum of squared standardised coefficients, so the same ridge shrinks a
   * 3,000-patient practice model and a 300,000-patient ICS model comparably.
   */
  ridge?: number;
  /** Maximum IRLS iterations. Default 50. */
  maxIter?: number;
  /** Convergence threshold on the relative change in (penalised) deviance. Default 1e-8. */
  tol?: number;
  /** Prior weights, non-negative; rows with weight 0 do not contribute. */
  weights?: Float64Array;
  /** Coefficients to start from instead of the intercept-only model (one per column). */
  start?: Float64Array;
}

export interface GlmFit {
  family: Family;
  /** Present for tweedie only: the variance power the deviance was computed with. */
  tweediePower?: number;
  /** One per design column; dropped columns are exactly 0 so the full design can still score. */
  coefficients: Float64Array;
  names: string[];
  iterations: number;
  converged: boolean;
  /** Unpenalised deviance at the returned coefficients. */
  deviance: number;
  /** Deviance of the intercept-only model, for a pseudo R-squared on the model card. */
  nullDeviance: number;
  /** Columns left out of the fit because they were constant or collinear with earlier columns. */
  dropped: string[];
}

export const INTERCEPT = 'intercept';

// Means outside e^±50 are not costs in pounds; clamping keeps exp finite and the working
// weights representable. For the logit, ±30 keeps mu at least 1e-13 away from 0 and 1.
export const LOG_ETA_LIMIT = 50;
export const LOGIT_ETA_LIMIT = 30;
const MAX_HALVINGS = 30;

function checkDesign(design: Design, label: string): void {
  const { X, n, p, names } = design;
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(p) || p < 1) {
    throw new RangeError(`${label}: n and p must be non-negative integers with p >= 1`);
  }
  if (X.length !== n * p) throw new RangeError(`${label}: X has ${X.length} values, expected n*p = ${n * p}`);
  if (names.length !== p) throw new RangeError(`${label}: ${names.length} names for ${p} columns`);
  if (new Set(names).size !== p) throw new RangeError(`${label}: column names are not unique`);
}

export function clampEta(eta: number, limit: number): number {
  return eta > limit ? limit : eta < -limit ? -limit : eta;
}

/**
 * Fits a GLM by IRLS: poisson and tweedie with the log link (tweedie as quasi-likelihood with
 * variance mu^power), binomial with the logit link. Starts from the intercept-only fit,
 * halves the step whenever the penalised deviance rises, and stops when its relative change
 * falls below tol.
 *
 * Dropped columns: a non-intercept column whose value is identical on every row is dropped
 * as constant (even with a ridge, which cannot identify it against the intercept). Any other
 * column is dropped as collinear when, working left to right through the design, its
 * Cholesky pivot in the (penalised) first-iteration X'WX is below 1e-9 of its diagonal: the
 * later of two duplicated columns goes, the earlier stays. With a positive ridge duplicates
 * are identifiable and are kept, sharing the effect.
 */
export function fitGlm(design: Design, y: Float64Array, opts: GlmOptions): GlmFit {
  checkDesign(design, 'fitGlm');
  const { X, n, p, names } = design;
  const family = opts.family;
  if (family !== 'poisson' && family !== 'tweedie' && family !== 'binomial') {
    throw new RangeError(`fitGlm: unknown family ${String(family)}`);
  }
  const power = family === 'tweedie' ? (opts.tweediePower ?? 1.5) : 1;
  if (family === 'tweedie' && !(power > 1 && power < 2)) {
    throw new RangeError(`fitGlm: tweediePower must be strictly between 1 and 2, got ${power}`);
  }
  const ridge = opts.ridge ?? 0;
  const maxIter = opts.maxIter ?? 50;
  const tol = opts.tol ?? 1e-8;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) throw new RangeError('fitGlm: ridge must be >= 0');
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new RangeError('fitGlm: maxIter must be >= 1');
  if (!(tol > 0)) throw new RangeError('fitGlm: tol must be > 0');
  if (y.length !== n) throw new RangeError(`fitGlm: y has ${y.length} values for ${n} rows`);
  const w = opts.weights;
  if (w && w.length !== n) throw new RangeError(`fitGlm: weights has ${w.length} values for ${n} rows`);

  const binomial = family === 'binomial';
  const etaLimit = binomial ? LOGIT_ETA_LIMIT : LOG_ETA_LIMIT;

  // One pass for validation, the weighted means/sds the ridge is scaled by, and constants.
  const sumX = new Float64Array(p);
  const first = new Float64Array(p);
  const varies = new Uint8Array(p);
  const nonZero = new Float64Array(p);
  let sumW = 0;
  let sumWY = 0;
  for (let j = 0; j < p; j++) first[j] = n > 0 ? X[j]! : 0;
  for (let i = 0; i < n; i++) {
    const yi = y[i]!;
    const wi = w ? w[i]! : 1;
    if (!Number.isFinite(wi) || wi < 0)
      throw new RangeError(`fitGlm: weight on row ${i} is not a non-negative number`);
    if (!Number.isFinite(yi) || yi < 0 || (binomial && yi > 1)) {
      throw new RangeError(`fitGlm: response on row ${i} is outside the ${family} range`);
    }
    const base = i * p;
    if (X[base] !== 1)
      throw new RangeError(`fitGlm: column 0 must be the intercept (1) but row ${i} has ${X[base]}`);
    sumW += wi;
    sumWY += wi * yi;
    for (let j = 1; j < p; j++) {
      const v = X[base + j]!;
      if (!Number.isFinite(v)) throw new RangeError(`fitGlm: ${names[j]} on row ${i} is not finite`);
      sumX[j]! += wi * v;
      if (v !== first[j]) varies[j] = 1;
      if (v !== 0) nonZero[j]!++;
    }
  }
  if (!(sumW > 0)) throw new RangeError('fitGlm: no rows with positive weight');

  const penalty = new Float64Array(p);
  if (ridge > 0) {
    const ss = new Float64Array(p);
    const mean = new Float64Array(p);
    for (let j = 1; j < p; j++) mean[j] = sumX[j]! / sumW;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i]! : 1;
      const base = i * p;
      for (let j = 1; j < p; j++) {
        const d = X[base + j]! - mean[j]!;
        ss[j]! += wi * d * d;
      }
    }
    for (let j = 1; j < p; j++) penalty[j] = ridge * sumW * (ss[j]! / sumW);
  }

  const active = new Uint8Array(p);
  active[0] = 1;
  const dropped: number[] = [];
  for (let j = 1; j < p; j++) {
    if (varies[j]) active[j] = 1;
    else dropped.push(j);
  }

  const meanY = sumWY / sumW;
  const beta = new Float64Array(p);
  beta[0] = clampEta(binomial ? Math.log(meanY / (1 - meanY)) : Math.log(meanY), etaLimit);
  let eta = new Float64Array(n).fill(beta[0]);
  let etaNew = new Float64Array(n);

  const deviance = (etaV: Float64Array): number => {
    let dev = 0;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i]! : 1;
      if (wi === 0) continue;
      dev += wi * unitDeviance(y[i]!, etaV[i]!, family, power, etaLimit);
    }
    return dev;
  };
  const penaltyOf = (b: Float64Array): number => {
    let s = 0;
    for (let j = 1; j < p; j++) s += penalty[j]! * b[j]! * b[j]!;
    return s;
  };

  const linearPredictorInto = (coefficients: Float64Array, out: Float64Array): void => {
    for (let i = 0; i < n; i++) {
      const base = i * p;
      let s = 0;
      for (let j = 0; j < p; j++) s += X[base + j]! * coefficients[j]!;
      out[i] = s;
    }
  };

  const nullDeviance = deviance(eta);
  let dev = nullDeviance;
  if (opts.start) {
    if (opts.start.length !== p)
      throw new RangeError(`fitGlm: start has ${opts.start.length} values for ${p} columns`);
    for (let j = 0; j < p; j++) beta[j] = active[j] && Number.isFinite(opts.start[j]!) ? opts.start[j]! : 0;
    linearPredictorInto(beta, eta);
    dev = deviance(eta);
  }
  let pdev = dev + penaltyOf(beta);
  let converged = false;
  let iterations = 0;

  const A = new Float64Array(p * p);
  const b = new Float64Array(p);
  const betaNew = new Float64Array(p);
  const work = new Float64Array(n);
  const workZ = new Float64Array(n);
  // Columns non-zero on more than a quarter of rows go through the blocked dense kernel;
  // the rest (one-hot levels, mostly) are visited only where they are non-zero.
  const denseCol = new Uint8Array(p);
  for (let j = 0; j < p; j++) denseCol[j] = nonZero[j]! * 4 > n ? 1 : 0;
  denseCol[0] = 1;

  for (let iter = 0; iter < maxIter; iter++) {
    iterations = iter + 1;
    for (let i = 0; i < n; i++) {
      const pw = w ? w[i]! : 1;
      if (pw === 0) {
        work[i] = 0;
        workZ[i] = 0;
        continue;
      }
      const e = clampEta(eta[i]!, etaLimit);
      const yi = y[i]!;
      if (binomial) {
        const mu = 1 / (1 + Math.exp(-e));
        const wi = pw * mu * (1 - mu);
        work[i] = wi;
        workZ[i] = wi * e + pw * (yi - mu);
      } else {
        const mu = Math.exp(e);
        // W = w * mu^(2-power); writing W*z as W*eta + w*(y-mu)*mu^(1-power) avoids dividing by a tiny mu.
        const muPow = power === 1 ? 1 : Math.pow(mu, 1 - power);
        const wi = pw * mu * muPow;
        work[i] = wi;
        workZ[i] = wi * e + pw * (yi - mu) * muPow;
      }
    }
    crossProducts(X, n, p, work, workZ, active, denseCol, A, b);
    for (let j = 1; j < p; j++) A[j * p + j]! += penalty[j]!;

    const newlyDropped = choleskySolve(A, b, p, active, betaNew);
    // Only the first iteration decides collinearity; a later failure means the working
    // weights have collapsed (separation), and dropping keeps the system solvable.
    for (const j of newlyDropped) dropped.push(j);
    if (iter > 0 && newlyDropped.length > 0) {
      // The step-halving baseline must be the current point without those columns.
      for (const j of newlyDropped) beta[j] = 0;
      linearPredictorInto(beta, eta);
      dev = deviance(eta);
      pdev = dev + penaltyOf(beta);
    }

    // eta is linear in beta, so step-halving can blend linear predictors without another
    // pass over X.
    linearPredictorInto(betaNew, etaNew);
    let devNew = deviance(etaNew);
    let pdevNew = devNew + penaltyOf(betaNew);
    let halvings = 0;
    while (!(pdevNew <= pdev) && relChange(pdev, pdevNew) >= tol && halvings < MAX_HALVINGS) {
      halvings++;
      for (let j = 0; j < p; j++) betaNew[j] = 0.5 * (beta[j]! + betaNew[j]!);
      for (let i = 0; i < n; i++) etaNew[i] = 0.5 * (eta[i]! + etaNew[i]!);
      devNew = deviance(etaNew);
      pdevNew = devNew + penaltyOf(betaNew);
    }
    if (!(pdevNew <= pdev) && relChange(pdev, pdevNew) >= tol) {
      // No step in the Newton direction lowers the objective: stop at the last good point.
      break;
    }
    const change = relChange(pdev, pdevNew);
    beta.set(betaNew);
    const swap = eta;
    eta = etaNew;
    etaNew = swap;
    dev = devNew;
    pdev = pdevNew;
    if (change < tol) {
      converged = true;
      break;
    }
  }

  dropped.sort((a, c) => a - c);
  for (const j of dropped) beta[j] = 0;
  return {
    family,
    ...(family === 'tweedie' ? { tweediePower: power } : {}),
    coefficients: beta,
    names: names.slice(),
    iterations,
    converged,
    deviance: dev,
    nullDeviance,
    dropped: dropped.map((j) => names[j]!),
  };
}

function relChange(before: number, after: number): number {
  return Math.abs(after - before) / (Math.abs(after) + 0.1);
}

function unitDeviance(y: number, eta: number, family: Family, power: number, limit: number): number {
  const e = clampEta(eta, limit);
  if (family === 'binomial') {
    const mu = 1 / (1 + Math.exp(-e));
    let d = 0;
    if (y > 0) d += y * Math.log(y / mu);
    if (y < 1) d += (1 - y) * Math.log((1 - y) / (1 - mu));
    return 2 * d;
  }
  const mu = Math.exp(e);
  if (family === 'poisson') {
    return 2 * ((y > 0 ? y * Math.log(y / mu) : 0) - (y - mu));
  }
  const a = 1 - power;
  const c = 2 - power;
  const yTerm = y > 0 ? Math.pow(y, c) / (a * c) : 0;
  return 2 * (yTerm - (y * Math.pow(mu, a)) / a + Math.pow(mu, c) / c);
}

// Below this many rows a fit is quick enough as it is.
const STAGED_FIT_MIN_ROWS = 40_000;
const STAGED_FIT_EVERY = 4;

/**
 * The same fit as fitGlm, reached in fewer passes over a large design: first to a loose
 * tolerance on every fourth row, then from there on all rows to the full tolerance. Most
 * iterations then run on a quarter of the data; the optimum, and so the coefficients to
 * within the tolerance, are the same. Deterministic, like fitGlm.
 */
export function fitGlmStaged(design: Design, y: Float64Array, opts: GlmOptions): GlmFit {
  const { X, n, p } = design;
  if (n < STAGED_FIT_MIN_ROWS || opts.start) return fitGlm(design, y, opts);
  const m = Math.ceil(n / STAGED_FIT_EVERY);
  const subX = new Float64Array(m * p);
  const subY = new Float64Array(m);
  const subW = opts.weights ? new Float64Array(m) : undefined;
  for (let k = 0; k < m; k++) {
    const i = k * STAGED_FIT_EVERY;
    subX.set(X.subarray(i * p, (i + 1) * p), k * p);
    subY[k] = y[i]!;
    if (subW) subW[k] = opts.weights![i]!;
  }
  let start: Float64Array | undefined;
  try {
    const rough = fitGlm({ ...design, X: subX, n: m }, subY, { ...opts, weights: subW, tol: 1e-5 });
    start = rough.coefficients;
  } catch {
    // A quarter of the rows can lack what the whole has (every weight zero, say): start cold.
  }
  return fitGlm(design, y, { ...opts, start });
}

/**
 * Mean on the response scale (expected cost, count or probability) for each row of a scoring
 * design. Columns are matched by name, so the scoring design may order them differently or
 * carry extra columns; every column the fit uses must be present.
 */
export function predictGlm(fit: GlmFit, design: Design): Float64Array {
  checkDesign(design, 'predictGlm');
  const { X, n, p } = design;
  const position = new Map(design.names.map((name, j) => [name, j] as const));
  const cols: number[] = [];
  const coefs: number[] = [];
  const missing: string[] = [];
  const dropped = new Set(fit.dropped);
  fit.names.forEach((name, j) => {
    if (dropped.has(name)) return;
    const at = position.get(name);
    if (at === undefined) missing.push(name);
    else {
      cols.push(at);
      coefs.push(fit.coefficients[j]!);
    }
  });
  if (missing.length > 0) throw new RangeError(`predictGlm: scoring design lacks ${missing.join(', ')}`);
  const m = cols.length;
  const colIdx = Int32Array.from(cols);
  const coef = Float64Array.from(coefs);
  const binomial = fit.family === 'binomial';
  const limit = binomial ? LOGIT_ETA_LIMIT : LOG_ETA_LIMIT;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * p;
    let eta = 0;
    for (let k = 0; k < m; k++) eta += coef[k]! * X[base + colIdx[k]!]!;
    const e = clampEta(eta, limit);
    out[i] = binomial ? 1 / (1 + Math.exp(-e)) : Math.exp(e);
  }
  return out;
}
