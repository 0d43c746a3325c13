// The disclosure audit: proves, for every suppressed cell of a run, that an attacker who
// holds every published table and knows the rules cannot narrow it below a protection
// interval, and extends the suppression until that holds. This is tau-ARGUS's secondary
// suppression with audit (tau-ARGUS user manual, "protection levels" and "audit"), with the
// protection interval NHS Digital's HES analysis guide and ONS's guidance on small counts
// ask for: a suppressed figure must not be recoverable, exactly or nearly, from the rest.
//
// The attacker's model: every published cell is a variable; every additive set is an
// equality (total = sum of parts); a shown count bounds its true count by the rounding
// rule; a shown 0 is exactly 0; a suppressed count is at least 1 (zeros are never
// suppressed, and the rules say so); a cost is at least 0, within its rounding where
// shown and 0 where its count is 0. For a suppressed cell the attacker's interval is the
// minimum and maximum of its variable by linear programming, counts and each cost measure
// as separate programmes over the same sets. Integer counts could be narrowed a little
// further by integer programming; the protection widths leave room for that.
import highsModule, { type Highs, type Model } from 'highs';
import {
  applyDisclosureControl,
  type AdditiveSet,
  type PublishedCell,
  type RawCell,
  type SuppressionRules,
} from './disclosure.ts';
import { IntegrityError } from './errors.ts';

export interface Protection {
  /** Narrowest attacker's interval (max minus min, patients) for a suppressed count. */
  count: number;
  /** Narrowest attacker's interval (GBP) for a suppressed cost. */
  cost: number;
}

// HiGHS option values: simplex_strategy dual and primal, and Devex pricing.
const DUAL = 1;
const PRIMAL = 4;
const DEVEX = 1;

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
const highs = () => (highsLoaded ??= loadHighs());

/**
 * The true count's bounds given its shown value v, from the rule that rounds n to
 * floor((2n + R) / 2R) * R: that equals v exactly when v - R/2 <= n < v + R/2, so
 * n runs from v - floor(R/2) to v + ceil(R/2) - 1; it is also above the suppressed range.
 */
export function countBounds(v: number, rules: SuppressionRules): [number, number] {
  const R = rules.roundTo;
  return [Math.max(v - Math.floor(R / 2), rules.max + 1), v + Math.ceil(R / 2) - 1];
}

/** The true cost's bounds given its shown value c, rounded half up to C: c - C/2 <= x < c + C/2. */
export function costBounds(c: number, rules: SuppressionRules): [number, number] {
  return [Math.max(0, c - rules.costRoundTo / 2), c + rules.costRoundTo / 2];
}

interface Measure {
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

export interface AuditScope {
  /** Cells of withheld tables: unknowns to the attacker, with no bound but 0 below. */
  unpublished?: ReadonlySet<string>;
  /** Audit only these cells' figures (the others are known to pass). */
  only?: ReadonlySet<string>;
  /**
   * Groups of cells that can move among themselves while the rest of the table stays put
   * (an organisation and the organisations inside it), smallest first: cheap places to
   * find the second feasible table that certifies a cell.
   */
  blocks?: readonly (readonly string[])[];
}

/** The attacker's intervals for every suppressed figure in scope, by HiGHS. */
export async function auditDisclosure(
  cells: readonly RawCell[],
  sets: readonly AdditiveSet[],
  published: ReadonlyMap<string, PublishedCell>,
  rules: SuppressionRules,
  protection: Protection,
  scope: AuditScope = {},
): Promise<AuditResult> {
  const { unpublished = new Set(), only, blocks = [] } = scope;
  const started = performance.now();
  const index = new Map(cells.map((c, i) => [c.id, i]));
  const costNames = [...new Set(cells.flatMap((c) => Object.keys(c.costs ?? {})))].sort();
  const shown = (i: number) => published.get(cells[i]!.id)!;
  const hidden = (i: number) =>
    shown(i).suppressed && !unpublished.has(cells[i]!.id) && (!only || only.has(cells[i]!.id));

  const measures: Measure[] = [];
  {
    const n = cells.length;
    const m: Measure = {
      name: 'patients',
      cells: cells.map((_, i) => i),
      lower: new Float64Array(n),
      upper: new Float64Array(n),
      truth: new Float64Array(n),
      targets: [],
      protection: protection.count,
      scale: 1,
    };
    for (let i = 0; i < n; i++) {
      const p = shown(i);
      m.truth[i] = cells[i]!.patients;
      if (unpublished.has(cells[i]!.id)) [m.lower[i], m.upper[i]] = [0, Infinity];
      else if (p.suppressed) {
        [m.lower[i], m.upper[i]] = [1, Infinity];
        if (hidden(i)) m.targets.push(i);
      } else if (p.patients === 0) [m.lower[i], m.upper[i]] = [0, 0];
      else [m.lower[i], m.upper[i]] = countBounds(p.patients!, rules);
    }
    measures.push(m);
  }
  for (const name of costNames) {
    const members = cells.flatMap((c, i) => (c.costs && name in c.costs ? [i] : []));
    const k = members.length;
    const m: Measure = {
      name,
      cells: members,
      lower: new Float64Array(k),
      upper: new Float64Array(k),
      truth: new Float64Array(k),
      targets: [],
      protection: protection.cost / rules.costRoundTo,
      scale: rules.costRoundTo,
    };
    members.forEach((i, col) => {
      const p = shown(i);
      m.truth[col] = cells[i]!.costs![name]! / m.scale;
      if (unpublished.has(cells[i]!.id) || p.suppressed) [m.lower[col], m.upper[col]] = [0, Infinity];
      else if (p.patients === 0) [m.lower[col], m.upper[col]] = [0, 0];
      else
        [m.lower[col], m.upper[col]] = costBounds(p.costs[name]!, rules).map((x) => x / m.scale) as [
          number,
          number,
        ];
      if (hidden(i)) m.targets.push(col);
    });
    measures.push(m);
  }

  const solver = await highs();
  const result: AuditResult = { failures: [], examined: 0, certifiedInBulk: 0, lps: 0, seconds: 0 };
  for (const m of measures) {
    if (m.targets.length === 0) continue;
    const column = new Map(m.cells.map((i, col) => [i, col]));
    const rows: number[][] = [];
    for (const s of sets) {
      const cols = [s.total, ...s.parts].map((id) => column.get(index.get(id)!));
      // A set whose cells do not all carry this measure (attrition steps have no cost) says nothing of it.
      if (cols.every((c) => c !== undefined)) rows.push(cols as number[]);
    }
    const blockCols = blocks.map((ids) =>
      ids.flatMap((id) => {
        const col = column.get(index.get(id)!);
        return col === undefined ? [] : [col];
      }),
    );
    for (const f of auditMeasure(solver, m, rows, blockCols, result))
      result.failures.push({
        id: cells[m.cells[f.col]!]!.id,
        measure: m.name,
        low: f.low * m.scale,
        high: f.high * m.scale,
      });
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
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
function auditMeasure(
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
          // (bounds half a unit of rounding wide); a cold start settles it.
          model.clearSolver();
          model.run();
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
  for (const block of blocks) {
    const mine = block.filter((col) => targetOf[col] !== -1 && open(targetOf[col]!));
    if (mine.length === 0) continue;
    const p = programme(m, rows, truthOutside(new Set(block)));
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
      // First every open figure pushed down at once, then up: the dual simplex does best
      // from a cold start and far from the last optimum.
      for (const sign of [1, -1]) {
        cost.fill(0);
        m.targets.forEach((col, t) => {
          if (open(t)) cost[whole.colOf[col]!] = sign;
        });
        if (cost.some((c) => c !== 0)) solve(cost);
      }
      cost.fill(0);
      model.options.set({ simplex_strategy: PRIMAL, simplex_primal_edge_weight_strategy: DEVEX });
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

export interface AuditedRelease {
  published: Map<string, PublishedCell>;
  /** Tables that are not published because no suppression pattern passed the audit. */
  withheld: string[];
  /** Cells suppressed beyond the set-by-set rule so that the audit passes. */
  added: number;
  rounds: number;
  lps: number;
  examined: number;
  certifiedInBulk: number;
  seconds: number;
  /** What the attacker could still narrow, in the withheld tables (empty when none is). */
  failures: AuditFailure[];
}

/**
 * Disclosure control with audit: the set-by-set suppression of applyDisclosureControl, then
 * audit rounds. After each round that fails, every narrowed cell gets one more hidden
 * neighbour (the smallest non-zero shown cell, then by id, among the sets it belongs to)
 * and the whole pattern is audited again. When a narrowed cell has no neighbour left to
 * hide, or after `maxRounds`, the tables holding the narrowed cells are withheld (their cells
 * become unknowns to the attacker) and the rest audited again, until it passes.
 */
export async function protectWithAudit(
  cells: readonly RawCell[],
  sets: readonly AdditiveSet[],
  rules: SuppressionRules,
  protection: Protection,
  tablesOf: (id: string) => readonly string[],
  blocks: readonly (readonly string[])[] = [],
  maxRounds = 100,
): Promise<AuditedRelease> {
  const byId = new Map(cells.map((c) => [c.id, c]));
  const setsOf = new Map<string, AdditiveSet[]>();
  for (const s of sets)
    for (const id of [s.total, ...s.parts]) {
      const list = setsOf.get(id);
      if (list) list.push(s);
      else setsOf.set(id, [s]);
    }
  let extra = new Set<string>();
  let only: Set<string> | undefined;
  const withheld = new Set<string>();
  const unpublished = new Set<string>();
  const release: AuditedRelease = {
    published: new Map(),
    withheld: [],
    added: 0,
    rounds: 0,
    lps: 0,
    examined: 0,
    certifiedInBulk: 0,
    seconds: 0,
    failures: [],
  };
  const setBySet = [...applyDisclosureControl(cells, sets, rules).values()].filter(
    (p) => p.reason === 'secondary',
  ).length;
  for (;;) {
    release.rounds++;
    const published = applyDisclosureControl(cells, sets, rules, extra);
    const audit = await auditDisclosure(cells, sets, published, rules, protection, {
      unpublished,
      only,
      blocks,
    });
    release.lps += audit.lps;
    release.examined += audit.examined;
    release.certifiedInBulk += audit.certifiedInBulk;
    release.seconds += audit.seconds;
    if (audit.failures.length === 0) {
      release.published = published;
      release.withheld = [...withheld].sort();
      release.added = [...published.values()].filter((p) => p.reason === 'secondary').length - setBySet;
      return release;
    }
    const failing = [...new Set(audit.failures.map((f) => f.id))].sort();
    // Everything hidden stays hidden, so the next pattern only adds unknowns: the attacker's
    // polytope grows, every interval that was wide enough still is, and only the narrowed
    // cells and the newly hidden ones need auditing again.
    extra = new Set([...published.values()].filter((p) => p.suppressed).map((p) => p.id));
    const hiddenBefore = new Set(extra);
    let added = 0;
    if (release.rounds <= maxRounds)
      for (const id of failing) {
        let pick: RawCell | undefined;
        for (const s of setsOf.get(id) ?? [])
          for (const other of [s.total, ...s.parts]) {
            const c = byId.get(other)!;
            if (c.patients === 0 || published.get(other)!.suppressed || unpublished.has(other)) continue;
            if (!pick || c.patients < pick.patients || (c.patients === pick.patients && c.id < pick.id))
              pick = c;
          }
        if (pick && !extra.has(pick.id)) {
          extra.add(pick.id);
          added++;
        }
      }
    if (added > 0) {
      only = new Set(failing);
      for (const p of applyDisclosureControl(cells, sets, rules, extra).values())
        if (p.suppressed && !hiddenBefore.has(p.id)) only.add(p.id);
      continue;
    }
    const before = withheld.size;
    for (const id of failing) for (const t of tablesOf(id)) withheld.add(t);
    if (withheld.size === before)
      throw new IntegrityError(
        'disclosure audit: cells remain narrowed with every table holding them withheld',
      );
    for (const c of cells) if (tablesOf(c.id).every((t) => withheld.has(t))) unpublished.add(c.id);
    only = new Set(failing);
    release.failures.push(...audit.failures);
  }
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
