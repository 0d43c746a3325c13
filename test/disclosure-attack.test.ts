// The attack on a run's commissioner folder, as someone holding every published CSV would
// make it: rebuild every way the figures add up, then bound each suppressed count and cost
// by linear programming. No suppressed figure may be pinned or narrowed below the
// protection the folder's metadata promises, on the sample and on synthetic deliveries.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { projectPath } from '../src/paths.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { synthesise } from '../src/synth/index.ts';
import {
  attack,
  readRelease,
  relations,
  rulesFromMetadata,
  type CsvRow,
  type Release,
} from './support/attack.ts';

// What the default configuration promises: a suppressed count keeps at least 5 possible
// values (an interval 4 wide), a suppressed cost an interval of at least GBP 500.
const PROTECTION = { count: 4, cost: 500 };

async function publishedRelease(delivery: string): Promise<Release> {
  const out = mkdtempSync(join(tmpdir(), 'strata-attack-'));
  const summary = await runPipeline({
    deliveryDir: delivery,
    outDir: out,
    config: defaultConfig,
    log: silentLogger,
    progress: noProgress,
    softwareVersion: 'test',
  });
  return readRelease(join(summary.runDir, 'commissioner'));
}

async function expectSafe(release: Release) {
  const rules = rulesFromMetadata(release);
  expect(rules).toEqual({ suppressMax: 7, roundTo: 5, costRoundTo: 1000 });
  const { cells, sums } = relations(release);
  // The attacker has every kind of relation to work with, down to the attrition steps.
  expect(sums.some(([t]) => t.startsWith('system|') && t.includes('|step '))).toBe(true);
  expect(
    sums.some(([t, parts]) => t.startsWith('pcn|') && parts.every((p) => p.startsWith('practice|'))),
  ).toBe(true);
  expect(sums.some(([t]) => t.includes('|age '))).toBe(true);
  expect([...cells.values()].filter((c) => c.suppressed).length).toBeGreaterThan(0);

  const result = await attack(release, rules, PROTECTION);
  expect(result.hidden).toBeGreaterThan(0);
  expect(result.exact).toEqual([]);
  expect(result.narrowed).toEqual([]);
}

describe('the attacker', () => {
  it('pins a hidden practice when its PCN total leaves it no room, and its cost when costs are to the pound', async () => {
    // One PCN of two practices; the second practice's count is hidden. With the PCN shown
    // as 10 and the first practice as 10, the hidden one holds 1 to 4 people; with costs to
    // the pound, its cost is the PCN's minus the first practice's.
    const row = (
      level: string,
      org: string,
      patients: string,
      observed: string,
      suppressed: boolean,
    ): CsvRow => ({
      level,
      org_code: org,
      pcn_code: level === 'practice' || level === 'pcn' ? 'P1' : '',
      place: 'City',
      group_type: 'all',
      cohort: 'all adults',
      patients,
      observed_cost_12m: observed,
      predicted_cost_12m: observed,
      suppressed: String(suppressed),
    });
    const release: Release = {
      cohort_summary: [
        row('practice', 'A', '10', '4000', false),
        row('practice', 'B', '', '', true),
        row('pcn', 'P1', '10', '4539', false),
        row('place', 'City', '10', '4539', false),
        row('system', 'S', '10', '4539', false),
      ],
      metadata: [
        { key: 'disclosure: small counts', value: 'counts 1 to 7 suppressed' },
        { key: 'disclosure: rounding', value: 'other counts rounded to the nearest 5' },
        { key: 'costs', value: 'GBP, rounded to the pound' },
      ],
    };
    const result = await attack(release, rulesFromMetadata(release), PROTECTION);
    expect(result.narrowed.map((f) => [f.cell, f.measure, f.low, f.high])).toEqual([
      ['practice|B|all adults|all', 'patients', 1, 4],
      ['practice|B|all adults|all', 'observed', 538, 540],
      ['practice|B|all adults|all', 'predicted', 538, 540],
    ]);
    expect(result.exact.map((f) => f.measure)).toEqual(['observed', 'predicted']);
  });

  it('reads a folder as published, CSV quoting and all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-attack-csv-'));
    const release = await publishedRelease(projectPath('sample-data', 'delivery'));
    mkdirSync(join(dir, 'copy'));
    for (const [name, rows] of Object.entries(release))
      writeFileSync(join(dir, 'copy', `${name}.csv`), stringify(rows, { header: true }));
    expect(readRelease(join(dir, 'copy'))).toEqual(release);
  });

  it('cannot narrow any suppressed figure of the sample delivery', async () => {
    await expectSafe(await publishedRelease(projectPath('sample-data', 'delivery')));
  });

  it.each([
    { scale: 0.005, seed: 301, practices: 12 },
    { scale: 0.005, seed: 302, practices: 16 },
    { scale: 0.006, seed: 303, practices: 20 },
  ])(
    'cannot narrow any suppressed figure of a synthetic delivery (scale $scale, seed $seed)',
    async (shape) => {
      const delivery = join(mkdtempSync(join(tmpdir(), 'strata-attack-synth-')), 'delivery');
      await synthesise({
        scale: shape.scale,
        seed: shape.seed,
        ...(shape.practices ? { practices: shape.practices } : {}),
        out: delivery,
        asOf: '2026-03-31',
      });
      await expectSafe(await publishedRelease(delivery));
    },
  );
});
