// Deterministic randomness. Every patient draws from a stream seeded by (seed, patient
// number) alone, so any practice can regenerate any patient (movers appear at two
// practices) and output does not depend on the order practices are written in.

/** A 32-bit integer mix (lowbias32); good avalanche, cheap. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export function hash(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32(h ^ mix32(p >>> 0) ^ Math.floor(p / 4294967296));
  return h;
}

/** A uniform in [0, 1) from a hash of the parts. */
export function hashUnit(...parts: number[]): number {
  return hash(...parts) / 4294967296;
}

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly next: () => number;
  constructor(...seed: number[]) {
    this.next = mulberry32(hash(...seed));
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Knuth for small means, normal approximation above 30. */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
  /** Gamma(shape, scale) by Marsaglia-Tsang (shape >= 1). */
  gamma(shape: number, scale: number): number {
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.next();
      if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v)))
        return d * v * scale;
    }
  }
  /** Log-normal with mean 1. */
  lognormalUnitMean(sigma: number): number {
    return Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }
}

/** `k` different days in [from, to]: two identical issues on one day are one issue sent twice. */
export function distinctDays(rng: Rng, k: number, from: number, to: number): number[] {
  const days = new Set<number>();
  while (days.size < Math.min(k, to - from + 1)) days.add(rng.int(from, to));
  return [...days];
}

export function pickIndex(rng: Rng, weights: number[]): number {
  let total = 0;
  for (const w of weights) total += w;
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

export function pseudoIdOf(seed: number, n: number): string {
  // 64 bits from two independent hashes: unique enough at 6 million patients, stable by seed.
  const a = hash(seed, n, 0xa11ce).toString(16).padStart(8, '0');
  const b = hash(seed, n, 0xb0b).toString(16).padStart(8, '0');
  return a + b;
}
