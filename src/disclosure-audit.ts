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
import {
  applyDisclosureControl,
  type AdditiveSet,
  type PublishedCell,
  type RawCell,
  type SuppressionRules,
} from './disclosure.ts';
import { IntegrityError } from './errors.ts';
import { addCounts, auditMeasures, type MeasureJob } from './audit-pool.ts';
import type { AuditFailure, AuditResult, Measure } from './audit-programme.ts';

export type { AuditFailure, AuditResult } from './audit-programme.ts';

export interface Protection {
  /** Narrowest attacker's interval (max minus min, patients) for a suppressed count. */
  count: number;
  /** Narrowest attacker's interval (GBP) for a suppressed cost. */
  cost: number;
}

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
  /** Threads to audit the measures on (default: one per core, for a large enough audit; see audit-pool.ts). */
  threads?: number;
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

  const result: AuditResult = { failures: [], examined: 0, certifiedInBulk: 0, lps: 0, seconds: 0 };
  const jobs: MeasureJob[] = [];
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
    jobs.push({ measure: m, rows, blocks: blockCols });
  }
  // Threads named by the caller are used, and measures dealt into parts, whatever the audit's size.
  const named = scope.threads !== undefined;
  const outcomes = await auditMeasures(jobs, scope.threads, named ? 0 : undefined, named ? 0 : undefined);
  jobs.forEach(({ measure: m }, k) => {
    const { narrowed, counts } = outcomes[k]!;
    addCounts(result, counts);
    for (const f of narrowed)
      result.failures.push({
        id: cells[m.cells[f.col]!]!.id,
        measure: m.name,
        low: f.low * m.scale,
        high: f.high * m.scale,
      });
  });
  result.seconds = (performance.now() - started) / 1000;
  return result;
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
    addCounts(release, audit);
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
