// One run per output folder: a second run refuses while the first holds the lock, a lock
// left by a dead process is taken over, and a reader of OUT/latest never sees a half run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, LockedError } from '../src/errors.ts';
import { acquireLock } from '../src/publish.ts';
import {
  leftovers,
  messages,
  readLatest,
  runArgsFor,
  runCli,
  smallDelivery,
  startCli,
  type CliResult,
} from './support/cli.ts';

let tmp: string;
let delivery: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-concurrency-'));
  delivery = await smallDelivery(join(tmp, 'delivery'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const runIdOf = (r: CliResult) => (JSON.parse(r.stdout) as { runId: string }).runId;

function expectRefusal(r: CliResult, lock: string): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(EXIT.locked);
  const lines = messages(r.stderr);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^strata: another strata run .*try again|^strata: another strata run is starting/);
  expect(lines[0]).toContain(lock);
  expect(r.stdout).toBe('');
}

/** A process id that is certainly not running: a child that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  return child.pid!;
}

// The reader test needs a folder with a published run; the first test makes one and hands it
// over, so the two chain while the other runs go on beside them.
let handOver: (out: string) => void;
let handOverFailed: (err: unknown) => void;
const publishedOnce = new Promise<string>((resolve, reject) => {
  handOver = resolve;
  handOverFailed = reject;
});
publishedOnce.catch(() => {});

describe.concurrent('runs on one output folder', () => {
  it('the second refuses with exit 4 naming the lock and its holder; the first completes', async () => {
    try {
      const out = join(tmp, 'shared');
      const first = startCli(runArgsFor(delivery, out));
      // The lock is taken before this line is logged.
      await first.waitForLog((l) => l.msg === 'run started');
      const second = await runCli(runArgsFor(delivery, out));
      expectRefusal(second, join(out, '.lock'));
      expect(messages(second.stderr)[0]).toContain(`process ${first.pid}`);

      const done = await first.done;
      expect(done.signal, done.stderr).toBeNull();
      expect([0, 2], done.stderr).toContain(done.code);
      const latest = readLatest(out);
      expect(latest?.runId).toBe(runIdOf(done));
      expect(latest?.problems).toEqual([]);
      expect(readdirSync(join(out, 'runs'))).toEqual([runIdOf(done)]);
      expect(leftovers(out)).toEqual([]);
      handOver(out);
    } catch (err) {
      handOverFailed(err);
      throw err;
    }
  });

  it('a reader of OUT/latest sees a complete run at every read while another run publishes', async () => {
    const out = await publishedOnce;
    const before = readLatest(out);
    expect(before?.problems).toEqual([]);

    const run = startCli(runArgsFor(delivery, out));
    let finished = false;
    void run.done.then(() => (finished = true));
    const seen: string[] = [];
    const problems: string[] = [];
    let reads = 0;
    for (;;) {
      const last = finished;
      const r = readLatest(out);
      reads++;
      if (!r) problems.push('latest missing');
      else {
        problems.push(...r.problems.map((p) => `${r.runId}: ${p}`));
        if (seen.at(-1) !== r.runId) seen.push(r.runId);
      }
      if (last) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const result = await run.done;
    expect([0, 2], result.stderr).toContain(result.code);
    expect(problems).toEqual([]);
    // The old run until the switch, the new one after it, nothing in between.
    expect(seen).toEqual([before!.runId, runIdOf(result)]);
    expect(reads).toBeGreaterThan(20);
  });

  it('started at the same moment, exactly one runs', async () => {
    const out = join(tmp, 'race');
    const a = startCli(runArgsFor(delivery, out));
    const b = startCli(runArgsFor(delivery, out));
    const results = await Promise.all([a.done, b.done]);
    const codes = results.map((r) => r.code).sort();
    expect(codes[1], results.map((r) => r.stderr).join('\n')).toBe(EXIT.locked);
    expect([0, 2]).toContain(codes[0]);
    const winner = results.find((r) => r.code !== EXIT.locked)!;
    expectRefusal(
      results.find((r) => r.code === EXIT.locked)!,
      join(out, '.lock'),
    );
    expect(readLatest(out)).toEqual({ runId: runIdOf(winner), problems: [] });
    expect(leftovers(out)).toEqual([]);
  });

  it('a lock left by a process that no longer exists is taken over by one of two runs started together', async () => {
    const out = join(tmp, 'stale');
    mkdirSync(out, { mode: 0o700 });
    const lock = join(out, '.lock');
    writeFileSync(
      lock,
      JSON.stringify({ pid: deadPid(), run_id: 'killed', started: new Date().toISOString() }),
    );
    const results = await Promise.all([
      startCli(runArgsFor(delivery, out)).done,
      startCli(runArgsFor(delivery, out)).done,
    ]);
    const stderr = results.map((r) => r.stderr).join('\n');
    expect(results.map((r) => r.code).sort(), stderr).toEqual([expect.any(Number), EXIT.locked]);
    const winner = results.find((r) => r.code !== EXIT.locked)!;
    expect([0, 2], stderr).toContain(winner.code);
    expectRefusal(
      results.find((r) => r.code === EXIT.locked)!,
      lock,
    );
    expect(readLatest(out)).toEqual({ runId: runIdOf(winner), problems: [] });
    expect(leftovers(out)).toEqual([]);
  });
});

describe('acquireLock', () => {
  const lockIn = (name: string) => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return { dir, lock: join(dir, '.lock') };
  };

  it('refuses while the holder is alive, naming it', () => {
    const { dir, lock } = lockIn('alive');
    writeFileSync(lock, JSON.stringify({ pid: process.ppid, run_id: 'holder' }));
    const attempt = () => acquireLock(dir, 'second');
    expect(attempt).toThrow(LockedError);
    expect(attempt).toThrow(`another strata run (holder, process ${process.ppid}) holds the lock ${lock}`);
    expect(existsSync(lock)).toBe(true);
  });

  it('takes over a dead holder and releases only its own lock', () => {
    const { dir, lock } = lockIn('dead');
    writeFileSync(lock, JSON.stringify({ pid: deadPid(), run_id: 'killed' }));
    const held = acquireLock(dir, 'mine');
    expect(() => acquireLock(dir, 'third')).toThrow(`process ${process.pid}`);
    held.release();
    expect(existsSync(lock)).toBe(false);
  });

  it('waits out another process taking a stale lock over, unless it died doing so', () => {
    const { dir, lock } = lockIn('guarded');
    writeFileSync(lock, JSON.stringify({ pid: deadPid(), run_id: 'killed' }));
    writeFileSync(`${lock}.takeover`, '');
    expect(() => acquireLock(dir, 'x')).toThrow(
      `another strata run is starting in ${dir} (lock file ${lock})`,
    );
    expect(existsSync(lock)).toBe(true);

    const old = new Date(Date.now() - 60_000);
    utimesSync(`${lock}.takeover`, old, old);
    acquireLock(dir, 'y').release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('treats a torn lock as held while fresh and as stale when old', () => {
    const { dir, lock } = lockIn('torn');
    writeFileSync(lock, '{"pid":');
    let thrown: unknown;
    try {
      acquireLock(dir, 'x');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LockedError);
    expect((thrown as LockedError).exitCode).toBe(EXIT.locked);
    expect((thrown as Error).message).toContain(lock);

    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    acquireLock(dir, 'y').release();
    expect(existsSync(lock)).toBe(false);
  });
});
