// Fault injection: the CLI is killed at every crash point, at seeded random moments inside the
// long stages, and run against a full disk and a read-only output folder. After every fault
// OUT/latest must still be a complete run (or absent if nothing was ever published), and the
// next ordinary run must succeed, publish exactly what a clean run publishes and leave no
// temporary files behind.
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  leftovers,
  listFiles,
  messages,
  readLatest,
  runArgs,
  runCli,
  runProblems,
  sha256,
  startCli,
  TABLE_FILE,
  tableText,
  type CliResult,
  type Manifest,
} from './support/cli.ts';
import { mulberry32 } from '../src/synth/random.ts';

// Printed in the summary so that a failing timed kill can be replayed exactly.
const SEED = Number(process.env.STRATA_FAULT_SEED ?? 20260331);

type Fault =
  | { kind: 'crash'; point: string }
  | { kind: 'timed'; stage: string }
  | { kind: 'disk-full' }
  | { kind: 'read-only' };
type Step = Fault | { kind: 'rerun' };

const crash = (point: string): Step => ({ kind: 'crash', point });
const timed = (stage: string): Step => ({ kind: 'timed', stage });
const rerun: Step = { kind: 'rerun' };

// Two independent output folders, run side by side to halve the wall time. Each starts empty,
// so each first crash happens before anything was ever published. A timed kill or an
// environment fault sits between a crash and its rerun, so that rerun also clears what two
// failed runs left.
const LANES: Step[][] = [
  [
    crash('after-ingest'),
    rerun,
    crash('after-conditions'),
    timed('cost model'),
    rerun,
    crash('after-cohorts'),
    rerun,
    crash('before-rename'),
    rerun,
    { kind: 'disk-full' },
    crash('after-latest'),
    rerun,
  ],
  [
    crash('after-staging'),
    rerun,
    crash('after-frailty'),
    rerun,
    crash('after-cost-model'),
    timed('outputs'),
    rerun,
    crash('after-outputs'),
    timed('staging'),
    rerun,
    { kind: 'read-only' },
    crash('before-latest'),
    rerun,
  ],
];

const CRASH_POINTS = [
  'after-ingest',
  'after-staging',
  'after-conditions',
  'after-frailty',
  'after-cost-model',
  'after-cohorts',
  'after-outputs',
  'before-rename',
  'before-latest',
  'after-latest',
];

const PUBLISH_POINTS = ['before-rename', 'before-latest', 'after-latest'];

let tmp: string;
let config: string;
let reference: { dir: string; manifest: Manifest; exitCode: number; largestFile: number };
const stageOrder: string[] = [];
const stageSeconds = new Map<string, number>();
const tally = { injected: 0, survived: 0, crash: 0, timed: 0, environment: 0, reruns: 0 };
const normalised = new Set<string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-faults-'));
  // Multi-threaded DuckDB sums doubles in varying order, which can move a rounded cost by one
  // pound between otherwise identical runs; one thread keeps reruns comparable byte for byte.
  config = join(tmp, 'config.json');
  writeFileSync(config, JSON.stringify({ resources: { threads: 1 } }));
  const out = join(tmp, 'reference');
  const r = await runCli(runArgs(out, '--config', config));
  expect(r.signal, r.stderr).toBeNull();
  expect([0, 2], r.stderr).toContain(r.code);
  const latest = readLatest(out);
  expect(latest?.problems).toEqual([]);
  const dir = join(out, 'runs', latest!.runId);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  for (const t of manifest.timings as { stage: string; seconds: number }[]) {
    stageOrder.push(t.stage);
    stageSeconds.set(t.stage, t.seconds);
  }
  const largestFile = Math.max(...listFiles(dir).map((f) => readFileSync(join(dir, f)).length));
  reference = { dir, manifest, exitCode: r.code!, largestFile };
});

afterAll(() => {
  console.log(
    `fault injection: ${tally.injected} faults injected, ${tally.survived} survived ` +
      `(${tally.crash} crash points, ${tally.timed} timed kills with seed ${SEED}, ` +
      `${tally.environment} environment faults; ${tally.reruns} reruns matched the reference` +
      (normalised.size
        ? `; run id masked in ${normalised.size} files: ${[...new Set([...normalised].map((f) => f.split('/').pop()))].sort().join(', ')}`
        : '') +
      ')',
  );
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * What a file says, comparable across runs, with the run id masked (READMEs, the metadata
 * table and the dashboard feeds name their run). The bytes are compared first; tables in
 * parquet or DuckDB files whose bytes still differ are compared by content, since those
 * writers compress and lay out blocks in their own way. Anything else that differs fails.
 */
function masked(data: Buffer | string, runId: string): string {
  if (typeof data === 'string') return sha256(Buffer.from(data.split(runId).join('<run-id>')));
  // latin1 maps every byte to one character and back, so masking never merges two files.
  return sha256(Buffer.from(data.toString('latin1').split(runId).join('<run-id>'), 'latin1'));
}

async function sameOutput(
  a: { dir: string; runId: string },
  b: { dir: string; runId: string },
  file: string,
): Promise<boolean> {
  const [pa, pb] = [join(a.dir, file), join(b.dir, file)];
  let [ba, bb] = [readFileSync(pa), readFileSync(pb)];
  if (file.endsWith('.gz')) [ba, bb] = [gunzipSync(ba), gunzipSync(bb)];
  if (masked(ba, a.runId) === masked(bb, b.runId)) return true;
  if (!TABLE_FILE.test(file)) return false;
  return masked(await tableText(pa), a.runId) === masked(await tableText(pb), b.runId);
}

async function expectSameAsReference(
  dir: string,
  runId: string,
  opts: { resourcesDiffer?: boolean } = {},
): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  expect(Object.keys(manifest.outputs).sort()).toEqual(Object.keys(reference.manifest.outputs).sort());
  const differing: string[] = [];
  const ref = { dir: reference.dir, runId: reference.manifest.run_id };
  for (const [file, hash] of Object.entries(manifest.outputs)) {
    if (hash === reference.manifest.outputs[file]) continue;
    if (await sameOutput({ dir, runId }, ref, file)) normalised.add(file);
    else differing.push(file);
  }
  expect(differing, 'outputs that differ from the clean run').toEqual([]);
  // The manifest itself is not in `outputs`: it holds the run id, its start time and stage
  // timings. Everything else in it (counts, models, data quality, inputs) must match.
  const strip = (m: Manifest) => {
    const { run_id: _r, started_at: _s, timings: _t, outputs: _o, ...rest } = m;
    if (!opts.resourcesDiffer) return rest;
    // Where and in how much memory the run worked is configuration, not a result.
    const configuration = rest.configuration as { resources?: unknown };
    return { ...rest, configuration: { ...configuration, resources: null } };
  };
  expect(strip(manifest)).toEqual(strip(reference.manifest));
  // Byte for byte too: the same delivery must give the same manifest, keys in the same order.
  expect(JSON.stringify(strip(manifest))).toBe(JSON.stringify(strip(reference.manifest)));
}

/** Every folder under runs/ is a complete run: nothing half-made is ever renamed into place. */
function expectRunsComplete(out: string): void {
  const runs = existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')) : [];
  for (const run of runs) expect(runProblems(join(out, 'runs', run), run), `runs/${run}`).toEqual([]);
}

function expectClearError(r: CliResult, reason: RegExp): void {
  expect(r.signal, r.stderr).toBeNull();
  expect(r.code, r.stderr).toBe(70);
  const lines = messages(r.stderr);
  expect(lines[0], r.stderr).toMatch(/^strata: /);
  expect(lines.join('\n')).toMatch(reason);
  // A stack trace is for --debug only.
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

const lastStageDone = (r: CliResult) =>
  r.logs
    .filter((l) => l.msg === 'stage done')
    .map((l) => l.stage as string)
    .pop();

async function lane(index: number, steps: Step[]): Promise<void> {
  const out = join(tmp, `lane-${index}`);
  const rand = mulberry32(SEED + index);
  let latest: string | null = null;

  for (const step of steps) {
    const label = `lane ${index}: ${step.kind === 'crash' ? step.point : step.kind === 'timed' ? `kill in ${step.stage}` : step.kind}`;
    if (step.kind === 'rerun') {
      const r = await runCli(runArgs(out, '--config', config));
      expect(r.signal, `${label}\n${r.stderr}`).toBeNull();
      expect(r.code, `${label}\n${r.stderr}`).toBe(reference.exitCode);
      const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
      const seen = readLatest(out);
      expect(seen?.runId, label).toBe(runId);
      expect(seen?.problems, label).toEqual([]);
      expect(leftovers(out), label).toEqual([]);
      expectRunsComplete(out);
      await expectSameAsReference(join(out, 'runs', runId), runId);
      latest = runId;
      tally.reruns++;
      continue;
    }

    tally.injected++;
    let r: CliResult;
    if (step.kind === 'crash') {
      tally.crash++;
      r = await runCli(runArgs(out, '--config', config), { env: { STRATA_CRASH_AT: step.point } });
      // Proves the crash point exists and fired: an unknown name would let the run finish.
      expect(r.signal, `${label}\n${r.stderr}`).toBe('SIGKILL');
      // The publish points sit inside the publish stage, after outputs.
      const stage = PUBLISH_POINTS.includes(step.point) ? 'outputs' : step.point.slice('after-'.length);
      expect(lastStageDone(r)?.replace(/\s+/g, '-'), label).toBe(stage);
      if (step.point === 'after-latest')
        latest = r.logs.find((l) => l.msg === 'run started')!.run_id as string;
    } else if (step.kind === 'timed') {
      tally.timed++;
      const before = stageOrder[stageOrder.indexOf(step.stage) - 1]!;
      const child = startCli(runArgs(out, '--config', config));
      await child.waitForLog((l) => l.msg === 'stage done' && l.stage === before);
      // At most half the stage's duration in the clean run: with two lanes sharing the machine
      // the stage is rarely faster than that, so the kill lands inside it.
      const delay = stageSeconds.get(step.stage)! * 1000 * (0.1 + 0.4 * rand());
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.child.kill('SIGKILL');
      r = await child.done;
      expect(r.signal, `${label}\n${r.stderr}`).toBe('SIGKILL');
      expect(lastStageDone(r), `${label}: killed ${Math.round(delay)} ms into the stage`).toBe(before);
    } else if (step.kind === 'disk-full') {
      tally.environment++;
      // The file size limit makes every write past it fail (EFBIG) as a full disk would (Node
      // ignores SIGXFSZ); it binds root too, needs no mount and works in containers.
      const limit = Math.floor(reference.largestFile / 2);
      r = await runCli(runArgs(out, '--config', config), { wrap: ['prlimit', `--fsize=${limit}`, '--'] });
      expectClearError(r, /too large|no space/i);
    } else {
      tally.environment++;
      // chmod does not stop root, which bypasses permission bits through CAP_DAC_OVERRIDE; the
      // run is made with those capabilities dropped, so the bits bind it as they would anyone.
      const runs = join(out, 'runs');
      chmodSync(runs, 0o555);
      try {
        const wrap =
          process.getuid?.() === 0
            ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--']
            : [];
        r = await runCli(runArgs(out, '--config', config), { wrap });
      } finally {
        chmodSync(runs, 0o700);
      }
      expectClearError(r, /permission denied/i);
      expect(messages(r.stderr)[0]).toContain(runs);
      expect(messages(r.stderr)[0]).toContain(`latest is still run ${latest}`);
    }

    const seen = readLatest(out);
    if (latest === null) expect(seen, `${label}: nothing was published yet`).toBeNull();
    else {
      expect(seen?.runId, label).toBe(latest);
      expect(seen?.problems, label).toEqual([]);
    }
    expectRunsComplete(out);
    tally.survived++;
  }
}

describe('fault injection on the sample delivery', () => {
  it('covers every crash point', () => {
    const planned = LANES.flat().flatMap((s) => (s.kind === 'crash' ? [s.point] : []));
    expect(planned.sort()).toEqual([...CRASH_POINTS].sort());
    expect(stageOrder.map((s) => `after-${s.replace(/\s+/g, '-')}`)).toEqual(
      expect.arrayContaining(CRASH_POINTS.filter((p) => !PUBLISH_POINTS.includes(p))),
    );
  });

  it('publishes the same outputs with its working tables in a file under a small memory limit', async () => {
    const fileConfig = join(tmp, 'file-config.json');
    writeFileSync(
      fileConfig,
      JSON.stringify({ resources: { threads: 1, workDatabase: 'file', memoryLimit: '100MB' } }),
    );
    const out = join(tmp, 'file-work');
    const r = await runCli(runArgs(out, '--config', fileConfig));
    expect(r.code, r.stderr).toBe(reference.exitCode);
    const latest = readLatest(out)!;
    await expectSameAsReference(join(out, 'runs', latest.runId), latest.runId, { resourcesDiffer: true });
    // The working database lives under OUT/.work only while the run does.
    expect(readdirSync(join(out, '.work'))).toEqual([]);
  }, 120_000);

  it.concurrent.each(LANES.map((steps, i) => [i + 1, steps] as const))(
    'lane %i: latest survives every fault and reruns publish the clean run',
    async (index, steps) => {
      await lane(index, steps);
    },
    300_000,
  );
});
