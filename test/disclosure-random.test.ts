// Disclosure control on random tables shaped like the real outputs, and at the real outputs' scale.
import { describe, it, expect } from 'vitest';
import { type AdditiveSet, type PublishedCell, type RawCell } from '../src/disclosure.ts';
import { mulberry32 } from '../src/synth/random.ts';
import { get, publish, randInt, shuffle } from './support/disclosure-tables.ts';

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
