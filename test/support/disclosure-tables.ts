// Small helpers for the disclosure-control tests.
import {
  applyDisclosureControl,
  type AdditiveSet,
  type PublishedCell,
  type RawCell,
} from '../../src/disclosure.ts';

export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

export function shuffle<T>(rand: () => number, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export function publish(cells: RawCell[], sets: AdditiveSet[]): Map<string, PublishedCell> {
  return applyDisclosureControl(cells, sets);
}

export function get(out: Map<string, PublishedCell>, id: string): PublishedCell {
  const c = out.get(id);
  if (!c) throw new Error(`no published cell ${id}`);
  return c;
}
