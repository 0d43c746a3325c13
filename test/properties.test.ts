// Segregation and disclosure as properties, on synthetic populations of several shapes
// (few large practices, many tiny ones): whatever the shape, a practice's folder holds only
// its own patients, and nothing published beyond the practice lists holds a pseudo_id or a
// count between 1 and 7.
import { mkdtempSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { DuckDBInstance, quotedString } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth } from './support/ground-truth.ts';
import { tableText } from './support/cli.ts';

const SHAPES = [
  { name: 'three practices', practices: 3, scale: 0.004, seed: 101 },
  { name: 'a dozen practices', practices: 12, scale: 0.01, seed: 102 },
  { name: 'forty small practices', practices: 40, scale: 0.002, seed: 103 },
  { name: 'all 136 practices, a handful of patients each', practices: 136, scale: 0.0015, seed: 104 },
];

function walk(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

/**
 * The first pseudo_id found anywhere in `text`, or undefined. Pseudonyms are 16 hex digits,
 * so every window of 16 in every run of hex digits is looked up: the same answer as asking
 * `text.includes(id)` of each id, in one pass over the text.
 */
function firstPseudonym(text: string, ids: ReadonlySet<string>): string | undefined {
  for (const run of text.toLowerCase().matchAll(/[0-9a-f]{16,}/g))
    for (let i = 0; i + 16 <= run[0].length; i++) {
      const window = run[0].slice(i, i + 16);
      if (ids.has(window)) return window;
    }
  return undefined;
}

async function publishedCounts(file: string): Promise<number[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const columns = (await conn.runAndReadAll(`describe select * from read_parquet(${quotedString(file)})`))
      .getRows()
      .map((r) => String(r[0]));
    if (!columns.includes('patients')) return [];
    const rows = await conn.runAndReadAll(
      `select patients from read_parquet(${quotedString(file)}) where patients is not null`,
    );
    return rows.getRows().map((r) => Number(r[0]));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

describe('segregation and disclosure on populations of many shapes', () => {
  it.each(SHAPES)('$name', async (shape) => {
    const root = mkdtempSync(join(tmpdir(), 'strata-shape-'));
    const delivery = join(root, 'delivery');
    const out = join(root, 'out');
    await synthesise({
      scale: shape.scale,
      seed: shape.seed,
      practices: shape.practices,
      out: delivery,
      asOf: '2026-03-31',
    });
    await runPipeline({
      deliveryDir: delivery,
      outDir: out,
      config: defaultConfig,
      log: silentLogger,
      progress: noProgress,
      softwareVersion: 'test',
    });
    const run = realpathSync(join(out, 'latest'));
    const truth = readGroundTruth(delivery).filter((r) => r.eligible);
    const practiceOf = new Map(truth.map((r) => [r.pseudo_id, r.practice_code]));
    const ids = new Set(practiceOf.keys());
    // The search below relies on their form.
    expect([...ids].filter((id) => !/^[0-9a-f]{16}$/.test(id))).toEqual([]);

    // Each practice list holds exactly that practice's registered patients.
    const practices = readdirSync(join(run, 'practices'));
    expect(practices.length).toBe(shape.practices);
    let listed = 0;
    for (const practice of practices) {
      const rows: { pseudo_id: string }[] = parse(
        readFileSync(join(run, 'practices', practice, 'risk-list.csv')),
        { columns: true },
      );
      for (const r of rows) expect(practiceOf.get(r.pseudo_id), `${practice}`).toBe(practice);
      expect(rows.length).toBe(truth.filter((t) => t.practice_code === practice).length);
      listed += rows.length;
    }
    expect(listed).toBe(truth.length);

    // Outside the practice lists: no pseudo_id, and no count of 1 to 7.
    const shared = [
      ...walk(run).filter((f) => !relative(run, f).startsWith('practices/')),
      ...walk(join(out, 'history')),
    ];
    expect(shared.some((f) => f.endsWith('report.html'))).toBe(true);
    for (const file of shared) {
      const text = /\.(parquet|duckdb)$/.test(file) ? await tableText(file) : readFileSync(file, 'latin1');
      const leaked = firstPseudonym(text, ids);
      expect(leaked, relative(out, file)).toBeUndefined();
      if (file.endsWith('.parquet'))
        for (const n of await publishedCounts(file)) {
          expect(n >= 1 && n <= 7, `${relative(out, file)} publishes ${n}`).toBe(false);
          if (file.includes('/commissioner/')) expect(n % 5, relative(out, file)).toBe(0);
        }
    }
  });
});
