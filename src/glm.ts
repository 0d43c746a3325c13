// Generalised linear models for next-year cost and event risk, fitted by iteratively
// reweighted least squares. Everything is plain loops over Float64Array in a fixed order so
// that the same data always gives bit-identical coefficients: a risk list that changed
// between two runs on the same extract would be impossible to defend to a practice.

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
const LOG_ETA_LIMIT = 50;
const LOGIT_ETA_LIMIT = 30;
// A column whose Cholesky pivot falls below this fraction of its own diagonal is (to
// rounding) a linear combination of the columns before it. Relative to its own diagonal so
// rare dummies (few non-zero rows) are not mistaken for collinear ones; 1e-9 tolerates a
// condition number of about 1e6 in the columns that explain it.
const COLLINEAR_TOL = 1e-9;
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

function clampEta(eta: number, limit: number): number {
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

const BLOCK = 128;

/**
 * Overwrites A's upper triangle with X'WX and b with X'(Wz), over active columns only.
 * Dense columns are copied a block of rows at a time into column-major buffers so the
 * dense x dense part is a set of contiguous dot products (four at a time, sharing the
 * weighted column); sparse columns are visited only on rows where they are non-zero.
 * The summation order depends only on the data layout, so results are reproducible.
 */
function crossProducts(
  X: Float64Array,
  n: number,
  p: number,
  work: Float64Array,
  workZ: Float64Array,
  active: Uint8Array,
  denseCol: Uint8Array,
  A: Float64Array,
  b: Float64Array,
): void {
  A.fill(0);
  b.fill(0);
  const dense: number[] = [];
  const sparse: number[] = [];
  for (let j = 0; j < p; j++) {
    if (active[j] !== 1) continue;
    if (denseCol[j] === 1) dense.push(j);
    else sparse.push(j);
  }
  const D = Int32Array.from(dense);
  const S = Int32Array.from(sparse);
  const nd = D.length;
  const ns = S.length;
  const xb = new Float64Array(nd * BLOCK);
  const wxb = new Float64Array(nd * BLOCK);
  const zb = new Float64Array(BLOCK);
  const sIdx = new Int32Array(ns);
  const sVal = new Float64Array(ns);

  for (let start = 0; start < n; start += BLOCK) {
    const len = Math.min(BLOCK, n - start);
    for (let r = 0; r < len; r++) {
      const i = start + r;
      const base = i * p;
      const wi = work[i]!;
      const wz = workZ[i]!;
      zb[r] = wz;
      for (let k = 0; k < nd; k++) {
        const v = X[base + D[k]!]!;
        xb[k * BLOCK + r] = v;
        wxb[k * BLOCK + r] = wi * v;
      }
      if (ns === 0 || wi === 0) continue;
      let m = 0;
      for (let k = 0; k < ns; k++) {
        const v = X[base + S[k]!]!;
        if (v !== 0) {
          sIdx[m] = S[k]!;
          sVal[m] = v;
          m++;
        }
      }
      for (let a = 0; a < m; a++) {
        const ja = sIdx[a]!;
        const va = sVal[a]!;
        const wva = wi * va;
        b[ja]! += va * wz;
        const row = ja * p;
        for (let c = a; c < m; c++) A[row + sIdx[c]!]! += wva * sVal[c]!;
        for (let k = 0; k < nd; k++) {
          const jd = D[k]!;
          const prod = wva * X[base + jd]!;
          if (jd < ja) A[jd * p + ja]! += prod;
          else A[row + jd]! += prod;
        }
      }
    }
    for (let a = 0; a < nd; a++) {
      const oa = a * BLOCK;
      const rowA = D[a]! * p;
      let sb = 0;
      for (let r = 0; r < len; r++) sb += xb[oa + r]! * zb[r]!;
      b[D[a]!]! += sb;
      let c = a;
      for (; c + 3 < nd; c += 4) {
        const o0 = c * BLOCK;
        const o1 = o0 + BLOCK;
        const o2 = o1 + BLOCK;
        const o3 = o2 + BLOCK;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let r = 0; r < len; r++) {
          const v = wxb[oa + r]!;
          s0 += v * xb[o0 + r]!;
          s1 += v * xb[o1 + r]!;
          s2 += v * xb[o2 + r]!;
          s3 += v * xb[o3 + r]!;
        }
        A[rowA + D[c]!]! += s0;
        A[rowA + D[c + 1]!]! += s1;
        A[rowA + D[c + 2]!]! += s2;
        A[rowA + D[c + 3]!]! += s3;
      }
      for (; c < nd; c++) {
        const oc = c * BLOCK;
        let s = 0;
        for (let r = 0; r < len; r++) s += wxb[oa + r]! * xb[oc + r]!;
        A[rowA + D[c]!]! += s;
      }
    }
  }
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

/**
 * Solves M x = rhs for the active columns by a left-looking Cholesky on the upper triangle of
 * M, deactivating columns whose pivot is negligible. Inactive columns get x = 0. Returns the
 * columns it deactivated.
 */
function choleskySolve(
  M: Float64Array,
  rhs: Float64Array,
  p: number,
  active: Uint8Array,
  x: Float64Array,
): number[] {
  const L = new Float64Array(p * p);
  const deactivated: number[] = [];
  for (let j = 0; j < p; j++) {
    if (active[j] !== 1) continue;
    const diag = M[j * p + j]!;
    let d = diag;
    for (let k = 0; k < j; k++) {
      if (active[k] === 1) d -= L[j * p + k]! * L[j * p + k]!;
    }
    if (!(diag > 0) || !(d > COLLINEAR_TOL * diag)) {
      active[j] = 0;
      deactivated.push(j);
      continue;
    }
    const ljj = Math.sqrt(d);
    L[j * p + j] = ljj;
    for (let i = j + 1; i < p; i++) {
      if (active[i] !== 1) continue;
      let s = M[j * p + i]!;
      for (let k = 0; k < j; k++) {
        if (active[k] === 1) s -= L[i * p + k]! * L[j * p + k]!;
      }
      L[i * p + j] = s / ljj;
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    if (active[i] !== 1) continue;
    let s = rhs[i]!;
    for (let k = 0; k < i; k++) if (active[k] === 1) s -= L[i * p + k]! * z[k]!;
    z[i] = s / L[i * p + i]!;
  }
  x.fill(0);
  for (let i = p - 1; i >= 0; i--) {
    if (active[i] !== 1) continue;
    let s = z[i]!;
    for (let k = i + 1; k < p; k++) if (active[k] === 1) s -= L[k * p + i]! * x[k]!;
    x[i] = s / L[i * p + i]!;
  }
  return deactivated;
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

/** A fit resolved against its encoding: what every prediction adds up, term by term. */
interface LinearPredictor {
  /** Intercept less each slope times its training mean. */
  base: number;
  /** Numeric terms with a non-zero slope, per unit of the raw column (not the standardised one). */
  numeric: { name: string; slope: number }[];
  categorical: { name: string; byLevel: Map<string, number>; reference: string; fallback: number }[];
  binomial: boolean;
  limit: number;
}

function linearPredictor(fit: GlmFit, enc: Encoding, fn: string): LinearPredictor {
  const dropped = new Set(fit.dropped);
  const coefficient = new Map(
    fit.names.map((name, j) => [name, dropped.has(name) ? 0 : fit.coefficients[j]!]),
  );
  const covered = new Set([INTERCEPT, ...enc.numeric.map((num) => num.name)]);
  for (const cat of enc.categorical)
    for (const level of cat.levels) covered.add(levelColumn(cat.name, level));
  const missing = fit.names.filter((name) => !dropped.has(name) && !covered.has(name));
  if (missing.length > 0) throw new RangeError(`${fn}: encoding lacks ${missing.join(', ')}`);
  const of = (name: string): number => coefficient.get(name) ?? 0;
  // c * (x - mean) / sd = (c / sd) * x - (c / sd) * mean: the second part is the same for
  // every row, and the first is nothing where x is 0 (most condition flags, most rows).
  let base = of(INTERCEPT);
  const numeric = enc.numeric
    .map((num) => {
      const { centre, spread } = standardisation(num);
      return { num, centre, slope: of(num.name) / spread };
    })
    .filter((t) => t.slope !== 0);
  for (const { centre, slope } of numeric) base -= slope * centre;
  const binomial = fit.family === 'binomial';
  return {
    base,
    numeric: numeric.map(({ num, slope }) => ({ name: num.name, slope })),
    categorical: enc.categorical.map((cat) => {
      const byLevel = new Map(cat.levels.map((level) => [level, of(levelColumn(cat.name, level))] as const));
      return { name: cat.name, byLevel, reference: cat.reference, fallback: byLevel.get(OTHER_LEVEL) ?? 0 };
    }),
    binomial,
    limit: binomial ? LOGIT_ETA_LIMIT : LOG_ETA_LIMIT,
  };
}

/**
 * The same predictions as predictGlm(fit, encode(rows, enc, n)), computed column by column
 * from the raw rows without building the design: scoring a million rows this way avoids
 * writing (and collecting) a million-by-p matrix.
 */
export function predictColumns(fit: GlmFit, enc: Encoding, rows: Columns, n: number): Float64Array {
  const lp = linearPredictor(fit, enc, 'predictColumns');
  const eta = new Float64Array(n).fill(lp.base);
  for (const { name, slope } of lp.numeric) {
    const col = columnOf(rows, name, n, 'predictColumns');
    for (let i = 0; i < n; i++) {
      const x = numericValue(col[i], name, i, 'predictColumns');
      if (x !== 0) eta[i]! += slope * x;
    }
  }
  for (const cat of lp.categorical) {
    const col = columnOf(rows, cat.name, n, 'predictColumns');
    for (let i = 0; i < n; i++) {
      const level = levelOf(col[i]);
      eta[i]! += cat.byLevel.get(level) ?? (level === cat.reference ? 0 : cat.fallback);
    }
  }
  for (let i = 0; i < n; i++) {
    const e = clampEta(eta[i]!, lp.limit);
    eta[i] = lp.binomial ? 1 / (1 + Math.exp(-e)) : Math.exp(e);
  }
  return eta;
}

/**
 * The same prediction as predictColumns, as a SQL expression, for scoring rows where they
 * are: in the database, side by side on every core, instead of carried out to JavaScript.
 * It reads columns named as the encoding's features (numeric ones never null, categorical
 * ones as text); every number and level is a bound parameter whose name starts with
 * `prefix`, and `identifier` quotes a column name. Sums run in predictColumns' order.
 */
export function predictSql(
  fit: GlmFit,
  enc: Encoding,
  prefix: string,
  identifier: (name: string) => string,
): { sql: string; params: Record<string, number | string> } {
  const lp = linearPredictor(fit, enc, 'predictSql');
  const params: Record<string, number | string> = {};
  const bind = (value: number | string): string => {
    const name = `${prefix}_${Object.keys(params).length}`;
    params[name] = value;
    return `$${name}`;
  };
  let eta = `${bind(lp.base)}::DOUBLE`;
  for (const { name, slope } of lp.numeric) eta = `(${eta} + ${bind(slope)} * ${identifier(name)})`;
  for (const cat of lp.categorical) {
    const whens = [...cat.byLevel].map(([level, c]) => `when ${bind(level)} then ${bind(c)}`);
    whens.push(`when ${bind(cat.reference)} then 0`);
    const level = `coalesce(${identifier(cat.name)}, ${bind(MISSING_LEVEL)})`;
    eta = `(${eta} + case ${level} ${whens.join(' ')} else ${bind(cat.fallback)} end)`;
  }
  const limit = bind(lp.limit);
  const clamped = `greatest(least(${eta}, ${limit}), -${limit})`;
  return { sql: lp.binomial ? `1 / (1 + exp(-${clamped}))` : `exp(${clamped})`, params };
}

// ---------------------------------------------------------------------------------------
// Feature encoding

export type Columns = Record<string, ArrayLike<number> | ArrayLike<string | null>>;

export interface FeatureSpec {
  numeric: string[];
  /**
   * Numeric columns that hold only 0 and 1, entered as they are rather than standardised: the
   * coefficient then compares having the thing with not, and the column stays zero on most
   * rows, where the fit's cross-products skip it (standardised, it would be non-zero on all).
   * The ridge is scaled by each column's spread either way, so the fit is the same model.
   */
  flags?: string[];
  categorical: string[];
  /** Levels seen on fewer training rows are pooled into "other". Default 30. */
  minLevelCount?: number;
}

export interface Encoding {
  /**
   * The training mean and sd of each numeric column. `constant` marks a column with sd 0 in
   * training; it is still emitted (and then dropped by fitGlm). `flag` marks a 0/1 column
   * entered as it is (FeatureSpec.flags), not standardised.
   */
  numeric: { name: string; mean: number; sd: number; constant?: boolean; flag?: boolean }[];
  categorical: { name: string; levels: string[]; reference: string }[];
}

export const OTHER_LEVEL = 'other';
export const MISSING_LEVEL = '(missing)';

function columnOf(rows: Columns, name: string, n: number | undefined, fn: string): ArrayLike<unknown> {
  const col = rows[name] as ArrayLike<unknown> | undefined;
  if (col === undefined) throw new RangeError(`${fn}: no column named ${name}`);
  if (n !== undefined && col.length < n)
    throw new RangeError(`${fn}: column ${name} has ${col.length} rows, need ${n}`);
  return col;
}

function numericValue(v: unknown, name: string, i: number, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RangeError(`${fn}: ${name} on row ${i} is not a finite number (impute before encoding)`);
  }
  return v;
}

function levelOf(v: unknown): string {
  return v === null || v === undefined ? MISSING_LEVEL : String(v);
}

/**
 * Learns the encoding from training rows: numeric columns standardised with the training mean
 * and sample sd; categorical levels seen on fewer than minLevelCount rows pooled into "other",
 * and the most frequent level (after pooling; ties to the lower code-unit order) made the
 * reference. A pooled "other" that is itself rarer than minLevelCount is folded into the
 * reference instead of getting a coefficient of its own. Null categorical values are the
 * level "(missing)".
 */
export function learnEncoding(rows: Columns, spec: FeatureSpec): Encoding {
  const minCount = spec.minLevelCount ?? 30;
  const all = [...spec.numeric, ...spec.categorical];
  if (new Set(all).size !== all.length) throw new RangeError('learnEncoding: a column is listed twice');
  const flags = new Set(spec.flags ?? []);
  for (const name of flags)
    if (!spec.numeric.includes(name))
      throw new RangeError(`learnEncoding: flag ${name} is not a numeric column`);
  const lengths = new Set(all.map((name) => columnOf(rows, name, undefined, 'learnEncoding').length));
  if (lengths.size > 1) throw new RangeError('learnEncoding: columns have different lengths');

  const numeric = spec.numeric.map((name) => {
    const col = columnOf(rows, name, undefined, 'learnEncoding');
    const n = col.length;
    const flag = flags.has(name);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = numericValue(col[i], name, i, 'learnEncoding');
      if (flag && v !== 0 && v !== 1)
        throw new RangeError(`learnEncoding: flag ${name} on row ${i} is ${v}, not 0 or 1`);
      sum += v;
    }
    const mean = n > 0 ? sum / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = (col[i] as number) - mean;
      ss += d * d;
    }
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    return {
      name,
      mean,
      sd,
      ...(sd > 0 ? {} : { constant: true }),
      ...(flag ? { flag: true } : {}),
    };
  });

  const categorical = spec.categorical.map((name) => {
    const col = columnOf(rows, name, undefined, 'learnEncoding');
    const raw = new Map<string, number>();
    for (let i = 0; i < col.length; i++) {
      const level = levelOf(col[i]);
      raw.set(level, (raw.get(level) ?? 0) + 1);
    }
    const pooled = new Map<string, number>();
    for (const [level, count] of raw) {
      const to = count < minCount ? OTHER_LEVEL : level;
      pooled.set(to, (pooled.get(to) ?? 0) + count);
    }
    const otherCount = pooled.get(OTHER_LEVEL) ?? 0;
    const rareOther = otherCount > 0 && otherCount < minCount;
    if (rareOther) pooled.delete(OTHER_LEVEL);
    const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const ranked = [...pooled.entries()].sort((a, b) => b[1] - a[1] || byCode(a[0], b[0]));
    const reference = ranked.length > 0 ? ranked[0]![0] : OTHER_LEVEL;
    const levels = ranked
      .map(([level]) => level)
      .filter((level) => level !== reference)
      .sort((a, b) => (a === OTHER_LEVEL ? 1 : b === OTHER_LEVEL ? -1 : byCode(a, b)));
    return { name, levels, reference };
  });
  return { numeric, categorical };
}

/**
 * What encode subtracts from a numeric column and divides it by, and so what scoring undoes:
 * the training mean and sd; for a flag, nothing (it enters as 0/1); a constant is not scaled.
 */
function standardisation(num: Encoding['numeric'][number]): { centre: number; spread: number } {
  return num.flag ? { centre: 0, spread: 1 } : { centre: num.mean, spread: num.sd > 0 ? num.sd : 1 };
}

/** Design column name for a categorical level, e.g. `age_band=65-74`. */
export function levelColumn(name: string, level: string): string {
  return `${name}=${level}`;
}

/**
 * Builds the design for n rows: intercept, then the numerics (standardised, flags as they are), then one 0/1
 * column per kept categorical level. A level not kept (rare in training, or never seen)
 * scores as "other" when the encoding has an "other" column, otherwise as the reference.
 */
const ENCODE_BLOCK_ROWS = 256;

export function encode(rows: Columns, enc: Encoding, n: number): Design {
  const names = [INTERCEPT];
  for (const num of enc.numeric) names.push(num.name);
  for (const cat of enc.categorical) for (const level of cat.levels) names.push(levelColumn(cat.name, level));
  const p = names.length;
  const X = new Float64Array(n * p);
  const numeric = enc.numeric.map((num, k) => ({
    name: num.name,
    col: columnOf(rows, num.name, n, 'encode'),
    mean: standardisation(num).centre,
    scale: 1 / standardisation(num).spread,
    j: 1 + k,
  }));
  let next = 1 + enc.numeric.length;
  const categorical = enc.categorical.map((cat) => {
    const offset = new Map(cat.levels.map((level, k) => [level, next + k] as const));
    next += cat.levels.length;
    return {
      col: columnOf(rows, cat.name, n, 'encode'),
      offset,
      fallback: offset.get(OTHER_LEVEL),
      reference: cat.reference,
    };
  });
  // A block of rows at a time, so that the rows being written stay in cache while each
  // column is visited: column by column over all rows, every write would miss it.
  for (let start = 0; start < n; start += ENCODE_BLOCK_ROWS) {
    const end = Math.min(n, start + ENCODE_BLOCK_ROWS);
    for (let i = start; i < end; i++) X[i * p] = 1;
    for (const { name, col, mean, scale, j } of numeric)
      for (let i = start; i < end; i++)
        X[i * p + j] = (numericValue(col[i], name, i, 'encode') - mean) * scale;
    for (const { col, offset, fallback, reference } of categorical) {
      for (let i = start; i < end; i++) {
        const level = levelOf(col[i]);
        const at = offset.get(level) ?? (level === reference ? undefined : fallback);
        if (at !== undefined) X[i * p + at] = 1;
      }
    }
  }
  return { X, n, p, names };
}

export interface FitTerm {
  term: string;
  coefficient: number;
  /** exp(coefficient): a rate ratio for the log link, an odds ratio for binomial. */
  rate_ratio: number;
  /** What the ratio compares, e.g. "per 1 SD (12.4)" or "vs age_band=45-64". */
  comparison: string;
}

/**
 * Model-card rows: one per fitted term (dropped columns are listed in fit.dropped instead).
 * Numeric coefficients are per training standard deviation because encode standardises them;
 * a flag's compares having it with not.
 */
export function describeFit(fit: GlmFit, enc: Encoding): FitTerm[] {
  const comparisons = new Map<string, string>();
  comparisons.set(INTERCEPT, 'baseline: reference levels, numerics at their training mean');
  for (const num of enc.numeric)
    comparisons.set(num.name, num.flag ? 'present vs absent' : `per 1 SD (${Number(num.sd.toPrecision(4))})`);
  for (const cat of enc.categorical) {
    for (const level of cat.levels) {
      comparisons.set(levelColumn(cat.name, level), `vs ${levelColumn(cat.name, cat.reference)}`);
    }
  }
  const dropped = new Set(fit.dropped);
  const rows: FitTerm[] = [];
  fit.names.forEach((term, j) => {
    if (dropped.has(term)) return;
    const coefficient = fit.coefficients[j]!;
    rows.push({
      term,
      coefficient,
      rate_ratio: Math.exp(coefficient),
      comparison: comparisons.get(term) ?? '',
    });
  });
  return rows;
}
