// `strata query` answers from the published, disclosure-controlled summaries and can do
// nothing else: no other file read, nothing written, no setting changed.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance, quotedString } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli.ts';
import { defaultConfig } from '../src/config.ts';
import { queryRows } from '../src/db.ts';
import { EXIT } from '../src/errors.ts';
import { silentLogger } from '../src/log.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { synthesise } from '../src/synth/index.ts';

let tmp: string;
let out: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-query-'));
  out = join(tmp, 'out');
  const delivery = join(tmp, 'delivery');
  await synthesise({ scale: 0.01, seed: 3, practices: 9, out: delivery, asOf: '2026-03-31' });
  await runPipeline({
    deliveryDir: delivery,
    outDir: out,
    config: defaultConfig,
    log: silentLogger,
    progress: noProgress,
    softwareVersion: 'test',
  });
}, 60_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function sink() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { stream, text: () => text };
}

async function strata(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = sink();
  const stderr = sink();
  const io: Io = { stdout: stdout.stream, stderr: stderr.stream, now: () => new Date(), env: {} };
  const code = await main(['node', 'strata', ...args], io);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function json(...args: string[]): Promise<Record<string, unknown>[]> {
  const r = await strata(...args, '--format', 'json', '--out', out);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(EXIT.ok);
  return JSON.parse(r.stdout);
}

describe('strata query: named questions', () => {
  it('cohorts by place: every cohort for each of the three places', async () => {
    const r = await strata('query', 'cohorts', '--level', 'place', '--out', out);
    expect(r.code).toBe(EXIT.ok);
    for (const place of ['Leicester City', 'Leicestershire County', 'Rutland'])
      expect(r.stdout).toContain(place);
    expect(r.stdout).toMatch(/^level\s+org_code\s+org_name\s+cohort\s+patients/);
    const rows = await json('query', 'cohorts', '--level', 'place');
    expect(rows).toHaveLength(3 * 13);
    expect(new Set(rows.map((x) => x.cohort))).toContain('multimorbidity + frailty + high cost');
    for (const x of rows) {
      expect(x.level).toBe('place');
      if (x.suppressed) expect(x.patients).toBeNull();
      else expect((x.patients as number) % 5).toBe(0);
    }
  });

  it('cohorts filtered to a place or a PCN', async () => {
    const rows = await json('query', 'cohorts', '--place', 'Rutland', '--level', 'practice');
    expect(rows.length).toBeGreaterThan(0);
    const practices = new Set(rows.map((x) => x.org_code));
    const all = await json(
      'query',
      'sql',
      "select org_code, place from cohort_summary where level = 'practice'",
    );
    for (const x of all) if (practices.has(x.org_code)) expect(x.place).toBe('Rutland');
    const pcn = (
      await json('query', 'sql', "select pcn_code from cohort_summary where level = 'pcn' limit 1")
    )[0]!.pcn_code as string;
    const inPcn = await json('query', 'cohorts', '--pcn', pcn);
    expect(inPcn.every((x) => x.level === 'practice')).toBe(true);
    expect(inPcn.length).toBeGreaterThan(0);
    const unknown = await strata('query', 'cohorts', '--place', 'Atlantis', '--out', out);
    expect(unknown.code).toBe(EXIT.badInput);
    expect(unknown.stderr).toContain('no place called "Atlantis"');
  });

  it('tiers by place and attrition for the system', async () => {
    const tiers = await json('query', 'tiers', '--level', 'place');
    expect(new Set(tiers.map((x) => x.tier))).toEqual(
      new Set(['very high', 'high', 'moderate', 'low', 'all adults']),
    );
    const attrition = await json('query', 'attrition', '--level', 'system');
    expect(attrition.map((x) => x.step)).toContain('any cohort');
    expect(attrition.every((x) => x.level === 'system')).toBe(true);
  });

  it('writes CSV and Parquet', async () => {
    const csv = await strata('query', 'tiers', '--level', 'system', '--format', 'csv', '--out', out);
    expect(csv.stdout.split('\n')[0]).toBe(
      'level,org_code,org_name,tier,patients,observed_cost_12m,predicted_cost_12m,suppressed',
    );
    const file = join(tmp, 'answer.parquet');
    const r = await strata(
      'query',
      'cohorts',
      '--level',
      'pcn',
      '--format',
      'parquet',
      '--output',
      file,
      '--out',
      out,
    );
    expect(r.code).toBe(EXIT.ok);
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const rows = await queryRows(conn, `select * from read_parquet(${quotedString(file)})`);
    expect(rows).toEqual(await json('query', 'cohorts', '--level', 'pcn'));
    conn.closeSync();
    instance.closeSync();
    const missing = await strata('query', 'cohorts', '--format', 'parquet', '--out', out);
    expect(missing.code).toBe(EXIT.badInput);
  });
});

describe('strata query sql', () => {
  it('answers a select over the published tables', async () => {
    const rows = await json('query', 'sql', "select value from metadata where key = 'as_of'");
    expect(rows).toEqual([{ value: '2026-03-31' }]);
  });

  it.each([
    ["select * from read_csv('/etc/passwd')", null],
    ["copy (select 1) to '/tmp/strata-query-test-x.csv'", '/tmp/strata-query-test-x.csv'],
    ["attach '/tmp/strata-query-test.duckdb' as other", '/tmp/strata-query-test.duckdb'],
    ['set enable_external_access = true', null],
    ['create table cohort_copy as select * from cohort_summary', null],
    ['select 1; select 2', null],
  ])('refuses %s', async (statement, file) => {
    const r = await strata('query', 'sql', statement, '--out', out);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^strata: (query refused|strata query sql runs exactly one statement)/);
    if (file) expect(existsSync(file)).toBe(false);
  });

  it('says so when nothing has been published yet', async () => {
    const r = await strata('query', 'cohorts', '--out', join(tmp, 'empty'));
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toContain('no published run');
  });
});
