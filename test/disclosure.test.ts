import { describe, it, expect } from 'vitest';
import {
  SUPPRESSION,
  applyDisclosureControl,
  roundCost,
  roundCount,
  roundPounds,
  type AdditiveSet,
  type PublishedCell,
  type RawCell,
} from '../src/disclosure.ts';
import { mulberry32 } from '../src/synth/random.ts';

function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

function shuffle<T>(rand: () => number, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function publish(cells: RawCell[], sets: AdditiveSet[]): Map<string, PublishedCell> {
  return applyDisclosureControl(cells, sets);
}

function get(out: Map<string, PublishedCell>, id: string): PublishedCell {
  const c = out.get(id);
  if (!c) throw new Error(`no published cell ${id}`);
  return c;
}

describe('roundCount', () => {
  it.each([
    [0, 0],
    [1, null],
    [2, null],
    [3, null],
    [4, null],
    [5, null],
    [6, null],
    [7, null],
    [8, 10],
    [9, 10],
    [10, 10],
    [11, 10],
    [12, 10],
    [13, 15],
    [14, 15],
    [15, 15],
    [17, 15],
    [18, 20],
    [22, 20],
    [23, 25],
    [97, 95],
    [98, 100],
    [1234, 1235],
    [1232, 1230],
    [1233, 1235],
    [250000, 250000],
    [250002, 250000],
    [250003, 250005],
  ])('%i -> %s', (n, expected) => {
    expect(roundCount(n)).toBe(expected);
  });

  it('uses the NHS Digital HES thresholds by default', () => {
    expect(SUPPRESSION).toEqual({ min: 1, max: 7, roundTo: 5, costRoundTo: 1000 });
  });

  it('takes other rules, rounding an exact half up', () => {
    const rules = { max: 9, roundTo: 10 };
    expect(roundCount(9, rules)).toBeNull();
    expect(roundCount(10, rules)).toBe(10);
    expect(roundCount(14, rules)).toBe(10);
    expect(roundCount(15, rules)).toBe(20);
    expect(roundCount(25, rules)).toBe(30);
    expect(roundCount(2, { min: 3 })).toBe(0);
    expect(roundCount(3, { min: 3 })).toBeNull();
  });

  it('rejects counts that are not non-negative integers, and nonsensical rules', () => {
    expect(() => roundCount(-1)).toThrow(/non-negative integer/);
    expect(() => roundCount(2.5)).toThrow(/non-negative integer/);
    expect(() => roundCount(Number.NaN)).toThrow(/non-negative integer/);
    expect(() => roundCount(3, { min: 0 })).toThrow(/rules/);
    expect(() => roundCount(3, { min: 5, max: 3 })).toThrow(/rules/);
    // max = min - 1 suppresses nothing: the configuration's floors refuse it, not the rounding.
    expect(roundCount(3, { min: 5, max: 4 })).toBe(5);
    expect(() => roundCount(3, { roundTo: 0 })).toThrow(/rules/);
  });
});

describe('roundCost', () => {
  it('rounds to the nearest multiple, half up', () => {
    expect(roundCost(1499.99, 1000)).toBe(1000);
    expect(roundCost(1500, 1000)).toBe(2000);
    expect(roundCost(499.99, 1000)).toBe(0);
    expect(roundCost(0, 1000)).toBe(0);
    expect(roundCost(250, 100)).toBe(300);
    expect(roundCost(12_345_678.9, 1000)).toBe(12_346_000);
  });
});

describe('roundPounds', () => {
  it('rounds to the nearest pound, half up', () => {
    expect(roundPounds(1234.5)).toBe(1235);
    expect(roundPounds(1234.49)).toBe(1234);
    expect(roundPounds(0.2)).toBe(0);
    expect(Object.is(roundPounds(-0.2), 0)).toBe(true);
    expect(roundPounds(-2.5)).toBe(-2);
  });
});

describe('applyDisclosureControl: hand-worked tables', () => {
  it('rounds shown cells and suppresses the next smallest non-zero part beside a small one', () => {
    const out = publish(
      [
        { id: 'T', patients: 63 },
        { id: 'a', patients: 3 },
        { id: 'z', patients: 0 },
        { id: 'c', patients: 40 },
        { id: 'b', patients: 20 },
      ],
      [{ total: 'T', parts: ['a', 'z', 'b', 'c'] }],
    );
    expect(get(out, 'T')).toMatchObject({ patients: 65, suppressed: false, reason: null });
    expect(get(out, 'a')).toMatchObject({ patients: null, suppressed: true, reason: 'primary' });
    expect(get(out, 'z')).toMatchObject({ patients: 0, suppressed: false, reason: null });
    expect(get(out, 'b')).toMatchObject({ patients: null, suppressed: true, reason: 'secondary' });
    expect(get(out, 'c')).toMatchObject({ patients: 40, suppressed: false, reason: null });
  });

  it('breaks ties between equal counts by cell id', () => {
    const out = publish(
      [
        { id: 'T', patients: 43 },
        { id: 'q', patients: 20 },
        { id: 'x', patients: 3 },
        { id: 'p', patients: 20 },
      ],
      [{ total: 'T', parts: ['q', 'x', 'p'] }],
    );
    expect(get(out, 'p').reason).toBe('secondary');
    expect(get(out, 'q')).toMatchObject({ patients: 20, reason: null });
  });

  it('leaves a set alone when two or more of its parts are already small', () => {
    const out = publish(
      [
        { id: 'T', patients: 109 },
        { id: 'a', patients: 3 },
        { id: 'b', patients: 6 },
        { id: 'c', patients: 100 },
      ],
      [{ total: 'T', parts: ['a', 'b', 'c'] }],
    );
    expect([...out.values()].filter((c) => c.reason === 'secondary')).toEqual([]);
    expect(get(out, 'T').patients).toBe(110);
  });

  it('follows a suppression down the hierarchy when a hidden total would be the sum of shown parts', () => {
    // PCN2 is small, so PCN1 is hidden in the place; but PCN1 = p1 + p2, both shown, would
    // give PCN1 back, and with it PCN2. One of PCN1's practices must go too.
    const out = publish(
      [
        { id: 'place', patients: 105 },
        { id: 'pcn1', patients: 100 },
        { id: 'pcn2', patients: 5 },
        { id: 'p2', patients: 50 },
        { id: 'p1', patients: 50 },
        { id: 'p3', patients: 5 },
      ],
      [
        { total: 'place', parts: ['pcn1', 'pcn2'] },
        { total: 'pcn1', parts: ['p1', 'p2'] },
        { total: 'pcn2', parts: ['p3'] },
      ],
    );
    expect(get(out, 'place')).toMatchObject({ patients: 105, reason: null });
    expect(get(out, 'pcn2').reason).toBe('primary');
    expect(get(out, 'p3').reason).toBe('primary');
    expect(get(out, 'pcn1').reason).toBe('secondary');
    expect(get(out, 'p1').reason).toBe('secondary');
    expect(get(out, 'p2')).toMatchObject({ patients: 50, reason: null });
  });

  it('hides the total when the only other non-zero part is gone', () => {
    // A single-practice PCN: whatever is hidden for the practice must be hidden for the PCN.
    const out = publish(
      [
        { id: 'P|all', patients: 20 },
        { id: 'P|A1', patients: 4 },
        { id: 'P|A2', patients: 16 },
        { id: 'P|A3', patients: 0 },
        { id: 'X|A1', patients: 4 },
        { id: 'X|A2', patients: 16 },
        { id: 'X|A3', patients: 0 },
      ],
      [
        { total: 'P|all', parts: ['P|A1', 'P|A2', 'P|A3'] },
        { total: 'X|A1', parts: ['P|A1'] },
        { total: 'X|A2', parts: ['P|A2'] },
        { total: 'X|A3', parts: ['P|A3'] },
      ],
    );
    expect(get(out, 'P|A2').reason).toBe('secondary');
    expect(get(out, 'X|A2').reason).toBe('secondary');
    expect(get(out, 'X|A3')).toMatchObject({ patients: 0, reason: null });
    expect(get(out, 'P|all')).toMatchObject({ patients: 20, reason: null });
  });

  it('cascades across groups and organisations to a fixpoint', () => {
    // Two practices by two cohorts. Practice a's cohort x is small, which hides a|y (row a)
    // and b|x (column x); hiding a|y leaves column y with one hidden cell, which hides b|y.
    const cells: RawCell[] = [
      { id: 'a|all', patients: 45 },
      { id: 'a|x', patients: 5 },
      { id: 'a|y', patients: 40 },
      { id: 'b|all', patients: 80 },
      { id: 'b|x', patients: 50 },
      { id: 'b|y', patients: 30 },
      { id: 'pcn|all', patients: 125 },
      { id: 'pcn|x', patients: 55 },
      { id: 'pcn|y', patients: 70 },
    ];
    const sets: AdditiveSet[] = [
      { total: 'a|all', parts: ['a|x', 'a|y'] },
      { total: 'b|all', parts: ['b|x', 'b|y'] },
      { total: 'pcn|all', parts: ['pcn|x', 'pcn|y'] },
      { total: 'pcn|all', parts: ['a|all', 'b|all'] },
      { total: 'pcn|x', parts: ['a|x', 'b|x'] },
      { total: 'pcn|y', parts: ['a|y', 'b|y'] },
    ];
    const out = publish(cells, sets);
    const reasons = Object.fromEntries([...out.values()].map((c) => [c.id, c.reason]));
    expect(reasons).toEqual({
      'a|all': null,
      'a|x': 'primary',
      'a|y': 'secondary',
      'b|all': null,
      'b|x': 'secondary',
      'b|y': 'secondary',
      'pcn|all': null,
      'pcn|x': null,
      'pcn|y': null,
    });
  });

  it('suppresses costs and means exactly where the count is, rounds costs to the thousand and means to the pound', () => {
    const out = publish(
      [
        { id: 'T', patients: 73, costs: { APC_NEL: 10000.5, OP: 300.25 }, means: { APC_NEL: 136.99 } },
        { id: 'a', patients: 3, costs: { APC_NEL: 2500, OP: 0.25 }, means: { APC_NEL: 833.33 } },
        { id: 'b', patients: 20, costs: { APC_NEL: 2500, OP: 100 }, means: { APC_NEL: 125 } },
        { id: 'c', patients: 50, costs: { APC_NEL: 5000.5, OP: 200 }, means: { APC_NEL: 100.01 } },
      ],
      [{ total: 'T', parts: ['a', 'b', 'c'] }],
    );
    expect(get(out, 'a').costs).toEqual({ APC_NEL: null, OP: null });
    expect(get(out, 'a').means).toEqual({ APC_NEL: null });
    expect(get(out, 'b').costs).toEqual({ APC_NEL: null, OP: null });
    expect(get(out, 'b').means).toEqual({ APC_NEL: null });
    expect(get(out, 'c').costs).toEqual({ APC_NEL: 5000, OP: 0 });
    expect(get(out, 'c').means).toEqual({ APC_NEL: 100 });
    expect(get(out, 'T').costs).toEqual({ APC_NEL: 10000, OP: 0 });
    expect(get(out, 'T').means).toEqual({ APC_NEL: 137 });
  });

  it('publishes a zero count with its costs and never hides it', () => {
    const out = publish([{ id: 'z', patients: 0, costs: { OP: 0 } }], []);
    expect(get(out, 'z')).toEqual({
      id: 'z',
      patients: 0,
      suppressed: false,
      reason: null,
      costs: { OP: 0 },
      means: {},
    });
  });
});

describe('applyDisclosureControl: inconsistent input', () => {
  const cells: RawCell[] = [
    { id: 'T', patients: 30, costs: { OP: 100 } },
    { id: 'a', patients: 10, costs: { OP: 40 } },
    { id: 'b', patients: 20, costs: { OP: 60 } },
  ];

  it('accepts a consistent set', () => {
    expect(() => publish(cells, [{ total: 'T', parts: ['a', 'b'] }])).not.toThrow();
  });

  it('rejects a set naming an unknown total or part', () => {
    expect(() => publish(cells, [{ total: 'nope', parts: ['a', 'b'] }])).toThrow(/unknown cell nope/);
    expect(() => publish(cells, [{ total: 'T', parts: ['a', 'b', 'ghost'] }])).toThrow(/unknown cell ghost/);
  });

  it('rejects parts whose counts do not add up to the total', () => {
    expect(() => publish(cells, [{ total: 'T', parts: ['a'] }])).toThrow(
      /30 patients but its 1 parts sum to 10/,
    );
    expect(() => publish(cells, [{ total: 'a', parts: ['T', 'b'] }])).toThrow(/sum to 50/);
  });

  it('rejects parts whose costs do not add up to the total', () => {
    const off = cells.map((c) => (c.id === 'b' ? { ...c, costs: { OP: 61 } } : c));
    expect(() => publish(off, [{ total: 'T', parts: ['a', 'b'] }])).toThrow(
      /OP cost 100 but its parts sum to 101/,
    );
    const missing = cells.map((c) => (c.id === 'b' ? { ...c, costs: {} } : c));
    expect(() => publish(missing, [{ total: 'T', parts: ['a', 'b'] }])).toThrow(/OP cost/);
  });

  it('tolerates floating-point noise in summed costs', () => {
    const pence: RawCell[] = [
      { id: 'T', patients: 30, costs: { OP: 0.3 } },
      { id: 'a', patients: 10, costs: { OP: 0.1 } },
      { id: 'b', patients: 20, costs: { OP: 0.2 } },
    ];
    expect(() => publish(pence, [{ total: 'T', parts: ['a', 'b'] }])).not.toThrow();
  });

  it('rejects duplicated cells, repeated parts, empty sets and impossible counts', () => {
    expect(() => publish([...cells, { id: 'a', patients: 10 }], [])).toThrow(/more than once/);
    expect(() => publish(cells, [{ total: 'T', parts: ['a', 'a', 'a'] }])).toThrow(
      /names cell a more than once/,
    );
    expect(() => publish(cells, [{ total: 'T', parts: ['T'] }])).toThrow(/names cell T more than once/);
    expect(() => publish(cells, [{ total: 'T', parts: [] }])).toThrow(/no parts/);
    expect(() => publish([{ id: 'x', patients: -3 }], [])).toThrow(/non-negative integer/);
    expect(() => publish([{ id: 'x', patients: 3.5 }], [])).toThrow(/non-negative integer/);
    expect(() => publish([{ id: 'x', patients: 3, costs: { OP: Number.NaN } }], [])).toThrow(/NaN/);
  });
});

// Random tables shaped like the real outputs: an organisation tree (practices -> PCN ->
// place -> system) crossed with one or two partitions of the population (e.g. the seven
// cohort combinations plus "none", and age bands), optionally with their cross-tabulation.
interface Shape {
  levels: 2 | 3 | 4;
  groupings: 1 | 2;
  joint: boolean;
}

interface Table {
  cells: RawCell[];
  sets: AdditiveSet[];
}

function randomTable(rand: () => number, shape: Shape): Table {
  const nA = randInt(rand, 1, 8);
  const nB = shape.groupings === 2 ? randInt(rand, 2, 5) : 1;
  const maxFanout = shape.levels === 4 ? 4 : 6;
  // How sparse this table is: from mostly small counts to mostly large ones.
  const small = 0.2 + 0.6 * rand();
  const zero = 0.4 * rand();
  const leafCount = (): number => {
    const u = rand();
    if (u < zero) return 0;
    if (u < zero + (1 - zero) * small) return randInt(rand, 1, 7);
    return rand() < 0.8 ? randInt(rand, 8, 30) : randInt(rand, 31, 400);
  };

  interface Node {
    id: string;
    children: Node[];
    // Joint counts and costs (in pence, so sums are exact) by [a * nB + b].
    patients: number[];
    pence: number[][];
  }
  const build = (id: string, level: number): Node => {
    const node: Node = { id, children: [], patients: [], pence: [] };
    if (level === shape.levels - 1) {
      for (let k = 0; k < nA * nB; k++) {
        const p = leafCount();
        node.patients.push(p);
        node.pence.push([p * randInt(rand, 1000, 300000), randInt(rand, 0, p * 20000)]);
      }
      return node;
    }
    const fanout = randInt(rand, 1, maxFanout);
    for (let c = 0; c < fanout; c++) node.children.push(build(`${id}.${c}`, level + 1));
    for (let k = 0; k < nA * nB; k++) {
      node.patients.push(node.children.reduce((s, ch) => s + ch.patients[k]!, 0));
      node.pence.push([0, 1].map((j) => node.children.reduce((s, ch) => s + ch.pence[k]![j]!, 0)));
    }
    return node;
  };
  const root = build('S', 0);

  const groupKeys: { key: string; joint: number[] }[] = [];
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  groupKeys.push({ key: 'all', joint: range(nA * nB) });
  for (let a = 0; a < nA; a++) groupKeys.push({ key: `A${a}`, joint: range(nB).map((b) => a * nB + b) });
  if (shape.groupings === 2) {
    for (let b = 0; b < nB; b++) groupKeys.push({ key: `B${b}`, joint: range(nA).map((a) => a * nB + b) });
    if (shape.joint) {
      for (let a = 0; a < nA; a++)
        for (let b = 0; b < nB; b++) groupKeys.push({ key: `A${a}B${b}`, joint: [a * nB + b] });
    }
  }

  const cells: RawCell[] = [];
  const sets: AdditiveSet[] = [];
  const cellId = (org: string, key: string): string => `${org}|${key}`;
  const visit = (node: Node): void => {
    for (const g of groupKeys) {
      const patients = g.joint.reduce((s, k) => s + node.patients[k]!, 0);
      const nel = g.joint.reduce((s, k) => s + node.pence[k]![0]!, 0);
      const op = g.joint.reduce((s, k) => s + node.pence[k]![1]!, 0);
      const cell: RawCell = {
        id: cellId(node.id, g.key),
        patients,
        costs: { APC_NEL: nel / 100, OP: op / 100 },
      };
      if (patients > 0) cell.means = { APC_NEL: nel / 100 / patients };
      cells.push(cell);
      if (node.children.length > 0) {
        sets.push({ total: cell.id, parts: node.children.map((ch) => cellId(ch.id, g.key)) });
      }
    }
    sets.push({ total: cellId(node.id, 'all'), parts: range(nA).map((a) => cellId(node.id, `A${a}`)) });
    if (shape.groupings === 2) {
      sets.push({ total: cellId(node.id, 'all'), parts: range(nB).map((b) => cellId(node.id, `B${b}`)) });
      if (shape.joint) {
        for (let a = 0; a < nA; a++) {
          sets.push({
            total: cellId(node.id, `A${a}`),
            parts: range(nB).map((b) => cellId(node.id, `A${a}B${b}`)),
          });
        }
        for (let b = 0; b < nB; b++) {
          sets.push({
            total: cellId(node.id, `B${b}`),
            parts: range(nA).map((a) => cellId(node.id, `A${a}B${b}`)),
          });
        }
      }
    }
    node.children.forEach(visit);
  };
  visit(root);
  return { cells, sets };
}

// An attacker's view: every published value taken as exact. Whenever a set has exactly one
// unknown member, that member follows by subtraction (or addition, for a total); repeat
// until nothing more follows. Returns the cells recovered this way.
function recoverBySubtraction(out: Map<string, PublishedCell>, sets: AdditiveSet[]): string[] {
  const known = new Set([...out.values()].filter((c) => !c.suppressed).map((c) => c.id));
  const recovered: string[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (const s of sets) {
      const unknown = [s.total, ...s.parts].filter((id) => !known.has(id));
      if (unknown.length === 1) {
        known.add(unknown[0]!);
        recovered.push(unknown[0]!);
        changed = true;
      }
    }
  }
  return recovered;
}

const SHAPES: Shape[] = [];
for (const levels of [2, 3, 4] as const) {
  SHAPES.push({ levels, groupings: 1, joint: false });
  SHAPES.push({ levels, groupings: 2, joint: false });
  SHAPES.push({ levels, groupings: 2, joint: true });
}
const CASES_PER_SHAPE = 70;

describe('applyDisclosureControl: random tables', () => {
  it.each(
    SHAPES.map(
      (s) =>
        [
          `${s.levels}-level hierarchy, ${s.groupings} grouping(s)${s.joint ? ' + cross-tab' : ''}`,
          s,
        ] as const,
    ),
  )('%s', (_name, shape) => {
    let secondary = 0;
    let primary = 0;
    for (let c = 0; c < CASES_PER_SHAPE; c++) {
      const seed = shape.levels * 100000 + shape.groupings * 10000 + (shape.joint ? 1000 : 0) + c;
      const { cells, sets } = randomTable(mulberry32(seed), shape);
      const out = publish(cells, sets);
      const where = `seed ${seed}`;
      expect(out.size, where).toBe(cells.length);

      for (const cell of cells) {
        const pub = get(out, cell.id);
        if (pub.suppressed) {
          expect(pub.patients, where).toBeNull();
          expect(pub.reason, where).not.toBeNull();
          // Zeros are exact anyway; hiding one protects nothing.
          expect(cell.patients, `${where} ${cell.id}`).toBeGreaterThan(0);
          expect(
            Object.values(pub.costs).every((v) => v === null),
            where,
          ).toBe(true);
          expect(
            Object.values(pub.means).every((v) => v === null),
            where,
          ).toBe(true);
        } else {
          expect(pub.reason, where).toBeNull();
          const p = pub.patients!;
          expect(p, `${where} ${cell.id}`).not.toBeNull();
          expect(p >= 1 && p <= 7, `${where} ${cell.id} published ${p}`).toBe(false);
          expect(p % 5, `${where} ${cell.id}`).toBe(0);
          expect(Math.abs(p - cell.patients), `${where} ${cell.id}`).toBeLessThanOrEqual(2);
          for (const [k, v] of Object.entries(cell.costs ?? {}))
            expect(pub.costs[k], where).toBe(Math.floor(v / 1000 + 0.5) * 1000);
          for (const [k, v] of Object.entries(cell.means ?? {}))
            expect(pub.means[k], where).toBe(Math.round(v));
        }
        const small = cell.patients >= 1 && cell.patients <= 7;
        expect(pub.reason === 'primary', `${where} ${cell.id}`).toBe(small);
        if (pub.reason === 'primary') primary++;
        if (pub.reason === 'secondary') secondary++;
      }

      for (const s of sets) {
        const hiddenParts = s.parts.filter((id) => get(out, id).suppressed).length;
        const totalShown = !get(out, s.total).suppressed;
        if (totalShown) expect(hiddenParts === 1, `${where} set ${s.total}`).toBe(false);
        const hidden = hiddenParts + (totalShown ? 0 : 1);
        expect(hidden === 1, `${where} set ${s.total} has one hidden member`).toBe(false);
      }

      expect(recoverBySubtraction(out, sets), where).toEqual([]);
    }
    // The generator must actually exercise both kinds of suppression.
    expect(primary).toBeGreaterThan(0);
    expect(secondary).toBeGreaterThan(0);
  });

  it('does not depend on the order of cells, sets or parts', () => {
    for (let c = 0; c < 40; c++) {
      const rand = mulberry32(900000 + c);
      const shape = SHAPES[c % SHAPES.length]!;
      const { cells, sets } = randomTable(rand, shape);
      const before = publish(cells, sets);
      const after = publish(
        shuffle(rand, cells),
        shuffle(
          rand,
          sets.map((s) => ({ total: s.total, parts: shuffle(rand, s.parts) })),
        ),
      );
      const view = (m: Map<string, PublishedCell>): [string, PublishedCell][] =>
        [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      expect(view(after), `seed ${900000 + c}`).toEqual(view(before));
    }
  });

  it('the subtraction check itself catches a lone hidden cell', () => {
    const out = new Map<string, PublishedCell>([
      ['T', { id: 'T', patients: 65, suppressed: false, reason: null, costs: {}, means: {} }],
      ['a', { id: 'a', patients: null, suppressed: true, reason: 'primary', costs: {}, means: {} }],
      ['b', { id: 'b', patients: 20, suppressed: false, reason: null, costs: {}, means: {} }],
    ]);
    expect(recoverBySubtraction(out, [{ total: 'T', parts: ['a', 'b'] }])).toEqual(['a']);
  });
});

describe('applyDisclosureControl: scale', () => {
  it('handles about 200,000 cells and 50,000 sets', { timeout: 60000 }, () => {
    const rand = mulberry32(42);
    // One system, 5 places, 120 PCNs, 3,600 practices; 8 cohort combinations x 5 age bands.
    const orgs: { id: string; children: string[] }[] = [];
    const practices: string[] = [];
    const places = Array.from({ length: 5 }, (_, i) => `place${i}`);
    const pcns = Array.from({ length: 120 }, (_, i) => `pcn${i}`);
    for (let i = 0; i < 3600; i++) practices.push(`prac${i}`);
    orgs.push({ id: 'system', children: places });
    places.forEach((p, i) => orgs.push({ id: p, children: pcns.filter((_, j) => j % 5 === i) }));
    pcns.forEach((p, i) => orgs.push({ id: p, children: practices.filter((_, j) => j % 120 === i) }));
    const nA = 8;
    const nB = 5;
    const joint = new Map<string, number[]>();
    for (const p of practices) {
      joint.set(
        p,
        Array.from({ length: nA * nB }, () =>
          rand() < 0.3 ? 0 : rand() < 0.5 ? randInt(rand, 1, 7) : randInt(rand, 8, 60),
        ),
      );
    }
    for (const o of [...orgs].reverse()) {
      const sums = new Array<number>(nA * nB).fill(0);
      for (const ch of o.children) joint.get(ch)!.forEach((v, k) => (sums[k]! += v));
      joint.set(o.id, sums);
    }
    const keys: { key: string; ks: number[] }[] = [
      { key: 'all', ks: Array.from({ length: nA * nB }, (_, k) => k) },
    ];
    for (let a = 0; a < nA; a++)
      keys.push({ key: `A${a}`, ks: Array.from({ length: nB }, (_, b) => a * nB + b) });
    for (let b = 0; b < nB; b++)
      keys.push({ key: `B${b}`, ks: Array.from({ length: nA }, (_, a) => a * nB + b) });
    for (let k = 0; k < nA * nB; k++) keys.push({ key: `J${k}`, ks: [k] });
    const cells: RawCell[] = [];
    const sets: AdditiveSet[] = [];
    const children = new Map(orgs.map((o) => [o.id, o.children]));
    for (const [org, counts] of joint) {
      for (const { key, ks } of keys) {
        cells.push({ id: `${org}|${key}`, patients: ks.reduce((s, k) => s + counts[k]!, 0) });
        const ch = children.get(org);
        if (ch) sets.push({ total: `${org}|${key}`, parts: ch.map((c) => `${c}|${key}`) });
      }
      const ids = (pre: string, n: number): string[] =>
        Array.from({ length: n }, (_, i) => `${org}|${pre}${i}`);
      sets.push({ total: `${org}|all`, parts: ids('A', nA) });
      sets.push({ total: `${org}|all`, parts: ids('B', nB) });
      for (let a = 0; a < nA; a++) {
        sets.push({
          total: `${org}|A${a}`,
          parts: Array.from({ length: nB }, (_, b) => `${org}|J${a * nB + b}`),
        });
      }
      for (let b = 0; b < nB; b++) {
        sets.push({
          total: `${org}|B${b}`,
          parts: Array.from({ length: nA }, (_, a) => `${org}|J${a * nB + b}`),
        });
      }
    }
    expect(cells.length).toBeGreaterThan(200000);
    expect(sets.length).toBeGreaterThan(50000);

    // How long this takes at LLR scale is measured by `npm run bench` (the outputs stage).
    const out = publish(cells, sets);
    expect(out.size).toBe(cells.length);
    expect(recoverBySubtraction(out, sets)).toEqual([]);
  });
});
