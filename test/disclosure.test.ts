import { describe, it, expect } from 'vitest';
import {
  SUPPRESSION,
  roundCost,
  roundCount,
  roundPounds,
  type AdditiveSet,
  type RawCell,
} from '../src/disclosure.ts';
import { get, publish } from './support/disclosure-tables.ts';

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
