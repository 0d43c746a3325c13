// `npm run bench -- --scale S`: how fast strata is at LLR scale, as ratios measured in the
// same process run (shared machines are noisy; ratios travel better than seconds):
//   floor  a bare DuckDB read_csv of every delivery file, explicit types, into memory;
//   run    the whole `strata run`, end to end, in a child process (peak memory from it);
//   peer   the same ingest and multimorbidity + frailty cohorts on PostgreSQL 15.
// Each of floor and run is repeated (median); the peer runs once (it is slow).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance, listValue, quotedIdentifier, quotedString } from '@duckdb/node-api';
import { defaultConfig } from '../src/config.ts';
import { csvFiles, type FileContract } from '../src/contract.ts';
import { openWorkDb } from '../src/db.ts';
import { ingest } from '../src/ingest.ts';
import { silentLogger } from '../src/log.ts';
import { projectPath } from '../src/paths.ts';
import { cachedDelivery } from './deliveries.ts';
import { postgresAvailable, runPostgresPeer } from './peer/postgres.ts';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    seed: { type: 'string', default: '7' },
    repeat: { type: 'string', default: '3' },
    'memory-limit': { type: 'string' },
    'work-database': { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    'no-ingest-modes': { type: 'boolean', default: false },
  },
});
const scale = Number(values.scale);
const seed = Number(values.seed);
const repeat = Number(values.repeat);
const root = projectPath('bench');
const delivery = cachedDelivery(scale, seed);
const work = join(root, 'work');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const strata = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [projectPath('bin', 'strata.mjs'), ...args], {
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });

function deliveryFiles(dir: string, contract: FileContract): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (
        name.replace(/\.gz$/, '') === contract.path.split('/').pop() ||
        (contract.name === 'activity' && p.includes('/secondary-care/'))
      )
        out.push(p);
    }
  };
  walk(
    contract.perPractice
      ? join(dir, 'practices')
      : contract.name === 'activity'
        ? join(dir, 'secondary-care')
        : join(dir, 'reference'),
  );
  return out.sort();
}

/** The least any pipeline must do: parse every file with its declared types into memory. */
async function floor(): Promise<{ seconds: number; rows: number }> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(availableParallelism()) });
  const conn = await instance.connect();
  const started = performance.now();
  let rows = 0;
  for (const contract of csvFiles) {
    const files = deliveryFiles(delivery, contract);
    const columns = Object.entries(contract.columns)
      .map(([n, c]) => `${quotedString(n)}: ${quotedString(c.sqlType)}`)
      .join(', ');
    await conn.run(
      `create table ${quotedIdentifier(`floor_${contract.name}`)} as select * from read_csv($files, columns = {${columns}},
        header = true, delim = ',', quote = '"', escape = '"', auto_detect = false, ignore_errors = true, dateformat = '%Y-%m-%d')`,
      { files: listValue(files) },
    );
    const r = await conn.runAndReadAll(`select count(*) from ${quotedIdentifier(`floor_${contract.name}`)}`);
    rows += Number(r.getRows()[0]![0]);
    // Each kind's table goes once counted: at five times LLR all of them at once would not fit.
    await conn.run(`drop table ${quotedIdentifier(`floor_${contract.name}`)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  conn.closeSync();
  instance.closeSync();
  return { seconds, rows };
}

/** The ingest stage alone, in one mode: the issue asks for set-based and file-by-file loading to be compared. */
async function ingestOnly(mode: 'set' | 'per-file'): Promise<number> {
  const dir = join(work, `ingest-${mode}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const instance = await openWorkDb({
    allowedDirectories: [delivery, dir],
    tempDirectory: dir,
    memoryLimit: '4GB',
    threads: availableParallelism(),
  });
  const started = performance.now();
  await ingest(instance, delivery, silentLogger, { concurrency: 4, mode });
  const seconds = (performance.now() - started) / 1000;
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
  return seconds;
}

interface RunResult {
  seconds: number;
  peak_rss_mb: number;
  stages: { stage: string; seconds: number }[];
}

async function fullRun(out: string, config: string | null): Promise<RunResult> {
  rmSync(out, { recursive: true, force: true });
  const started = performance.now();
  const args = ['run', '--delivery', delivery, '--out', out, '--json', '--keep', '1'];
  if (config) args.push('--config', config);
  const r = await strata(args);
  const seconds = (performance.now() - started) / 1000;
  if (r.code !== 0 && r.code !== 2)
    throw new Error(`strata run failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
  return { seconds, peak_rss_mb: summary.peak_rss_mb, stages: summary.timings };
}

async function main() {
  mkdirSync(work, { recursive: true });
  if (!existsSync(join(delivery, 'delivery.json'))) {
    console.error(`generating the scale ${scale} delivery (cached in ${delivery}) ...`);
    const started = performance.now();
    const r = await strata(['synth', '--scale', String(scale), '--seed', String(seed), '--out', delivery]);
    if (r.code !== 0) throw new Error(r.stderr);
    console.error(`  ${r.stdout.trim()} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  let config: string | null = null;
  if (values['memory-limit'] || values['work-database']) {
    config = join(work, 'bench-config.json');
    const resources = {
      ...(values['memory-limit'] ? { memoryLimit: values['memory-limit'] } : {}),
      ...(values['work-database'] ? { workDatabase: values['work-database'] } : {}),
    };
    writeFileSync(config, JSON.stringify({ resources }));
  }

  const ingestModes = { set: [] as number[], 'per-file': [] as number[] };
  // The two ways of loading, compared (the ingest issue asks for both to be measured).
  if (!values['no-ingest-modes'])
    for (let i = 0; i < repeat; i++)
      for (const mode of ['set', 'per-file'] as const) ingestModes[mode].push(await ingestOnly(mode));
  if (ingestModes.set.length)
    console.error(
      `  ingest alone: set-based ${median(ingestModes.set).toFixed(1)} s, file by file ${median(ingestModes['per-file']).toFixed(1)} s`,
    );

  // Every measurement reads the files from the page cache: the first would otherwise also
  // measure the disk.
  for (const contract of csvFiles) for (const f of deliveryFiles(delivery, contract)) readFileSync(f);

  const floors: { seconds: number; rows: number }[] = [];
  const runs: RunResult[] = [];
  for (let i = 0; i < repeat; i++) {
    floors.push(await floor());
    runs.push(await fullRun(join(work, 'out'), config));
    console.error(
      `  repetition ${i + 1}: floor ${floors.at(-1)!.seconds.toFixed(1)} s, run ${runs.at(-1)!.seconds.toFixed(1)} s`,
    );
  }
  const floorS = median(floors.map((f) => f.seconds));
  const rows = floors[0]!.rows;
  const runS = median(runs.map((r) => r.seconds));
  const stageNames = runs[0]!.stages.map((s) => s.stage);
  const stages = stageNames.map((stage) => ({
    stage,
    seconds: median(runs.map((r) => r.stages.find((s) => s.stage === stage)?.seconds ?? 0)),
    // Every repetition too: on a shared machine one slow run is common, and the spread says so.
    each: runs.map((r) => round(r.stages.find((s) => s.stage === stage)?.seconds ?? 0)),
  }));
  const peakRss = Math.max(...runs.map((r) => r.peak_rss_mb));

  let peer: Awaited<ReturnType<typeof runPostgresPeer>> | null = null;
  let peerNote = '';
  if (values['no-peer']) peerNote = 'peer skipped (--no-peer)';
  else if (!(await postgresAvailable()))
    peerNote = 'peer skipped: PostgreSQL 15 binaries not found (initdb, pg_ctl, postgres)';
  else {
    console.error('  running the PostgreSQL peer (once) ...');
    const asOf = JSON.parse(execFileSync('cat', [join(delivery, 'delivery.json')], { encoding: 'utf8' }))
      .extract_date as string;
    peer = await runPostgresPeer({ delivery, asOf, workDir: work });
  }
  // Like for like with the peer: ingest + staging + conditions + frailty.
  const cohortWork = stages
    .filter((s) => ['ingest', 'registrations', 'staging', 'conditions', 'frailty'].includes(s.stage))
    .reduce((a, s) => a + s.seconds, 0);

  const result = {
    date: new Date().toISOString(),
    scale,
    seed,
    repetitions: repeat,
    machine: { cores: availableParallelism(), node: process.version },
    memory_limit: values['memory-limit'] ?? `${defaultConfig.resources.memoryLimit} (default)`,
    work_database: values['work-database'] ?? `${defaultConfig.resources.workDatabase} (default)`,
    input_rows: rows,
    floor_s: round(floorS),
    floor_each_s: floors.map((f) => round(f.seconds)),
    run_s: round(runS),
    run_each_s: runs.map((r) => round(r.seconds)),
    run_to_floor: round(runS / floorS),
    peer_s: peer ? round(peer.total_s) : null,
    peer_ingest_s: peer ? round(peer.ingest_s) : null,
    peer_cohorts_s: peer ? round(peer.cohorts_s) : null,
    strata_cohort_work_s: round(cohortWork),
    peer_to_strata: peer ? round(peer.total_s / cohortWork) : null,
    peer_counts: peer?.counts ?? null,
    peer_note: peerNote || null,
    peak_rss_mb: peakRss,
    ingest_set_s: ingestModes.set.length ? round(median(ingestModes.set)) : null,
    ingest_per_file_s: ingestModes.set.length ? round(median(ingestModes['per-file'])) : null,
    stages: stages.map((s) => ({ ...s, to_floor: round(s.seconds / floorS) })),
  };
  mkdirSync(join(root, 'results'), { recursive: true });
  // A run with a non-default work database or memory limit, or without the peer, is kept
  // beside the default one.
  const variant = [
    values['work-database'] ? `-${values['work-database']}` : '',
    values['memory-limit'] ? `-${values['memory-limit']}` : '',
    values['no-peer'] ? '-no-peer' : '',
  ].join('');
  const file = join(root, 'results', `${result.date.slice(0, 10)}-${scale}${variant}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');

  const lines = [
    `strata benchmark: scale ${scale} (${rows.toLocaleString('en-GB')} input rows), ${repeat} repetitions, median`,
    '',
    `| stage | seconds | ratio to floor | rows/s |`,
    `| --- | ---: | ---: | ---: |`,
    `| floor (bare read_csv) | ${floorS.toFixed(1)} | 1.00 | ${fmt(rows / floorS)} |`,
    ...stages.map(
      (s) =>
        `| ${s.stage} | ${s.seconds.toFixed(1)} | ${(s.seconds / floorS).toFixed(2)} | ${s.seconds >= 0.05 ? fmt(rows / s.seconds) : ''} |`,
    ),
    `| **whole run** | **${runS.toFixed(1)}** | **${(runS / floorS).toFixed(2)}** | ${fmt(rows / runS)} |`,
    '',
    `peak memory of the run: ${peakRss} MB`,
    ingestModes.set.length
      ? `ingest alone: one set-based statement per kind ${median(ingestModes.set).toFixed(1)} s; file by file on ${4} connections ${median(ingestModes['per-file']).toFixed(1)} s`
      : 'ingest modes not compared (--no-ingest-modes)',
    peer
      ? `PostgreSQL 15 peer, ingest + multimorbidity and frailty cohorts: ${peer.total_s.toFixed(1)} s (ingest ${peer.ingest_s.toFixed(1)}, cohorts ${peer.cohorts_s.toFixed(1)}) vs strata's same stages ${cohortWork.toFixed(1)} s: ${(peer.total_s / cohortWork).toFixed(1)}x faster`
      : peerNote,
    '',
    `written to ${file}`,
  ];
  console.log(lines.join('\n'));
}

function round(x: number) {
  return Math.round(x * 100) / 100;
}
function fmt(x: number) {
  return Math.round(x).toLocaleString('en-GB');
}

await main();
