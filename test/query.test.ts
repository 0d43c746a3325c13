// `strata query` answers from the published, disclosure-controlled summaries and can do
// nothing else: no other file read, nothing written, no setting changed, and no question
// runs past its time or memory limit.
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance, quotedString } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../src/cli.ts';
import { defaultConfig } from '../src/config.ts';
import { queryRows } from '../src/db.ts';
import { EXIT } from '../src/errors.ts';
import { SCRATCH_PREFIX } from '../src/query.ts';
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
});

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

/** Every entry under OUT (links not followed): its kind, mode, size and the hash of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (path: string, name: string) => {
    const st = lstatSync(path);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      entries[name] = `dir ${mode}`;
      for (const entry of readdirSync(path)) walk(join(path, entry), `${name}/${entry}`);
    } else if (st.isFile())
      entries[name] =
        `file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    else entries[name] = `other ${mode}`;
  };
  walk(dir, '.');
  return entries;
}

describe('strata query sql cannot write', () => {
  let before: Record<string, string>;
  let run: string;

  beforeAll(() => {
    run = realpathSync(join(out, 'latest'));
    before = snapshot(out);
    expect(Object.keys(before).some((k) => k.endsWith('commissioner/summary.duckdb'))).toBe(true);
  });

  // Each is an attempt to change or add a file in the published run, the last few through a
  // statement that is a SELECT on its face.
  it.each([
    [
      'the published summary overwritten',
      () => `copy (select 'x' as a) to '${run}/commissioner/summary.duckdb' (format csv, use_tmp_file false)`,
    ],
    ['a write-ahead log beside it', () => `copy (select 1 as a) to '${run}/commissioner/summary.duckdb.wal'`],
    ['a new database in the run', () => `attach '${run}/commissioner/other.duckdb' as other`],
    ['the database exported into the run', () => `export database '${run}/exported'`],
    ['a checkpoint', () => 'force checkpoint'],
    ['a checkpoint called as a function', () => 'call checkpoint()'],
    ['a table created', () => 'create table copied as select * from metadata'],
    ['a row inserted', () => "insert into metadata values ('x', 'y')"],
    ['a macro created', () => 'create macro m() as 1'],
    ['a vacuum', () => 'vacuum'],
    ['an extension loaded', () => 'load httpfs'],
    [
      'a statement run from inside a select',
      () => `select * from query('copy (select 1) to ''${run}/x.csv''')`,
    ],
    ['a write after a select', () => `select 1; copy (select 1) to '${run}/x.csv'`],
    ['a pivot (which creates a type before it selects)', () => 'pivot metadata on key'],
  ])('refuses %s, and every published file stays as it was', async (_, statement) => {
    const r = await strata('query', 'sql', statement(), '--out', out);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^strata: (query refused|strata query sql runs exactly one statement)/);
    expect(snapshot(out)).toEqual(before);
    // The summary still answers.
    expect(await json('query', 'sql', "select value from metadata where key = 'as_of'")).toEqual([
      { value: '2026-03-31' },
    ]);
  });

  it('names the statement it refuses', async () => {
    const r = await strata('query', 'sql', 'force checkpoint', '--out', out);
    expect(r.stderr).toBe('strata: query refused: only a SELECT can be asked, not a CALL statement\n');
  });

  it('writes no answer into the output folder', async () => {
    for (const target of [join(run, 'commissioner', 'summary.duckdb'), join(out, 'answer.parquet')]) {
      const r = await strata('query', 'cohorts', '--format', 'parquet', '--output', target, '--out', out);
      expect(r.code).toBe(EXIT.badInput);
      expect(r.stderr).toContain('is inside the output folder');
    }
    const csv = await strata(
      'query',
      'tiers',
      '--format',
      'csv',
      '--output',
      join(out, 'runs', 'x.csv'),
      '--out',
      out,
    );
    expect(csv.code).toBe(EXIT.badInput);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('the private copy', () => {
  it('is removed after every question, answered, refused or stopped', async () => {
    const copies = () => readdirSync(tmpdir()).filter((name) => name.startsWith(SCRATCH_PREFIX));
    const before = copies();
    expect((await strata('query', 'cohorts', '--out', out)).code).toBe(EXIT.ok);
    expect((await strata('query', 'sql', 'force checkpoint', '--out', out)).code).toBe(EXIT.badInput);
    const stopped = await strata(
      'query',
      'sql',
      'select count(*) from range(100000000000) a',
      '--timeout',
      '0.2',
      '--out',
      out,
    );
    expect(stopped.code).toBe(EXIT.queryLimit);
    expect(copies()).toEqual(before);
  });
});

describe('strata query limits', () => {
  const runaway = 'select count(*) from range(100000000000) a';

  it('stops a runaway question at its time limit', async () => {
    const r = await strata('query', 'sql', runaway, '--timeout', '0.5', '--out', out);
    expect(r.code).toBe(EXIT.queryLimit);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'strata: query stopped at its time limit of 0.5 s; ask a narrower question, or raise --timeout (query.timeoutSeconds in the configuration)\n',
    );
  });

  it('takes the time limit from the configuration', async () => {
    const config = join(tmp, 'query-config.json');
    writeFileSync(config, JSON.stringify({ query: { timeoutSeconds: 0.5 } }));
    const r = await strata('query', 'sql', runaway, '--config', config, '--out', out);
    expect(r.code).toBe(EXIT.queryLimit);
    expect(r.stderr).toContain('time limit of 0.5 s');
  });

  it('stops a question that needs more than its memory limit', async () => {
    // Two billion integers in one list: 16 GB, far past 100 MB.
    const r = await strata(
      'query',
      'sql',
      'select list(range) from range(2000000000)',
      '--memory-limit',
      '100MB',
      '--out',
      out,
    );
    expect(r.code).toBe(EXIT.queryLimit);
    expect(r.stderr).toContain('query stopped at its memory limit of 100MB');
  });

  it('runs with the limits it was given', async () => {
    const rows = await json(
      'query',
      'sql',
      "select current_setting('memory_limit') as memory, current_setting('threads') as threads, current_setting('temp_directory') as spill",
      '--memory-limit',
      '300MB',
      '--threads',
      '1',
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.threads).toBe(1);
    expect(rows[0]!.spill).toBe('');
    // DuckDB reports the limit in its own units: 300 MB is 286.1 MiB.
    expect(rows[0]!.memory).toBe('286.1 MiB');
  });

  it.each([
    ['--timeout', '0'],
    ['--timeout', '-1'],
    ['--memory-limit', 'lots'],
    ['--threads', '0'],
  ])('refuses %s %s', async (flag, value) => {
    const r = await strata('query', 'cohorts', flag, value, '--out', out);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/^strata: query limits are not valid/);
  });
});
