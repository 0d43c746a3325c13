// Runs the `strata` command as a child process, the way cron or a person would, and reads
// what it published. Shared by the fault, security and concurrency tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { listFiles as filesUnder } from '../../src/files.ts';
import { projectPath } from '../../src/paths.ts';

export const STRATA_BIN = projectPath('bin', 'strata.mjs');
export const SAMPLE_DELIVERY = projectPath('sample-data', 'delivery');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr lines that are JSON log records (with --json). */
  logs: LogLine[];
  seconds: number;
}

export type LogLine = Record<string, unknown> & { msg?: string };

export interface CliProcess {
  child: ChildProcess;
  pid: number;
  done: Promise<CliResult>;
  /** Resolves at the first log line matching; rejects if the process ends first. */
  waitForLog(match: (line: LogLine) => boolean): Promise<LogLine>;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** A command the CLI is run under, e.g. ['prlimit', '--fsize=1000', '--']. */
  wrap?: string[];
}

export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const started = performance.now();
  const argv = [...(opts.wrap ?? []), process.execPath, STRATA_BIN, ...args];
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
  // Vitest's own settings must not leak into the child (NODE_OPTIONS loaders, test env).
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.STRATA_CRASH_AT;
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const logs: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    const lines = (partial + s).split('\n');
    partial = lines.pop()!;
    for (const text of lines) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      logs.push(line);
      for (const w of [...waiters])
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
    }
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, logs, seconds: (performance.now() - started) / 1000 }),
    );
  });
  return {
    child,
    pid: child.pid!,
    done,
    waitForLog(match) {
      const seen = logs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<LogLine>((resolve, reject) => {
        waiters.push({ match, resolve });
        void done.then((r) =>
          reject(new Error(`strata ended (code ${r.code}, signal ${r.signal}) before the expected log line`)),
        );
      });
    },
  };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** `strata run` arguments for the bundled sample into `out`, with JSON logs. */
export function runArgs(out: string, ...extra: string[]): string[] {
  return runArgsFor(SAMPLE_DELIVERY, out, ...extra);
}

/** `strata run` arguments for `delivery` into `out`, with JSON logs. */
export function runArgsFor(delivery: string, out: string, ...extra: string[]): string[] {
  return ['run', '--delivery', delivery, '--out', out, '--json', ...extra];
}

/**
 * A small synthetic delivery (three practices, a few hundred patients, with the generator's
 * usual mess) for tests that start strata many times and care how it fails or locks, not
 * what it finds: each run costs less than one on the sample.
 */
export async function smallDelivery(out: string): Promise<string> {
  const { synthesise } = await import('../../src/synth/index.ts');
  await synthesise({ scale: 0.003, practices: 3, seed: 20260331, out, asOf: '2026-03-31' });
  return out;
}

/** Lines a person reads: stderr without the JSON log records. */
export function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file under `dir`, relative, sorted, with `/` separators. */
export const listFiles = (dir: string): string[] => filesUnder(dir).sort();

export interface Manifest {
  run_id: string;
  outputs: Record<string, string>;
  [key: string]: unknown;
}

export function latestTarget(out: string): string | null {
  try {
    return readlinkSync(join(out, 'latest'));
  } catch {
    return null;
  }
}

/**
 * Problems with the run folder `dir` as a published run: manifest.json readable, naming this
 * run, and the folder holding exactly the files it lists with the content it records. Empty
 * when the run is complete.
 */
export function runProblems(dir: string, runId?: string): string[] {
  const problems: string[] = [];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (err) {
    return [`manifest.json unreadable: ${(err as Error).message}`];
  }
  if (runId && manifest.run_id !== runId)
    problems.push(`manifest names run ${manifest.run_id}, not ${runId}`);
  const outputs = manifest.outputs ?? {};
  if (!Object.keys(outputs).length) problems.push('manifest lists no outputs');
  for (const [file, hash] of Object.entries(outputs)) {
    const path = join(dir, file);
    if (!existsSync(path)) problems.push(`${file} missing`);
    else if (sha256(readFileSync(path)) !== hash) problems.push(`${file} does not match its recorded sha256`);
  }
  const unlisted = listFiles(dir).filter((f) => f !== 'manifest.json' && !(f in outputs));
  if (unlisted.length) problems.push(`files not in the manifest: ${unlisted.join(', ')}`);
  return problems;
}

/**
 * Reads OUT/latest the way a consumer should: resolve the link once, then read inside that run
 * folder, so a switch of latest in between cannot mix two runs.
 */
export function readLatest(out: string): { runId: string; problems: string[] } | null {
  const target = latestTarget(out);
  if (target === null) return null;
  const runId = target.split('/').pop()!;
  const problems = /^runs\/[^/]+$/.test(target) ? [] : [`latest points at ${target}, outside runs/`];
  return { runId, problems: [...problems, ...runProblems(join(out, target), runId)] };
}

/** Temporary files a finished run must not leave behind. */
export function leftovers(out: string): string[] {
  const found: string[] = [];
  for (const dir of ['.staging', '.work'])
    if (existsSync(join(out, dir))) found.push(...readdirSync(join(out, dir)).map((n) => `${dir}/${n}`));
  for (const name of readdirSync(out))
    if (name.startsWith('.lock') || name.startsWith('.latest-') || name.startsWith('.tmp')) found.push(name);
  return found;
}

export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Every row of every table in a parquet or DuckDB file, as text, for comparing or searching
 * their content rather than their compressed bytes. Opened read-only.
 */
export async function tableText(path: string): Promise<string> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const dump = async (sql: string) =>
      JSON.stringify((await conn.runAndReadAll(sql)).getRowsJson(), null, 0) + '\n';
    const quoted = `'${path.replace(/'/g, "''")}'`;
    if (path.endsWith('.parquet')) return await dump(`select * from read_parquet(${quoted})`);
    await conn.run(`attach ${quoted} as f (read_only)`);
    const tables = (
      await conn.runAndReadAll(
        `select schema_name, table_name from duckdb_tables() where database_name = 'f' order by all`,
      )
    ).getRowObjectsJS() as { schema_name: string; table_name: string }[];
    let text = '';
    for (const t of tables) {
      const name = `f."${t.schema_name}"."${t.table_name}"`;
      text += `# ${t.schema_name}.${t.table_name}\n` + (await dump(`select * from ${name} order by all`));
    }
    return text;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

export const TABLE_FILE = /\.(parquet|duckdb)$/;
