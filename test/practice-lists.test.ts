import { describe, expect, it } from 'vitest';
import { shareOut } from '../src/practice-lists.ts';

// Each share of practices goes to its own one-thread writer, so the shares must cover every
// practice once, in code order (a writer reads a contiguous range), and be about equal.
describe('shareOut', () => {
  const practices = (sizes: number[]) => sizes.map((patients, i) => ({ code: `P${i}`, patients }));

  it.each([
    [[5, 5, 5, 5], 2],
    [[1, 100, 1, 1, 1, 1], 3],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90], 4],
    [[7], 5],
    [Array.from({ length: 136 }, (_, i) => 2000 + ((i * 7919) % 9000)), 23],
  ])('cuts %j into at most %i contiguous, covering shares', (sizes, n) => {
    const shares = shareOut(practices(sizes), n);
    expect(shares.length).toBeGreaterThan(0);
    expect(shares.length).toBeLessThanOrEqual(n);
    expect(shares.every((s) => s.length > 0)).toBe(true);
    expect(shares.flat().map((p) => p.code)).toEqual(practices(sizes).map((p) => p.code));
  });

  it('balances patients: no share exceeds an equal part by more than its largest practice', () => {
    const sizes = Array.from({ length: 136 }, (_, i) => 2000 + ((i * 7919) % 9000));
    const total = sizes.reduce((a, b) => a + b, 0);
    for (const n of [2, 5, 23]) {
      const shares = shareOut(practices(sizes), n);
      expect(shares.length).toBe(n);
      for (const s of shares) {
        const sum = s.reduce((a, p) => a + p.patients, 0);
        expect(sum).toBeLessThanOrEqual(total / n + Math.max(...sizes));
      }
    }
  });
});
