// The attacker's linear programmes behind the disclosure audit (see disclosure-audit.ts): one
// measure's cells as columns, its additive sets as equality rows, solved by HiGHS.
import highsModule, { type Highs, type Model } from 'highs';
import { IntegrityError } from './errors.ts';

// HiGHS option values: simplex_strategy dual and primal, and Devex pricing.
const DUAL = 1;
const PRIMAL = 4;
const DEVEX = 1;

/** Open figures below which a block as large as a place is left to the whole table's programmes. */
const FEW_FIGURES = 200;

/** One suppressed figure the attacker can narrow below its protection. */
export interface AuditFailure {
  id: string;
  measure: string;
  low: number;
  high: number;
}

export interface AuditResult {
  failures: AuditFailure[];
  /** Suppressed figures examined (cells x measures). */
  examined: number;
  /** Figures certified without their own pair of programmes. */
  certifiedInBulk: number;
  lps: number;
  seconds: number;
}

// The package's types describe its CommonJS build; imported as ESM, the default export is the loader.
const loadHighs = highsModule as unknown as (typeof highsModule)['default'];
let highsLoaded: Promise<Highs> | undefined;
export const highs = () => (highsLoaded ??= loadHighs());

export interface Measure {
  name: string;
  /** Cell indices in the programme, and each one's column. */
  cells: number[];
  lower: Float64Array;
  upper: Float64Array;
  truth: Float64Array;
  /** Columns whose interval must be wide enough. */
  targets: number[];
  protection: number;
  /** Pounds per unit in the programme: costs run in units of their rounding, to keep HiGHS's absolute tolerances meaningful at system totals of many millions. */
  scale: number;
}

/** The attacker's programme over some of a measure's columns, the others held at constants. */
interface Programme {
  n: number;
  /** Programme column of each measure column, or -1 where it is a constant. */
  colOf: Int32Array;
  lower: Float64Array;
  upper: Float64Array;
  starts: number[];
  indices: number[];
  values: number[];
  rhs: number[];
}

/**
 * Columns the attacker knows exactly (shown zeros), and those `held` at a value, are
 * constants: moved to the right-hand side, so the programme holds only the unknowns, and a
 * set with none left is dropped.
 */
function programme(m: Measure, rows: number[][], held?: (col: number) => number | undefined): Programme {
  const colOf = new Int32Array(m.cells.length).fill(-1);
  const value = (col: number) => (m.lower[col] === m.upper[col] ? m.lower[col]! : held?.(col));
  let n = 0;
  for (let col = 0; col < m.cells.length; col++) if (value(col) === undefined) colOf[col] = n++;
  const p: Programme = {
    n,
    colOf,
    lower: new Float64Array(n),
    upper: new Float64Array(n),
    starts: [0],
    indices: [],
    values: [],
    rhs: [],
  };
  for (const r of rows) {
    let constant = 0;
    r.forEach((col, j) => {
      const sign = j === 0 ? 1 : -1;
      if (colOf[col] === -1) constant -= sign * value(col)!;
      else {
        p.indices.push(colOf[col]!);
        p.values.push(sign);
      }
    });
    if (p.indices.length === p.starts.at(-1)) continue;
    p.starts.push(p.indices.length);
    p.rhs.push(constant);
  }
  for (let col = 0; col < m.cells.length; col++)
    if (colOf[col] !== -1) {
      p.lower[colOf[col]!] = m.lower[col]!;
      p.upper[colOf[col]!] = m.upper[col]!;
    }
  return p;
}

/**
 * Min and max of each target column over the attacker's polytope. Any two feasible tables
 * whose values of a cell differ by the protection prove that cell protected: the true table
 * is one, and every programme's optimum is another, so most cells are certified by the
 * solutions of other cells' programmes and never need their own. Cheap ones come first:
 * within each block (an organisation and those inside it), the rest of the table held at
 * its true values, any solution is a solution of the whole and certifies what it moves;
 * bounds propagated through the sets find most failures outright. Only what is left gets
 * its own programmes over the whole table, on one persistent HiGHS model whose objective
 * alone changes, so each solve starts from the last basis.
 */
export function auditMeasure(
  solver: Highs,
  m: Measure,
  rows: number[][],
  blocks: readonly (readonly number[])[],
  result: AuditResult,
): { col: number; low: number; high: number }[] {
  const { optimal, unbounded } = solver.constants.modelStatus;
  const targetOf = new Int32Array(m.cells.length).fill(-1);
  m.targets.forEach((col, t) => (targetOf[col] = t));
  // Spread of each target over the feasible tables seen so far, starting from the true one.
  const low = Float64Array.from(m.targets, (col) => m.truth[col]!);
  const high = Float64Array.from(low);
  const tolerance = 1e-6 * Math.max(1, m.protection);
  const protectedAt = (t: number) => high[t]! - low[t]! >= m.protection - tolerance;
  result.examined += m.targets.length;

  const whole = programme(m, rows);
  // Bounds propagated through the sets can only be wider than the programme's answer, so a
  // figure they already hold too narrow fails without a programme of its own.
  const [pLow, pHigh] = propagate(whole);
  const failures: { col: number; low: number; high: number }[] = [];
  const settled = new Uint8Array(m.targets.length);
  m.targets.forEach((col, t) => {
    const c = whole.colOf[col]!;
    if (pHigh[c]! - pLow[c]! < m.protection - tolerance) {
      settled[t] = 1;
      failures.push({ col, low: pLow[c]!, high: pHigh[c]! });
    }
  });
  const open = (t: number) => !protectedAt(t) && !settled[t];

  /** Runs `body` with a HiGHS model of `p`; `solve` returns false when the optimum is unbounded. */
  const withModel = (p: Programme, body: (solve: (cost: Float64Array) => boolean, model: Model) => void) => {
    const inf = solver.infinity;
    const model = solver.createModel({
      numCols: p.n,
      numRows: p.rhs.length,
      colCost: new Float64Array(p.n),
      colLower: p.lower,
      colUpper: p.upper.map((x) => (x === Infinity ? inf : x)),
      rowLower: p.rhs,
      rowUpper: p.rhs,
      matrix: {
        format: 'csr',
        numRows: p.rhs.length,
        numCols: p.n,
        starts: p.starts,
        indices: p.indices,
        values: p.values,
      },
    });
    // Measure columns of the targets this programme holds, to read its solutions.
    const seen = m.targets.flatMap((col, t) => (p.colOf[col] === -1 ? [] : [[t, p.colOf[col]!] as const]));
    const all = { kind: 'range', from: 0, to: Math.max(0, p.n - 1) } as const;
    try {
      // Presolve would throw the last basis away.
      model.options.set({ output_flag: false, presolve: 'off', simplex_strategy: DUAL });
      body((cost) => {
        model.changeColsCost(all, cost);
        model.run();
        result.lps++;
        let status = model.getModelStatus();
        if (status !== optimal && status !== unbounded) {
          // A warm start can end in a false verdict on these nearly degenerate programmes
          // (bounds half a unit of rounding wide), and the interior point method tells an
          // unbounded maximum only as "unbounded or infeasible": the dual simplex from a cold
          // start settles both.
          const solverWas = model.options.get('solver');
          const strategyWas = model.options.get('simplex_strategy');
          model.options.set({ solver: 'simplex', simplex_strategy: DUAL });
          model.clearSolver();
          model.run();
          model.options.set({ solver: solverWas, simplex_strategy: strategyWas });
          result.lps++;
          status = model.getModelStatus();
        }
        // Only a maximum can be unbounded (every column is bounded below): no upper limit at all.
        if (status === unbounded) return false;
        if (status !== optimal)
          throw new IntegrityError(
            `disclosure audit: the ${m.name} programme ended with HiGHS status ${status}`,
          );
        const x = model.getSolution().colValue;
        for (const [t, c] of seen) {
          const v = x[c]!;
          if (v < low[t]!) low[t] = v;
          if (v > high[t]!) high[t] = v;
        }
        return true;
      }, model);
    } finally {
      model.dispose();
    }
  };

  // Within each block: its open figures pushed down all at once, up, then by two patterns
  // of signs, which pull apart neighbours a common push moves together.
  const truthOutside = (inside: Set<number>) => (col: number) =>
    inside.has(col) ? undefined : m.truth[col]!;
  // Only the sets that touch a block say anything of it: the others hold constants alone.
  const rowsOf: number[][] = Array.from({ length: m.cells.length }, () => []);
  rows.forEach((r, k) => r.forEach((col) => rowsOf[col]!.push(k)));
  for (const block of blocks) {
    const mine = block.filter((col) => targetOf[col] !== -1 && open(targetOf[col]!));
    if (mine.length === 0) continue;
    const touching = [...new Set(block.flatMap((col) => rowsOf[col]!))].sort((a, b) => a - b);
    // A block as large as a place costs about as much to solve as the whole table; for a few
    // figures, their own programmes over the whole table are cheaper than its four.
    if (mine.length < FEW_FIGURES && touching.length > rows.length / 4) continue;
    const p = programme(
      m,
      touching.map((k) => rows[k]!),
      truthOutside(new Set(block)),
    );
    withModel(p, (solve) => {
      const cost = new Float64Array(p.n);
      for (const sign of [
        () => 1,
        () => -1,
        (k: number) => (k % 2 ? 1 : -1),
        (k: number) => (k % 3 ? -1 : 1),
      ]) {
        cost.fill(0);
        mine.forEach((col, k) => {
          if (open(targetOf[col]!) && p.colOf[col] !== -1) cost[p.colOf[col]!] = sign(k);
        });
        if (cost.some((c) => c !== 0)) solve(cost);
      }
    });
  }
  result.certifiedInBulk += m.targets.filter((_, t) => protectedAt(t)).length;

  // What is left: each figure's own minimum and maximum over the whole table. Each starts
  // at the last optimum, still feasible when only the objective changes: the primal simplex
  // (with Devex pricing, far cheaper per step here than steepest edge) takes it from there.
  if (m.targets.some((_, t) => open(t)))
    withModel(whole, (solve, model) => {
      const cost = new Float64Array(whole.n);
      // First every open figure pushed down at once, then up. These are far from any
      // optimum seen, where the interior point method (with crossover to a vertex, for the
      // warm starts after) takes a fraction of the simplex's time on tables this size.
      model.options.set({ solver: 'ipm' });
      for (const sign of [1, -1]) {
        cost.fill(0);
        m.targets.forEach((col, t) => {
          if (open(t)) cost[whole.colOf[col]!] = sign;
        });
        if (cost.some((c) => c !== 0)) solve(cost);
      }
      cost.fill(0);
      model.options.set({
        solver: 'simplex',
        simplex_strategy: PRIMAL,
        simplex_primal_edge_weight_strategy: DEVEX,
      });
      m.targets.forEach((col, t) => {
        if (settled[t]) return;
        for (const direction of [1, -1]) {
          if (protectedAt(t)) break;
          cost[whole.colOf[col]!] = direction;
          if (!solve(cost)) high[t] = Infinity;
          cost[whole.colOf[col]!] = 0;
        }
        if (!protectedAt(t)) failures.push({ col, low: low[t]!, high: high[t]! });
      });
    });
  return failures;
}

/**
 * Bounds tightened through each equality row in turn (each column's range given the others'),
 * a few passes over the rows. A relaxation of the programme: never narrower than its answer.
 */
function propagate(p: Programme, passes = 20): [Float64Array, Float64Array] {
  const { starts, indices, values, rhs } = p;
  const lo = Float64Array.from(p.lower);
  const hi = Float64Array.from(p.upper);
  for (let pass = 0; pass < passes; pass++) {
    let changed = false;
    for (let r = 0; r < rhs.length; r++) {
      // Activity bounds of the row, counting infinite contributions apart.
      let minAct = 0;
      let maxAct = 0;
      let minInf = 0;
      let maxInf = 0;
      for (let k = starts[r]!; k < starts[r + 1]!; k++) {
        const a = values[k]!;
        const j = indices[k]!;
        const [l, h] = a > 0 ? [lo[j]! * a, hi[j]! * a] : [hi[j]! * a, lo[j]! * a];
        if (l === -Infinity) minInf++;
        else minAct += l;
        if (h === Infinity) maxInf++;
        else maxAct += h;
      }
      for (let k = starts[r]!; k < starts[r + 1]!; k++) {
        const a = values[k]!;
        const j = indices[k]!;
        const [l, h] = a > 0 ? [lo[j]! * a, hi[j]! * a] : [hi[j]! * a, lo[j]! * a];
        // The others' activity range, then a * x_j = rhs - others.
        const othersMin =
          minInf - (l === -Infinity ? 1 : 0) > 0 ? -Infinity : minAct - (l === -Infinity ? 0 : l);
        const othersMax =
          maxInf - (h === Infinity ? 1 : 0) > 0 ? Infinity : maxAct - (h === Infinity ? 0 : h);
        const [newLo, newHi] =
          a > 0
            ? [(rhs[r]! - othersMax) / a, (rhs[r]! - othersMin) / a]
            : [(rhs[r]! - othersMin) / a, (rhs[r]! - othersMax) / a];
        if (newLo > lo[j]! + 1e-9) {
          lo[j] = newLo;
          changed = true;
        }
        if (newHi < hi[j]! - 1e-9) {
          hi[j] = newHi;
          changed = true;
        }
      }
    }
    if (!changed) break;
  }
  return [lo, hi];
}
