// Hardening: what strata publishes is readable by its owner only, its work database cannot
// reach files outside the delivery and output folders, and no pseudo_id escapes into logs,
// the manifest or anything commissioners receive.
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openWorkDb, queryRows, queryValue } from '../src/db.ts';
import { CliError, EXIT } from '../src/errors.ts';
import { secureOutputFolder } from '../src/publish.ts';
import { readGroundTruth } from './support/ground-truth.ts';
import {
  listFiles,
  messages,
  readLatest,
  runArgs,
  runCli,
  SAMPLE_DELIVERY,
  TABLE_FILE,
  tableText,
  type CliResult,
} from './support/cli.ts';

let tmp: string;
let out: string;
let run: CliResult;
let runDir: string;
let pseudoIds: Set<string>;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-security-'));
  out = join(tmp, 'out');
  // --verbose so that debug lines are in the log searched below.
  run = await runCli(runArgs(out, '--verbose'));
  expect(run.signal, run.stderr).toBeNull();
  expect([0, 2], run.stderr).toContain(run.code);
  const latest = readLatest(out);
  expect(latest?.problems).toEqual([]);
  runDir = join(out, 'runs', latest!.runId);
  pseudoIds = new Set(readGroundTruth(SAMPLE_DELIVERY).map((p) => p.pseudo_id.toLowerCase()));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('published files are for their owner only', () => {
  it('every folder is 0700 and every file 0600, with no links, from OUT down', () => {
    const wrong: string[] = [];
    let files = 0;
    const check = (path: string, name: string) => {
      const st = lstatSync(path);
      const mode = (st.mode & 0o777).toString(8);
      if (st.isDirectory()) {
        if (mode !== '700') wrong.push(`${name}/ ${mode}`);
        for (const entry of readdirSync(path)) check(join(path, entry), `${name}/${entry}`);
      } else if (st.isFile()) {
        files++;
        if (mode !== '600') wrong.push(`${name} ${mode}`);
      } else wrong.push(`${name} is neither a file nor a folder`);
    };
    // OUT did not exist before the run, so strata created it; latest is the one link allowed.
    expect(lstatSync(out).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(out, 'runs')).mode & 0o777).toBe(0o700);
    check(runDir, 'runs/' + runDir.split('/').pop());
    expect(files).toBeGreaterThan(5);
    expect(wrong).toEqual([]);
  });
});

describe('an output folder that others can write', () => {
  const mode = (path: string) => lstatSync(path).mode & 0o777;

  it('is tightened to owner-only, with the folders a run writes and the run latest points to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-loose-'));
    try {
      const folders = ['runs', 'runs/20260101T000000Z-aaaaaa', 'history', 'history/.partitions', '.work'];
      for (const f of folders) mkdirSync(join(dir, f));
      symlinkSync('runs/20260101T000000Z-aaaaaa', join(dir, 'latest'));
      for (const f of ['.', ...folders]) chmodSync(join(dir, f), 0o777);
      // One its owner made read-only: it loses the others' bits and stays read-only.
      chmodSync(join(dir, '.work'), 0o555);
      secureOutputFolder(dir);
      expect(Object.fromEntries(['.', ...folders].map((f) => [f, mode(join(dir, f))]))).toEqual(
        Object.fromEntries(['.', ...folders].map((f) => [f, f === '.work' ? 0o500 : 0o700])),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is tightened by strata run before anything else, even a run that then fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-loose-'));
    try {
      chmodSync(dir, 0o777);
      const r = await runCli(['run', '--delivery', join(dir, 'no-such-delivery'), '--out', dir]);
      expect(r.code).toBe(EXIT.badInput);
      expect(mode(dir)).toBe(0o700);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is refused when it belongs to another user, and nothing is written in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-shared-'));
    try {
      chmodSync(dir, 0o777);
      const me = process.getuid!();
      // As root the folder can be handed to another user (nobody); otherwise strata is told
      // that the user is someone else, which is the same folder seen by another user.
      if (me === 0) {
        chownSync(dir, 65534, 65534);
        const r = await runCli(runArgs(dir));
        expect(r.code).toBe(EXIT.badInput);
        expect(messages(r.stderr)).toEqual([
          `strata: ${dir} can be written by other users and belongs to another user (uid 65534), so strata cannot make it owner-only: use a folder you own, or ask its owner to remove the write permission for others (chmod go-w)`,
        ]);
      } else {
        const err = (() => {
          try {
            secureOutputFolder(dir, { uid: me + 1 });
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(CliError);
        expect((err as CliError).exitCode).toBe(EXIT.badInput);
      }
      expect(readdirSync(dir)).toEqual([]);
      expect(mode(dir)).toBe(0o777);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the work database is confined to the delivery and output folders', () => {
  let dir: string;
  let delivery: string;
  let output: string;
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  const escape = join(tmpdir(), `strata-escape-${process.pid}.csv`);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-confined-'));
    delivery = join(dir, 'delivery');
    output = join(dir, 'out');
    mkdirSync(join(output, 'work'), { recursive: true });
    mkdirSync(delivery);
    writeFileSync(join(delivery, 'ok.csv'), 'a,b\n1,2\n3,4\n');
    // A link planted in a delivery must not become a way out.
    symlinkSync('/etc/passwd', join(delivery, 'passwd.csv'));
    instance = await openWorkDb({
      allowedDirectories: [delivery, output],
      tempDirectory: join(output, 'work'),
      memoryLimit: '256MB',
      threads: 1,
    });
    conn = await instance.connect();
  });

  afterAll(() => {
    conn?.closeSync();
    instance?.closeSync();
    rmSync(dir, { recursive: true, force: true });
    rmSync(escape, { force: true });
  });

  it('reads the delivery and writes the output folder (the control)', async () => {
    expect(await queryValue(conn, `select sum(b) from read_csv('${delivery}/ok.csv')`)).toBe(6);
    await conn.run(`copy (select 42 as x) to '${output}/x.csv'`);
    expect(readFileSync(join(output, 'x.csv'), 'utf8')).toBe('x\n42\n');
  });

  it.each([
    ['a system file', () => `select * from read_csv('/etc/passwd')`],
    [
      'a path climbing out of the delivery',
      () => `select * from read_csv('${delivery}/../../../../../../etc/passwd')`,
    ],
    ['a symbolic link in the delivery', () => `select * from read_csv('${delivery}/passwd.csv')`],
    ['a file as text', () => `select * from read_text('/etc/hostname')`],
    ['a folder listing', () => `select * from glob('/etc/*')`],
    ['a write outside', () => `copy (select 1) to '${escape}'`],
    ['another database', () => `attach '${join(tmpdir(), `strata-escape-${process.pid}.duckdb`)}' as x`],
  ])('refuses %s', async (_, sql) => {
    await expect(conn.run(sql())).rejects.toThrow(/Permission Error/);
    expect(existsSync(escape)).toBe(false);
  });

  it.each([
    'set enable_external_access = true',
    "set allowed_directories = ['/']",
    'reset allowed_directories',
    "set global allowed_directories = ['/']",
    "set temp_directory = '/tmp'",
    'set lock_configuration = false',
  ])('refuses to widen access: %s', async (sql) => {
    await expect(conn.run(sql)).rejects.toThrow(/configuration has been locked/);
  });

  it('still has external access switched off after those attempts', async () => {
    const rows = await queryRows<{ name: string; value: string }>(
      conn,
      `select name, value from duckdb_settings() where name in ('enable_external_access', 'lock_configuration') order by name`,
    );
    expect(rows).toEqual([
      { name: 'enable_external_access', value: 'false' },
      { name: 'lock_configuration', value: 'true' },
    ]);
  });
});

/**
 * pseudo_ids (16 hex digits) found in `data`, read as ASCII. Every 16-digit window of every
 * run of hex digits is looked up, so an id inside a longer hex string (a hash) is found too.
 * Limit: compressed bytes hide ids; gzip is inflated here and parquet and DuckDB files are
 * also read through DuckDB by the callers, but any other compressed format would not be seen.
 */
function findIds(data: Buffer | string): Set<string> {
  const text = (typeof data === 'string' ? data : data.toString('latin1')).toLowerCase();
  const found = new Set<string>();
  for (const m of text.matchAll(/[0-9a-f]{16,}/g))
    for (let i = 0; i + 16 <= m[0].length; i++) {
      const id = m[0].slice(i, i + 16);
      if (pseudoIds.has(id)) found.add(id);
    }
  return found;
}

/** Raw bytes, inflated gzip, and the rows of parquet and DuckDB files. */
async function idsInFile(path: string): Promise<Set<string>> {
  const bytes = readFileSync(path);
  const found = findIds(bytes);
  if (path.endsWith('.gz')) for (const id of findIds(gunzipSync(bytes))) found.add(id);
  if (TABLE_FILE.test(path)) for (const id of findIds(await tableText(path))) found.add(id);
  return found;
}

// Patient-level by design: each practice receives its own list.
const RISK_LIST = /^practices\/[^/]+\/risk-list\./;

describe('no pseudo_id leaves the practice risk lists', () => {
  it('is in no line of the full run log, the summary or the manifest', () => {
    expect(run.logs.length).toBeGreaterThan(8);
    expect(run.logs.some((l) => l.level === 20)).toBe(true);
    const sources = {
      stderr: run.stderr,
      stdout: run.stdout,
      manifest: readFileSync(join(runDir, 'manifest.json'), 'utf8'),
    };
    const leaks = Object.entries(sources)
      .map(([name, text]) => [name, findIds(text).size] as const)
      .filter(([, n]) => n > 0);
    expect(leaks).toEqual([]);
  });

  it('is in no commissioner, dashboard or report file', async () => {
    const files = listFiles(join(out, 'latest')).filter((f) => !RISK_LIST.test(f));
    expect(files.some((f) => f.startsWith('commissioner/'))).toBe(true);
    expect(files.some((f) => TABLE_FILE.test(f))).toBe(true);
    const leaks: string[] = [];
    for (const file of files) {
      const n = (await idsInFile(join(out, 'latest', file))).size;
      if (n) leaks.push(`${file}: ${n} pseudo_ids`);
    }
    expect(leaks).toEqual([]);
  });

  it('is found where it is meant to be (the search works)', async () => {
    const lists = listFiles(join(out, 'latest')).filter((f) => RISK_LIST.test(f));
    const csvs = lists.filter((f) => f.endsWith('.csv'));
    expect(csvs.length).toBeGreaterThan(0);
    for (const csv of csvs) {
      const path = join(out, 'latest', csv);
      const rows = readFileSync(path, 'utf8').trim().split('\n').length - 1;
      expect(findIds(readFileSync(path)).size, csv).toBe(rows);
      const parquet = path.replace(/\.csv$/, '.parquet');
      if (!existsSync(parquet)) continue;
      // Compressed pages hide most ids from a byte search, but the column statistics (min and
      // max) are stored plain, so even the raw bytes of a leaking parquet file give it away.
      expect(findIds(readFileSync(parquet)).size, parquet).toBeGreaterThan(0);
      expect((await idsInFile(parquet)).size, parquet).toBe(rows);
    }
  });
});
