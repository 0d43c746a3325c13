// The audit's attacker model, checked against the rounding rules it inverts and against
// intervals worked out by hand; and the extension of suppression until the audit passes.
import { describe, expect, it } from 'vitest';
import { dealFigures } from '../src/audit-pool.ts';
import { auditDisclosure, costBounds, countBounds, protectWithAudit } from '../src/disclosure-audit.ts';
import {
  SUPPRESSION,
  applyDisclosureControl,
  roundCost,
  roundCount,
  type RawCell,
} from '../src/disclosure.ts';

describe('the bounds a shown figure puts on the true one', () => {
  it.each([
    [5, 7],
    [10, 9],
    [3, 4],
    [4, 2],
  ])('counts rounded to %i, suppressed to %i: exactly the counts the rule shows as v', (roundTo, max) => {
    const rules = { ...SUPPRESSION, roundTo, max };
    for (let v = roundTo; v <= 20 * roundTo; v += roundTo) {
      const shownAsV: number[] = [];
      for (let n = 0; n <= 22 * roundTo; n++) if (roundCount(n, rules) === v) shownAsV.push(n);
      if (shownAsV.length === 0) continue;
      expect(countBounds(v, rules), `v ${v}`).toEqual([Math.min(...shownAsV), Math.max(...shownAsV)]);
    }
  });

  it('costs: every cost the rule shows as c lies within the bounds, and nothing beyond them', () => {
    const rules = { ...SUPPRESSION, costRoundTo: 1000 };
    for (const c of [0, 1000, 5000, 250_000]) {
      const [lo, hi] = costBounds(c, rules);
      expect(roundCost(lo, 1000)).toBe(c);
      expect(roundCost(hi - 0.01, 1000)).toBe(c);
      expect(roundCost(hi, 1000)).toBe(c + 1000);
      if (lo > 0) expect(roundCost(lo - 0.01, 1000)).toBe(c - 1000);
    }
  });
});

// Three hidden counts x, y, z, each pair in one sum with a shown part: every sum holds two
// hidden cells, so the set-by-set rule is content, but together the sums bound each one.
// x + y = T1 - p1, with T1 shown 30 (28 to 32) and p1 shown 20 (18 to 22): 6 to 14, and so
// for the other pairs. x is largest (11) with y = z = 3 (y + z at least 6), smallest (1)
// with y = z = 5.
const TRIANGLE: RawCell[] = [
  { id: 'x', patients: 3 },
  { id: 'y', patients: 5 },
  { id: 'z', patients: 6 },
  { id: 'p1', patients: 20 },
  { id: 'p2', patients: 20 },
  { id: 'p3', patients: 20 },
  { id: 'T1', patients: 28 },
  { id: 'T2', patients: 29 },
  { id: 'T3', patients: 31 },
];
const SETS = [
  { total: 'T1', parts: ['x', 'y', 'p1'] },
  { total: 'T2', parts: ['x', 'z', 'p2'] },
  { total: 'T3', parts: ['y', 'z', 'p3'] },
];
const TABLES = () => ['t'];

describe('auditDisclosure', () => {
  it("finds the attacker's interval of each hidden count", async () => {
    const published = applyDisclosureControl(TRIANGLE, SETS, SUPPRESSION);
    expect([...published.values()].filter((p) => p.suppressed).map((p) => p.id)).toEqual(['x', 'y', 'z']);
    const passed = await auditDisclosure(TRIANGLE, SETS, published, SUPPRESSION, { count: 10, cost: 500 });
    expect(passed.failures).toEqual([]);
    const failed = await auditDisclosure(TRIANGLE, SETS, published, SUPPRESSION, { count: 11, cost: 500 });
    expect(failed.failures.map((f) => [f.id, f.measure, Math.round(f.low), Math.round(f.high)])).toEqual([
      ['x', 'patients', 1, 11],
      ['y', 'patients', 1, 11],
      ['z', 'patients', 1, 11],
    ]);
  });

  it('pins a hidden cost that the rounding of the others leaves no room for', async () => {
    // T = a + b, both costs shown to the nearest 1,000 but one count hidden: a's cost is
    // T's minus b's, give or take 500 each: 4,000 to 6,000.
    const cells: RawCell[] = [
      { id: 'T', patients: 30, costs: { observed: 40_000 } },
      { id: 'a', patients: 3, costs: { observed: 5_000 } },
      { id: 'b', patients: 27, costs: { observed: 35_000 } },
    ];
    // Published without the set-by-set rule (which would hide b too), to attack a directly.
    const published = applyDisclosureControl(cells, [], SUPPRESSION);
    const sets = [{ total: 'T', parts: ['a', 'b'] }];
    const audit = await auditDisclosure(cells, sets, published, SUPPRESSION, { count: 4, cost: 2500 });
    const cost = audit.failures.find((f) => f.measure === 'observed')!;
    expect([cost.id, Math.round(cost.low), Math.round(cost.high)]).toEqual(['a', 4000, 6000]);
  });
});

describe('protectWithAudit', () => {
  it('hides the smallest shown neighbour of each narrowed cell until the audit passes', async () => {
    const release = await protectWithAudit(TRIANGLE, SETS, SUPPRESSION, { count: 11, cost: 500 }, TABLES);
    const hidden = [...release.published.values()].filter((p) => p.suppressed).map((p) => p.id);
    expect(hidden).toEqual(['x', 'y', 'z', 'p1', 'p2']);
    expect(release.withheld).toEqual([]);
    expect(release.rounds).toBe(2);
    const again = await auditDisclosure(TRIANGLE, SETS, release.published, SUPPRESSION, {
      count: 11,
      cost: 500,
    });
    expect(again.failures).toEqual([]);
  });

  it('withholds the tables of cells still narrowed when the rounds run out', async () => {
    // Hiding enough always passes in the end (a hidden total has no upper bound); a bound on
    // the rounds is what can stop it first.
    const release = await protectWithAudit(
      TRIANGLE,
      SETS,
      SUPPRESSION,
      { count: 11, cost: 500 },
      TABLES,
      [],
      0,
    );
    expect(release.withheld).toEqual(['t']);
    expect(release.failures.map((f) => f.id)).toEqual(['x', 'y', 'z']);
  });
});

describe('the audit on worker threads', () => {
  // Practices in PCNs in places, crossed with groups: the shape of the commissioner tables.
  function organisationTable(seed: number): { cells: RawCell[]; sets: { total: string; parts: string[] }[] } {
    let state = seed;
    const rand = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const groups = ['a', 'b', 'c', 'd', 'e', 'f'];
    const practices: Record<string, string[]> = {};
    for (let p = 0; p < 4; p++) practices[`pcn${p}`] = Array.from({ length: 5 }, (_, k) => `pr${p}${k}`);
    const counts = new Map<string, RawCell>();
    const add = (org: string, group: string, patients: number, observed: number, predicted: number) => {
      const id = `${org}|${group}`;
      const c = counts.get(id) ?? { id, patients: 0, costs: { observed: 0, predicted: 0 } };
      c.patients += patients;
      c.costs!.observed! += observed;
      c.costs!.predicted! += predicted;
      counts.set(id, c);
    };
    const sets: { total: string; parts: string[] }[] = [];
    for (const [pcn, list] of Object.entries(practices)) {
      for (const pr of list)
        for (const g of groups) {
          const n = rand() < 0.4 ? 1 + Math.floor(rand() * 9) : 10 + Math.floor(rand() * 60);
          const observed = Math.round(n * 900 * rand());
          const predicted = Math.round(n * 1100 * rand());
          for (const org of [pr, pcn, 'system']) add(org, g, n, observed, predicted);
          for (const org of [pr, pcn, 'system']) add(org, 'all', n, observed, predicted);
        }
      for (const g of [...groups, 'all'])
        sets.push({ total: `${pcn}|${g}`, parts: list.map((pr) => `${pr}|${g}`) });
    }
    for (const g of [...groups, 'all'])
      sets.push({ total: `system|${g}`, parts: Object.keys(practices).map((pcn) => `${pcn}|${g}`) });
    for (const org of ['system', ...Object.keys(practices), ...Object.values(practices).flat()])
      sets.push({ total: `${org}|all`, parts: groups.map((g) => `${org}|${g}`) });
    return { cells: [...counts.values()], sets };
  }

  it('gives the answer it gives in this thread, measure by measure', async () => {
    const { cells, sets } = organisationTable(20261205);
    const published = applyDisclosureControl(cells, sets, SUPPRESSION);
    const protection = { count: 11, cost: 5000 };
    const here = await auditDisclosure(cells, sets, published, SUPPRESSION, protection, { threads: 1 });
    const beside = await auditDisclosure(cells, sets, published, SUPPRESSION, protection, { threads: 2 });
    // Three measures (patients and two costs), each with suppressed figures to examine.
    expect(new Set(here.failures.map((f) => f.measure)).size).toBeGreaterThan(1);
    expect(here.examined).toBeGreaterThan(50);
    // The answer is the same; the work done to reach it (programmes, figures settled in
    // bulk) differs, each measure's figures being dealt into one part per thread.
    expect(beside.examined).toBe(here.examined);
    expect(beside.failures.map(({ id, measure }) => ({ id, measure }))).toEqual(
      here.failures.map(({ id, measure }) => ({ id, measure })),
    );
    beside.failures.forEach((f, k) => {
      expect(f.low).toBeCloseTo(here.failures[k]!.low, 6);
      expect(f.high).toBeCloseTo(here.failures[k]!.high, 6);
    });
  });

  it("deals each measure's figures into parts that hold every figure once, a block in one part", () => {
    const measure = {
      name: 'patients',
      cells: Array.from({ length: 12 }, (_, i) => i),
      lower: new Float64Array(12),
      upper: new Float64Array(12),
      truth: new Float64Array(12),
      targets: [0, 1, 2, 4, 5, 7, 9, 11],
      protection: 5,
      scale: 1,
    };
    const blocks = [
      [0, 1],
      [4, 5, 7],
      [0, 1, 2, 3, 4, 5, 6, 7],
    ];
    const parts = dealFigures({ measure, rows: [], blocks }, 2);
    expect(parts).toHaveLength(2);
    const dealt = parts.flatMap((p) => p.measure.targets).sort((a, b) => a - b);
    expect(dealt).toEqual(measure.targets);
    const partOf = (col: number) => parts.findIndex((p) => p.measure.targets.includes(col));
    expect(partOf(1)).toBe(partOf(0));
    expect(partOf(5)).toBe(partOf(4));
    expect(partOf(7)).toBe(partOf(4));
    // Largest group first, each to the part with fewer figures: {4, 5, 7} + 9 and {0, 1} + 2 + 11.
    expect(parts.map((p) => p.measure.targets.length)).toEqual([4, 4]);
    expect(dealFigures({ measure, rows: [], blocks }, 1)).toHaveLength(1);
  });
});
