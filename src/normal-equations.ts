// The weighted normal equations at the heart of each IRLS step: forming X'WX and X'Wz over
// the active columns, and solving them by Cholesky, dropping columns that are (to rounding)
// combinations of earlier ones. Fixed summation orders keep every fit reproducible.

// A column whose Cholesky pivot falls below this fraction of its own diagonal is (to
// rounding) a linear combination of the columns before it. Relative to its own diagonal so
// rare dummies (few non-zero rows) are not mistaken for collinear ones; 1e-9 tolerates a
// condition number of about 1e6 in the columns that explain it.
const COLLINEAR_TOL = 1e-9;

const BLOCK = 128;

/**
 * Overwrites A's upper triangle with X'WX and b with X'(Wz), over active columns only.
 * Dense columns are copied a block of rows at a time into column-major buffers so the
 * dense x dense part is a set of contiguous dot products (four at a time, sharing the
 * weighted column); sparse columns are visited only on rows where they are non-zero.
 * The summation order depends only on the data layout, so results are reproducible.
 */
export function crossProducts(
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

/**
 * Solves M x = rhs for the active columns by a left-looking Cholesky on the upper triangle of
 * M, deactivating columns whose pivot is negligible. Inactive columns get x = 0. Returns the
 * columns it deactivated.
 */
export function choleskySolve(
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
