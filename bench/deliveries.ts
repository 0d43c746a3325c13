// Where the benchmarks keep each synthetic delivery they generate, keyed by the generator's
// version so that a delivery made by an earlier generator is never reused.
import { join } from 'node:path';
import { projectPath } from '../src/paths.ts';
import { GENERATOR_VERSION } from '../src/synth/index.ts';

export function cachedDelivery(scale: number | string, seed: number | string): string {
  return join(projectPath('bench', 'data'), `scale-${scale}-seed-${seed}-generator-${GENERATOR_VERSION}`);
}
