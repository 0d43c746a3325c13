// Fault injection: the CLI is killed at every crash point the code holds (found by reading
// the sources), at seeded random moments inside the long stages, and run against a full disk
// and a read-only output folder. After every fault OUT/latest must still be a complete run
// (or absent if nothing was ever published) and every as-of date in the history complete; the
// next ordinary run must succeed, publish exactly what a clean run publishes and leave no
// temporary files behind.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
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
  runArgsFor,
  runCli,
  runProblems,
  sha256,
  smallDelivery,
  startCli,
  TABLE_FILE,
  tableText,
  type CliResult,
  type Manifest,
} from './support/cli.ts';
import { stages } from '../pipeline/stages.ts';
import { projectPath } from '../src/paths.ts';
import { afterStagePoint } from '../src/stage.ts';
import { mulberry32 } from '../src/synth/random.ts';

// Printed in the summary so that a failing timed kill can be replayed exactly.
const SEED = Number(process.env.STRATA_FAULT_SEED ?? 20260331);

type Fault =
  | { kind: 'crash'; point: string }
  | { kind: 'timed'; stage: string }
  | { kind: 'disk-full' }
  | { kind: 'read-only' };
type Step = Fault | { kind: 'rerun' };

/** The argument of every `crashPoint(...)` call in `text`, as written (balanced parentheses). */
function crashPointArguments(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?<!function )\bcrashPoint\(/g)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const from = i;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')') depth--;
    }
    found.push(text.slice(from, i - 1).trim());
  }
  return found;
}

// The one computed name: the point after each stage of the pipeline, named from the stage list.
const AFTER_EACH_STAGE = 'afterStagePoint(stage)';
const afterStage = (name: string) => afterStagePoint({ name });

/**
 * Every crash point the code holds, found by reading the sources, so a point added without
 * being exercised here fails this test. A call whose name this cannot work out is reported,
 * not skipped.
 */
function crashPointsInCode(): { points: string[]; unreadable: string[] } {
  const points = new Set<string>();
  const unreadable: string[] = [];
  for (const root of ['src', 'pipeline'])
    for (const file of listFiles(projectPath(root)).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(projectPath(root, file), 'utf8');
      for (const arg of crashPointArguments(text)) {
        if (/^'[^'\\]+'$/.test(arg)) points.add(arg.slice(1, -1));
        else if (arg === AFTER_EACH_STAGE) for (const s of stages) points.add(afterStage(s.name));
        else unreadable.push(`${root}/${file}: crashPoint(${arg})`);
      }
    }
  return { points: [...points].sort(), unreadable };
}

const CODE = crashPointsInCode();
const STAGES = stages.map((s) => s.name);
/** The stage that switches OUT/latest. */
const PUBLISH = 'publish';

// Every crash point once, two timed kills inside the longest stages and two faults of the
// environment, dealt alternately into two lanes (two output folders run side by side to
// halve the wall time). Each lane starts empty, so its first crash comes before anything was
// ever published. Faults follow one another, each run starting over what the last one left,
// and every fifth (and the last) is followed by an ordinary run, which must clear all of it and publish
// exactly the clean run.
const FAULTS: Fault[] = [
  ...CODE.points.map((point) => ({ kind: 'crash', point }) as const),
  { kind: 'timed', stage: 'cost model' },
  { kind: 'timed', stage: 'commissioner summaries' },
  { kind: 'disk-full' },
  { kind: 'read-only' },
];
const FAULTS_PER_RERUN = 5;
const LANES: Step[][] = [0, 1].map((lane) => {
  const steps: Step[] = [];
  const mine = FAULTS.filter((_, i) => i % 2 === lane);
  mine.forEach((fault, i) => {
    steps.push(fault);
    if ((i + 1) % FAULTS_PER_RERUN === 0 || i === mine.length - 1) steps.push({ kind: 'rerun' });
  });
  return steps;
});

let tmp: string;
let delivery: string;
let config: string;
let reference: { dir: string; manifest: Manifest; exitCode: number; largestFile: number };
/**
 * A clean run over the reference, in the same folder: a rerun after something was published
 * compares its practice lists with the run before it, and must match this one.
 */
let referenceAfter: { dir: string; manifest: Manifest; compared: string };
const stageOrder: string[] = [];
const stageSeconds = new Map<string, number>();
const tally = { injected: 0, survived: 0, crash: 0, timed: 0, environment: 0, reruns: 0 };
const normalised = new Set<string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-faults-'));
  delivery = await smallDelivery(join(tmp, 'delivery'));
  // Multi-threaded DuckDB sums doubles in varying order, which can move a rounded cost by one
  // pound between otherwise identical runs; one thread keeps reruns comparable byte for byte.
  config = join(tmp, 'config.json');
  writeFileSync(config, JSON.stringify({ resources: { threads: 1 } }));
  const out = join(tmp, 'reference');
  const r = await runCli(runArgsFor(delivery, out, '--config', config));
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
  const again = await runCli(runArgsFor(delivery, out, '--config', config));
  expect(again.code, again.stderr).toBe(r.code);
  const after = readLatest(out)!;
  const afterDir = join(out, 'runs', after.runId);
  referenceAfter = {
    dir: afterDir,
    manifest: JSON.parse(readFileSync(join(afterDir, 'manifest.json'), 'utf8')) as Manifest,
    compared: latest!.runId,
  };
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
/** A run's own id, and the id of the run its practice lists were compared with (if any). */
interface RunIds {
  runId: string;
  compared?: string | undefined;
}

function maskText(text: string, ids: RunIds): string {
  const own = text.split(ids.runId).join('<run-id>');
  return ids.compared ? own.split(ids.compared).join('<compared-run>') : own;
}

function masked(data: Buffer | string, ids: RunIds): string {
  if (typeof data === 'string') return sha256(Buffer.from(maskText(data, ids)));
  // latin1 maps every byte to one character and back, so masking never merges two files.
  return sha256(Buffer.from(maskText(data.toString('latin1'), ids), 'latin1'));
}

async function sameOutput(
  a: { dir: string } & RunIds,
  b: { dir: string } & RunIds,
  file: string,
): Promise<boolean> {
  const [pa, pb] = [join(a.dir, file), join(b.dir, file)];
  let [ba, bb] = [readFileSync(pa), readFileSync(pb)];
  if (file.endsWith('.gz')) [ba, bb] = [gunzipSync(ba), gunzipSync(bb)];
  if (masked(ba, a) === masked(bb, b)) return true;
  if (!TABLE_FILE.test(file)) return false;
  return masked(await tableText(pa), a) === masked(await tableText(pb), b);
}

/**
 * Compares a run with the clean run made in the same circumstances: with nothing published
 * before it (the reference), or after a run of the same delivery (referenceAfter, whose
 * practice lists were compared with that run's, as this one's were with `compared`).
 */
async function expectSameAsReference(
  dir: string,
  runId: string,
  opts: { resourcesDiffer?: boolean; compared?: string | null } = {},
): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const clean = opts.compared
    ? { ...referenceAfter, runId: referenceAfter.manifest.run_id }
    : { ...reference, runId: reference.manifest.run_id, compared: undefined };
  const own = { dir, runId, compared: opts.compared ?? undefined };
  expect(Object.keys(manifest.outputs).sort()).toEqual(Object.keys(clean.manifest.outputs).sort());
  const differing: string[] = [];
  for (const [file, hash] of Object.entries(manifest.outputs)) {
    if (hash === clean.manifest.outputs[file]) continue;
    if (await sameOutput(own, clean, file)) normalised.add(file);
    else differing.push(file);
  }
  expect(differing, 'outputs that differ from the clean run').toEqual([]);
  // The manifest itself is not in `outputs`: it holds the run id, its start time and stage
  // timings. Everything else in it (counts, models, data quality, inputs) must match, the
  // compared run's id masked as in the files.
  const strip = (m: Manifest, ids: RunIds) => {
    const {
      run_id: _r,
      started_at: _s,
      timings: _t,
      outputs: _o,
      ...masked
    } = JSON.parse(maskText(JSON.stringify(m), ids)) as Manifest;
    if (!opts.resourcesDiffer) return masked;
    // Where and in how much memory the run worked is configuration, not a result.
    const configuration = masked.configuration as { resources?: unknown };
    return { ...masked, configuration: { ...configuration, resources: null } };
  };
  expect(strip(manifest, own)).toEqual(strip(clean.manifest, clean));
  // Byte for byte too: the same delivery must give the same manifest, keys in the same order.
  expect(JSON.stringify(strip(manifest, own))).toBe(JSON.stringify(strip(clean.manifest, clean)));
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

/**
 * Every as-of date in OUT/history is a complete partition (a link to a folder holding every
 * dashboard feed). After an ordinary run, its as-of date is that run's partition and no
 * partition is left that no link points at.
 */
function expectHistoryComplete(out: string, rerun?: string): void {
  const history = join(out, 'history');
  if (!existsSync(history)) return;
  const feeds = readdirSync(join(reference.dir, 'dashboard')).filter((f) => f.endsWith('.parquet'));
  const links = readdirSync(history).filter((n) => n.startsWith('as_of='));
  for (const link of links)
    expect(readdirSync(join(history, link)), link).toEqual(expect.arrayContaining(feeds));
  if (!rerun) return;
  const targets = links.map((l) => readlinkSync(join(history, l)).split('/').pop());
  expect(
    targets.some((t) => t?.endsWith(`.${rerun}`)),
    'the rerun is in the history',
  ).toBe(true);
  expect(readdirSync(join(history, '.partitions')).sort()).toEqual([...targets].sort());
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
      const r = await runCli(runArgsFor(delivery, out, '--config', config));
      expect(r.signal, `${label}\n${r.stderr}`).toBeNull();
      expect(r.code, `${label}\n${r.stderr}`).toBe(reference.exitCode);
      const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
      const seen = readLatest(out);
      expect(seen?.runId, label).toBe(runId);
      expect(seen?.problems, label).toEqual([]);
      expect(leftovers(out), label).toEqual([]);
      expectRunsComplete(out);
      expectHistoryComplete(out, runId);
      await expectSameAsReference(join(out, 'runs', runId), runId, { compared: latest });
      latest = runId;
      tally.reruns++;
      continue;
    }

    tally.injected++;
    let r: CliResult;
    if (step.kind === 'crash') {
      tally.crash++;
      r = await runCli(runArgsFor(delivery, out, '--config', config), {
        env: { STRATA_CRASH_AT: step.point },
      });
      // Proves the crash point exists and fired: an unknown name would let the run finish.
      expect(r.signal, `${label}\n${r.stderr}`).toBe('SIGKILL');
      const done = lastStageDone(r);
      const afterStageName = STAGES.find((s) => afterStage(s) === step.point);
      // A point after a stage fires right after that stage; any other fires inside a stage.
      if (afterStageName) expect(done, label).toBe(afterStageName);
      const firedIn = afterStageName ? null : STAGES[done ? STAGES.indexOf(done) + 1 : 0];
      if (!afterStageName) expect(firedIn, `${label}: fired after the last stage`).toBeDefined();
      // Until the publish stage, latest cannot have moved; from it on, it is the old run or
      // this one, and complete either way (checked below).
      const crashed = r.logs.find((l) => l.msg === 'run started')!.run_id as string;
      const seen = readLatest(out)?.runId ?? null;
      const publishing = STAGES.indexOf(firedIn ?? afterStageName!) >= STAGES.indexOf(PUBLISH);
      expect(publishing ? [latest, crashed] : [latest], label).toContain(seen);
      if (afterStageName === PUBLISH) expect(seen, label).toBe(crashed);
      latest = seen;
    } else if (step.kind === 'timed') {
      tally.timed++;
      const before = stageOrder[stageOrder.indexOf(step.stage) - 1]!;
      const child = startCli(runArgsFor(delivery, out, '--config', config));
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
      r = await runCli(runArgsFor(delivery, out, '--config', config), {
        wrap: ['prlimit', `--fsize=${limit}`, '--'],
      });
      expectClearError(r, /too large|no space/i);
    } else {
      tally.environment++;
      // chmod does not stop root, which bypasses permission bits through CAP_DAC_OVERRIDE; the
      // run is made with those capabilities dropped, so the bits bind it as they would anyone.
      const runs = join(out, 'runs');
      mkdirSync(runs, { recursive: true, mode: 0o700 });
      chmodSync(runs, 0o555);
      try {
        const wrap =
          process.getuid?.() === 0
            ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search,-fowner', '--']
            : [];
        r = await runCli(runArgsFor(delivery, out, '--config', config), { wrap });
      } finally {
        chmodSync(runs, 0o700);
      }
      expectClearError(r, /permission denied/i);
      expect(messages(r.stderr)[0]).toContain(runs);
      if (latest) expect(messages(r.stderr)[0]).toContain(`latest is still run ${latest}`);
    }

    const seen = readLatest(out);
    if (latest === null) expect(seen, `${label}: nothing was published yet`).toBeNull();
    else {
      expect(seen?.runId, label).toBe(latest);
      expect(seen?.problems, label).toEqual([]);
    }
    expectRunsComplete(out);
    expectHistoryComplete(out);
    tally.survived++;
  }
}

describe('fault injection on a small synthetic delivery', () => {
  it('exercises every crash point in the code', () => {
    expect(CODE.unreadable, 'crashPoint calls whose point this test cannot name').toEqual([]);
    expect(CODE.points).toEqual(expect.arrayContaining(STAGES.map(afterStage)));
    const planned = LANES.flat().flatMap((s) => (s.kind === 'crash' ? [s.point] : []));
    expect(planned.sort()).toEqual(CODE.points);
    expect(STAGES).toContain(PUBLISH);
  });

  it('publishes the same outputs with its working tables in a file under a small memory limit', async () => {
    const fileConfig = join(tmp, 'file-config.json');
    writeFileSync(
      fileConfig,
      JSON.stringify({ resources: { threads: 1, workDatabase: 'file', memoryLimit: '100MB' } }),
    );
    const out = join(tmp, 'file-work');
    const r = await runCli(runArgsFor(delivery, out, '--config', fileConfig));
    expect(r.code, r.stderr).toBe(reference.exitCode);
    const latest = readLatest(out)!;
    await expectSameAsReference(join(out, 'runs', latest.runId), latest.runId, { resourcesDiffer: true });
    // The working database lives under OUT/.work only while the run does.
    expect(readdirSync(join(out, '.work'))).toEqual([]);
  }, 300_000);

  it.concurrent.each(LANES.map((steps, i) => [i + 1, steps] as const))(
    'lane %i: latest survives every fault and reruns publish the clean run',
    async (index, steps) => {
      await lane(index, steps);
    },
    1_200_000,
  );
});
