// Statistical disclosure control for every aggregate that leaves the pipeline (commissioner
// summaries, dashboards), following NHS Digital's rules for Hospital Episode Statistics:
// small counts are suppressed, everything else is rounded, and further cells are hidden so a
// suppressed count cannot be worked back out by subtracting the published cells of a table
// from its published total. It sees aggregates only, never patient identifiers.
import { ConfigError, IntegrityError } from './errors.ts';

export interface SuppressionRules {
  /** Smallest non-zero count that is suppressed. */
  min: number;
  /** Largest count that is suppressed. */
  max: number;
  /** Counts above `max` are published rounded to the nearest multiple of this, half up. */
  roundTo: number;
  /**
   * Shown costs are rounded to the nearest multiple of this (GBP), half up, so a published
   * cost only bounds the true one: to the pound, a cost minus its shown parts is one bill.
   */
  costRoundTo: number;
}

export const SUPPRESSION = {
  min: 1,
  max: 7,
  roundTo: 5,
  costRoundTo: 1000,
} as const satisfies SuppressionRules;

/** One aggregate cell before disclosure control. Every figure is exact (unrounded). */
export interface RawCell {
  id: string;
  patients: number;
  /** Additive money figures in pounds, e.g. total cost by setting. */
  costs?: Record<string, number>;
  /** Non-additive figures derived from the patients, e.g. cost per patient, in pounds. */
  means?: Record<string, number>;
}

/** `total` equals the sum of `parts`, in patients and in each cost. */
export interface AdditiveSet {
  total: string;
  parts: string[];
}

export interface PublishedCell {
  id: string;
  /** null when suppressed; otherwise 0 or a rounded count. */
  patients: number | null;
  suppressed: boolean;
  reason: 'primary' | 'secondary' | null;
  /** null where the count is suppressed; otherwise rounded to the nearest costRoundTo pounds. */
  costs: Record<string, number | null>;
  /** null where the count is suppressed; otherwise rounded to the nearest pound. */
  means: Record<string, number | null>;
}

function resolveRules(rules?: Partial<SuppressionRules>): SuppressionRules {
  const r: SuppressionRules = { ...SUPPRESSION, ...rules };
  const ok =
    Number.isInteger(r.min) &&
    Number.isInteger(r.max) &&
    Number.isInteger(r.roundTo) &&
    Number.isInteger(r.costRoundTo) &&
    r.min >= 1 &&
    // max = min - 1 suppresses nothing: allowed here, refused by the configuration's floors.
    r.max >= r.min - 1 &&
    r.roundTo >= 1 &&
    r.costRoundTo >= 1;
  if (!ok) {
    throw new ConfigError(
      `disclosure rules must be integers with 1 <= min <= max + 1, roundTo >= 1 and costRoundTo >= 1 (got min ${r.min}, max ${r.max}, roundTo ${r.roundTo}, costRoundTo ${r.costRoundTo})`,
    );
  }
  return r;
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new IntegrityError(`${what}: a count must be a non-negative integer, got ${n}`);
  }
}

function isPrimary(n: number, r: SuppressionRules): boolean {
  return n >= r.min && n <= r.max;
}

function roundWith(n: number, r: SuppressionRules): number | null {
  if (n === 0) return 0;
  if (isPrimary(n, r)) return null;
  // Integer arithmetic so that an exact half always goes up, whatever roundTo is.
  return Math.floor((2 * n + r.roundTo) / (2 * r.roundTo)) * r.roundTo;
}

/** The published form of one unrounded count: null when it is a small number (primary suppression). */
export function roundCount(n: number, rules?: Partial<SuppressionRules>): number | null {
  checkCount(n, 'roundCount');
  return roundWith(n, resolveRules(rules));
}

/** Nearest multiple of `to` pounds, half up; costs are never negative here. */
export function roundCost(x: number, to: number): number {
  return Math.floor(x / to + 0.5) * to + 0;
}

/** Nearest whole pound, half up. */
export function roundPounds(x: number): number {
  // Math.round alone sends -2.5 to -2 (half up) but would keep -0 for small refunds.
  return Math.round(x) + 0;
}

// Sums of pounds-and-pence come out of floating point a little off; half a penny is still exact.
function costsAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= 0.005 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function byCountThenId(cells: readonly RawCell[], a: number, b: number): number {
  const ca = cells[a]!;
  const cb = cells[b]!;
  if (ca.patients !== cb.patients) return ca.patients - cb.patients;
  return ca.id < cb.id ? -1 : ca.id > cb.id ? 1 : 0;
}

/**
 * Primary suppression of small counts, rounding of the rest, and secondary suppression
 * until no additive set (total plus its parts) has exactly one hidden member, which is
 * what makes a hidden value recoverable by subtraction (or, when the total is the hidden
 * one, by addition).
 *
 * `alsoHide` names cells to suppress from the start (as secondary): the audit's extension
 * of the suppression pattern (disclosure-audit.ts) passes the cells it has added.
 *
 * Throws an IntegrityError when a set names an unknown cell or does not add up: the
 * aggregates are inconsistent, and guessing would risk publishing the wrong cell.
 */
export function applyDisclosureControl(
  cells: readonly RawCell[],
  sets: readonly AdditiveSet[],
  rules?: Partial<SuppressionRules>,
  alsoHide: ReadonlySet<string> = new Set(),
): Map<string, PublishedCell> {
  const r = resolveRules(rules);
  const n = cells.length;
  const indexOf = new Map<string, number>();
  const costNames = new Set<string>();
  for (let i = 0; i < n; i++) {
    const c = cells[i]!;
    checkCount(c.patients, `cell ${c.id}`);
    for (const values of [c.costs, c.means])
      for (const name in values) {
        if (!Number.isFinite(values[name]))
          throw new IntegrityError(`disclosure: cell ${c.id} has a cost or mean of ${values[name]}`);
        if (values === c.costs) costNames.add(name);
      }
    if (indexOf.has(c.id)) throw new IntegrityError(`disclosure: cell ${c.id} is given more than once`);
    indexOf.set(c.id, i);
  }
  // Costs as one flat array (cell by cost name), a missing cost counting as 0.
  const names = [...costNames];
  const kc = names.length;
  const costs = new Float64Array(n * kc);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < kc; j++) costs[i * kc + j] = cells[i]!.costs?.[names[j]!] ?? 0;

  // The sets as flat arrays: total[k], and the parts of set k at parts[partStart[k] .. partStart[k+1]).
  const m = sets.length;
  const setTotal = new Int32Array(m);
  const partStart = new Int32Array(m + 1);
  for (let k = 0; k < m; k++) partStart[k + 1] = partStart[k]! + sets[k]!.parts.length;
  const parts = new Int32Array(partStart[m]!);
  const label = (k: number) => `set with total ${sets[k]!.total}`;
  for (let k = 0; k < m; k++) {
    const s = sets[k]!;
    const ti = indexOf.get(s.total);
    if (ti === undefined)
      throw new IntegrityError(`disclosure: ${label(k)} refers to unknown cell ${s.total}`);
    if (s.parts.length === 0) throw new IntegrityError(`disclosure: ${label(k)} has no parts`);
    setTotal[k] = ti;
    for (let p = 0; p < s.parts.length; p++) {
      const pi = indexOf.get(s.parts[p]!);
      if (pi === undefined)
        throw new IntegrityError(`disclosure: ${label(k)} refers to unknown cell ${s.parts[p]}`);
      parts[partStart[k]! + p] = pi;
    }
  }

  // A canonical order of the sets, so the outcome depends on the data and not on the order
  // the caller happened to list cells and sets in: by total id, then by the sorted part ids.
  // Ids are ranked once and sets compared by rank, which orders them exactly as comparing the
  // joined ids would, without building a long string per set.
  const byId = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = cells[a]!.id;
    const y = cells[b]!.id;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) rank[byId[i]!] = i;
  const partRanks = parts.map((pi) => rank[pi]!);
  for (let k = 0; k < m; k++) partRanks.subarray(partStart[k], partStart[k + 1]).sort();
  const order = Array.from({ length: m }, (_, k) => k).sort((a, b) => {
    if (setTotal[a] !== setTotal[b]) return rank[setTotal[a]!]! - rank[setTotal[b]!]!;
    const la = partStart[a + 1]! - partStart[a]!;
    const lb = partStart[b + 1]! - partStart[b]!;
    for (let j = 0; j < Math.min(la, lb); j++) {
      const d = partRanks[partStart[a]! + j]! - partRanks[partStart[b]! + j]!;
      if (d !== 0) return d;
    }
    return la - lb || a - b;
  });

  // Members of set k (its total first, then its parts) are members[start[k] .. start[k+1]),
  // in canonical order; each set is checked to add up.
  const start = new Int32Array(m + 1);
  for (let k = 0; k < m; k++) {
    const g = order[k]!;
    start[k + 1] = start[k]! + 1 + partStart[g + 1]! - partStart[g]!;
  }
  const members = new Int32Array(start[m]!);
  const seen = new Int32Array(n).fill(-1);
  const sums = new Float64Array(kc);
  for (let k = 0; k < m; k++) {
    const g = order[k]!;
    const ti = setTotal[g]!;
    members[start[k]!] = ti;
    seen[ti] = k;
    let sum = 0;
    sums.fill(0);
    for (let p = partStart[g]!, at = start[k]! + 1; p < partStart[g + 1]!; p++, at++) {
      const pi = parts[p]!;
      if (seen[pi] === k)
        throw new IntegrityError(`disclosure: ${label(g)} names cell ${cells[pi]!.id} more than once`);
      seen[pi] = k;
      members[at] = pi;
      sum += cells[pi]!.patients;
      for (let j = 0; j < kc; j++) sums[j]! += costs[pi * kc + j]!;
    }
    const total = cells[ti]!;
    if (sum !== total.patients) {
      throw new IntegrityError(
        `disclosure: ${label(g)} has ${total.patients} patients but its ${partStart[g + 1]! - partStart[g]!} parts sum to ${sum}`,
      );
    }
    for (let j = 0; j < kc; j++) {
      const want = costs[ti * kc + j]!;
      if (!costsAgree(want, sums[j]!))
        throw new IntegrityError(
          `disclosure: ${label(g)} has ${names[j]} cost ${want} but its parts sum to ${sums[j]}`,
        );
    }
  }

  // Sets each cell belongs to, in canonical order (CSR, built in one counting pass).
  const memberOfStart = new Int32Array(n + 1);
  for (let j = 0; j < members.length; j++) memberOfStart[members[j]! + 1]!++;
  for (let i = 0; i < n; i++) memberOfStart[i + 1]! += memberOfStart[i]!;
  const memberOf = new Int32Array(members.length);
  const fill = memberOfStart.slice(0, n);
  for (let k = 0; k < m; k++) {
    for (let j = start[k]!; j < start[k + 1]!; j++) memberOf[fill[members[j]!]!++] = k;
  }

  const NONE = 0;
  const PRIMARY = 1;
  const SECONDARY = 2;
  const state = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = cells[i]!;
    if (isPrimary(c.patients, r)) state[i] = PRIMARY;
    else if (alsoHide.has(c.id)) {
      if (c.patients === 0) throw new IntegrityError(`disclosure: cell ${c.id} holds 0 and is never hidden`);
      state[i] = SECONDARY;
    }
  }

  // hidden[k] counts the suppressed members of set k. Only the step from 0 to 1 can make a
  // set unsafe, and the fix always takes it to 2 or more, so each set joins the queue at most
  // once and the whole fixpoint is linear in the size of the sets.
  const hidden = new Int32Array(m);
  const queue = new Int32Array(m);
  let head = 0;
  let tail = 0;
  for (let k = 0; k < m; k++) {
    for (let j = start[k]!; j < start[k + 1]!; j++) if (state[members[j]!] !== NONE) hidden[k]!++;
    if (hidden[k] === 1) queue[tail++] = k;
  }

  const suppress = (i: number): void => {
    state[i] = SECONDARY;
    for (let j = memberOfStart[i]!; j < memberOfStart[i + 1]!; j++) {
      const k = memberOf[j]!;
      if (++hidden[k]! === 1) queue[tail++] = k;
    }
  };

  while (head < tail) {
    const k = queue[head++]!;
    if (hidden[k] !== 1) continue;
    const ti = members[start[k]!]!;
    // The next smallest non-zero shown part. Zeros stay shown: a published 0 is exact
    // anyway, and hiding it would not hide the suppressed cell.
    let pick = -1;
    for (let j = start[k]! + 1; j < start[k + 1]!; j++) {
      const pi = members[j]!;
      if (state[pi] !== NONE || cells[pi]!.patients === 0) continue;
      if (pick === -1 || byCountThenId(cells, pi, pick) < 0) pick = pi;
    }
    if (pick === -1) {
      if (state[ti] !== NONE) {
        // The total is the hidden one, so it is non-zero, so some part is non-zero and
        // shown (a hidden part would make two hidden members).
        throw new IntegrityError(`disclosure: no part left to suppress under ${cells[ti]!.id}`);
      }
      pick = ti;
    }
    suppress(pick);
  }

  const out = new Map<string, PublishedCell>();
  const money = (
    values: Record<string, number> | undefined,
    hidden: boolean,
    round: (x: number) => number,
  ) => {
    const res: Record<string, number | null> = {};
    for (const name in values) res[name] = hidden ? null : round(values[name]!);
    return res;
  };
  const cost = (x: number) => roundCost(x, r.costRoundTo);
  for (let i = 0; i < n; i++) {
    const c = cells[i]!;
    const hiddenHere = state[i] !== NONE;
    out.set(c.id, {
      id: c.id,
      patients: hiddenHere ? null : roundWith(c.patients, r),
      suppressed: hiddenHere,
      reason: state[i] === PRIMARY ? 'primary' : state[i] === SECONDARY ? 'secondary' : null,
      costs: money(c.costs, hiddenHere, cost),
      // A mean is not additive, so the attacker's sums cannot use it; to the pound is enough.
      means: money(c.means, hiddenHere, roundPounds),
    });
  }
  return out;
}
