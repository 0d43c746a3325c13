// Everything a run on the bundled sample publishes matches the fingerprints in
// test/golden/sample-outputs.json: a change meant to leave the outputs alone (a refactor, a
// speed-up) shows here if it did not. After a deliberate change to the outputs, rewrite the
// file with `npm run golden` and say in the commit what changed and why.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_OUTPUTS, sampleOutputFingerprints } from './support/golden-outputs.ts';

describe('the outputs of the sample delivery', () => {
  it('are the golden ones, file for file (run id masked)', async () => {
    const golden = JSON.parse(readFileSync(GOLDEN_OUTPUTS, 'utf8')) as Record<string, string>;
    const now = await sampleOutputFingerprints();
    expect(Object.keys(now).sort(), 'files published').toEqual(Object.keys(golden).sort());
    const differing = Object.keys(golden).filter((f) => now[f] !== golden[f]);
    expect(differing, 'files whose content changed: run `npm run golden` if that was meant').toEqual([]);
  });
});
