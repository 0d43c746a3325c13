// Publishing: a run is written into OUT/.staging/<run-id>, checked, renamed into
// OUT/runs/<run-id> and only then is OUT/latest switched to it, by renaming a new
// symbolic link over the old one (one atomic step). A crash at any point leaves the
// previous latest whole; the next run clears what the crashed one left.
import {
  chmodSync,
  closeSync,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CliError, EXIT, IntegrityError, LockedError, storageFailure } from './errors.ts';
import {
  crashPoint,
  DIR_MODE,
  ensureDir,
  FILE_MODE,
  fsyncPath,
  listFiles,
  sha256File,
  writeFileDurable,
} from './files.ts';
import { HISTORY } from './history.ts';
import type { RunContext } from './stage.ts';

export const LAYOUT = {
  runs: 'runs',
  latest: 'latest',
  staging: '.staging',
  work: '.work',
  lock: '.lock',
} as const;

/**
 * The output folder and the folders a run writes or switches (runs, the work and staging
 * folders, history and the run `latest` points to), checked before anything is written.
 */
export function secureOutputFolder(outDir: string, opts: { uid?: number } = {}): void {
  ensureDir(outDir, opts);
  const inside = [
    LAYOUT.runs,
    LAYOUT.staging,
    LAYOUT.work,
    HISTORY.dir,
    join(HISTORY.dir, HISTORY.partitions),
  ];
  for (const name of inside) {
    const path = join(outDir, name);
    if (existsSync(path)) ensureDir(path, opts);
  }
  const latest = join(outDir, LAYOUT.latest);
  if (existsSync(latest)) ensureDir(realpathSync(latest), opts);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  release(): void;
}

/**
 * Locks held by this process. A lock file naming our own pid is normally stale (in a container
 * strata may get the same pid on every start), unless this process really holds it: a second
 * runPipeline in the same process must be refused like a second process.
 */
const heldHere = new Set<string>();

/** One run per output folder. A lock left by a process that no longer exists is taken over. */
export function acquireLock(outDir: string, runId: string): Lock {
  ensureDir(outDir);
  const path = join(outDir, LAYOUT.lock);
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      const fd = openSync(path, 'wx', FILE_MODE);
      writeSync(fd, JSON.stringify({ pid: process.pid, run_id: runId, started: new Date().toISOString() }));
      closeSync(fd);
      heldHere.add(path);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(path);
          try {
            const held = JSON.parse(readFileSync(path, 'utf8')) as { pid: number };
            if (held.pid === process.pid) unlinkSync(path);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const starting = () =>
        new LockedError(`another strata run is starting in ${outDir} (lock file ${path})`);
      let seen: string;
      let holder: { pid?: number; run_id?: string } = {};
      try {
        seen = readFileSync(path, 'utf8');
      } catch (readErr) {
        // Released between our open and this read: try again.
        if ((readErr as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw readErr;
      }
      try {
        holder = JSON.parse(seen);
      } catch {
        // A lock file being written right now, or torn by a crash: treat as held unless old.
        if (!olderThan(path, 10_000)) throw starting();
      }
      const ours = holder.pid === process.pid;
      if (holder.pid && ((ours && heldHere.has(path)) || (!ours && pidAlive(holder.pid))))
        throw new LockedError(
          `another strata run (${holder.run_id ?? 'unknown'}, process ${holder.pid}) holds the lock ${path} on ${outDir}; try again when it has finished`,
        );
      // The holder is gone (killed, or the machine restarted): its lock is stale.
      if (!removeStaleLock(path, seen)) throw starting();
    }
  }
  throw new LockedError(`could not take the lock ${path} on ${outDir}`);
}

function olderThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs >= ms;
  } catch {
    return true;
  }
}

/**
 * Removes a stale lock, unless another process has replaced it since we read it. Two runs that
 * find the same stale lock would otherwise both remove it, and the slower one would remove the
 * fresh lock the faster one had just made: a guard file lets one of them at a time check and
 * remove. False when another process is taking the lock over right now.
 */
function removeStaleLock(path: string, seen: string): boolean {
  const guard = `${path}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A guard left by a process killed while taking over is old; clear it and let the caller retry.
    if (!olderThan(guard, 10_000)) return false;
    rmSync(guard, { force: true });
    return true;
  }
  try {
    let now: string | null = null;
    try {
      now = readFileSync(path, 'utf8');
    } catch {
      // Already removed.
    }
    if (now === seen) unlinkSync(path);
    return true;
  } finally {
    closeSync(fd);
    rmSync(guard, { force: true });
  }
}

/** Removes what an interrupted run left: its staging folder, work files and half-made links. */
export function cleanLeftovers(outDir: string): string[] {
  const removed: string[] = [];
  for (const dir of [LAYOUT.staging, LAYOUT.work]) {
    const path = join(outDir, dir);
    for (const name of existsSync(path) ? readdirSync(path) : []) {
      rmSync(join(path, name), { recursive: true, force: true });
      removed.push(`${dir}/${name}`);
    }
  }
  for (const name of existsSync(outDir) ? readdirSync(outDir) : []) {
    if (name.startsWith('.latest-')) {
      rmSync(join(outDir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

export function latestRunId(outDir: string): string | null {
  try {
    return readlinkSync(join(outDir, LAYOUT.latest)).split('/').pop() ?? null;
  } catch {
    return null;
  }
}

/**
 * A filesystem failure while publishing (permissions, a full or read-only disk). Said in one
 * line a person can act on; the previous latest is untouched because the switch comes last.
 */
export class PublishError extends CliError {
  constructor(message: string, cause: unknown) {
    super(message, EXIT.internal);
    this.cause = cause;
  }
}

function publishStep<T>(what: string, latest: string | null, step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    const reason = storageFailure(err) ?? (err as Error).message;
    throw new PublishError(
      `could not ${what}: ${reason} (${code}); nothing was published` +
        (latest ? `, latest is still run ${latest}` : ''),
      err,
    );
  }
}

/**
 * Only regular files and folders may be published, owner-only whatever the writer (or DuckDB
 * under the process umask) left, and flushed, so that after a power cut the renamed folder
 * never holds files the manifest vouches for but the disk never received.
 */
function sealRunFolder(dir: string): void {
  chmodSync(dir, DIR_MODE);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = lstatSync(path);
    if (st.isDirectory()) sealRunFolder(path);
    else if (st.isFile()) {
      chmodSync(path, FILE_MODE);
      fsyncPath(path);
    } else throw new IntegrityError(`the run folder holds ${entry}, which is not a regular file or folder`);
  }
}

export async function publishRun(ctx: RunContext): Promise<void> {
  const previous = latestRunId(ctx.outDir);
  const runsDir = join(ctx.outDir, LAYOUT.runs);
  const target = join(runsDir, ctx.runId);

  publishStep(`write the run folder ${ctx.runDir}`, previous, () => {
    sealRunFolder(ctx.runDir);
    const files = listFiles(ctx.runDir).filter((f) => f !== 'manifest.json');
    if (!files.length) throw new IntegrityError('the run produced no output files; nothing published');
    const outputs = Object.fromEntries(files.map((f) => [f, sha256File(join(ctx.runDir, f))]));
    writeFileDurable(
      join(ctx.runDir, 'manifest.json'),
      JSON.stringify(runManifest(ctx, outputs), null, 2) + '\n',
    );
    fsyncPath(ctx.runDir);
  });
  crashPoint('before-rename');

  publishStep(`move the run into ${runsDir}`, previous, () => {
    ensureDir(runsDir);
    if (existsSync(target)) throw new IntegrityError(`run folder ${ctx.runId} already exists`);
    renameSync(ctx.runDir, target);
    fsyncPath(runsDir);
  });
  crashPoint('before-latest');

  publishStep(`point ${join(ctx.outDir, LAYOUT.latest)} at the new run`, previous, () => {
    const tmpLink = join(ctx.outDir, `.latest-${ctx.runId}`);
    symlinkSync(join(LAYOUT.runs, ctx.runId), tmpLink);
    renameSync(tmpLink, join(ctx.outDir, LAYOUT.latest));
    fsyncPath(ctx.outDir);
  });
  crashPoint('after-latest');
  ctx.runDir = target;
}

/** The retention stage: the newest runs kept, as many as the run was told to keep. */
export async function retentionStep(ctx: RunContext): Promise<{ retention: { removed: string[] } }> {
  const removed = applyRetention(ctx.outDir, ctx.keepRuns);
  if (removed.length) ctx.log.info('old runs removed', { runs: removed.length });
  return { retention: { removed } };
}

/** Keeps the newest `keep` runs; never the one latest points to. */
export function applyRetention(outDir: string, keep: number): string[] {
  const runsDir = join(outDir, LAYOUT.runs);
  if (!existsSync(runsDir)) return [];
  const latest = latestRunId(outDir);
  const runs = readdirSync(runsDir).sort();
  const removed: string[] = [];
  for (const run of runs.slice(0, Math.max(0, runs.length - keep))) {
    if (run === latest) continue;
    rmSync(join(runsDir, run), { recursive: true, force: true });
    removed.push(run);
  }
  return removed;
}

/**
 * manifest.json, assembled once from the stages' results: what the run was given, what it
 * found at each stage, the hash of every file it published and how long each stage took.
 */
function runManifest(ctx: RunContext, outputs: Record<string, string>): Record<string, unknown> {
  const r = ctx.results;
  const dq = r.dataQuality;
  const commissioner = r.commissioner;
  const section = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    run_id: ctx.runId,
    as_of: ctx.asOf,
    software_version: ctx.softwareVersion,
    started_at: ctx.startedAt.toISOString(),
    configuration: ctx.config,
    ...section(
      'disclosure_below_floors',
      r.disclosureBelowFloors.length ? r.disclosureBelowFloors : undefined,
    ),
    ...section('delivery', r.delivery),
    quarantined: r.quarantined,
    quarantined_files: r.quarantinedFiles,
    ...section('inputs', dq?.inputs),
    ...section(
      'data_quality',
      dq && {
        totals: dq.totals,
        dropped_by_reason: dq.droppedByReason,
        snomed_check_digit_valid_share: dq.snomedCheckDigitValidShare,
        invalid_icd10_codes_removed: dq.invalidIcd10CodesRemoved,
        activity_unit_costed: dq.activityUnitCosted,
        date_ranges: dq.dateRanges,
        practices: dq.practices,
      },
    ),
    ...section('models', r.models?.summary),
    ...section('attrition', r.attrition),
    ...section('counts', r.attrition?.system),
    // What a run found, the same on every run of the same delivery; the audit's time is in the log.
    ...section(
      'commissioner',
      commissioner && {
        tables: commissioner.tables,
        cells: commissioner.cells,
        suppressed: commissioner.suppressed,
        withheld: commissioner.audit.withheld,
        audit: {
          suppressed_by_audit: commissioner.audit.added,
          rounds: commissioner.audit.rounds,
          figures_examined: commissioner.audit.examined,
          certified_in_bulk: commissioner.audit.certifiedInBulk,
          lps: commissioner.audit.lps,
        },
      },
    ),
    ...section('dashboard', r.dashboard),
    ...section(
      'list_changes',
      r.listChanges && {
        compared_with: r.listChanges.comparedWith && {
          run_id: r.listChanges.comparedWith.runId,
          as_of: r.listChanges.comparedWith.asOf,
        },
        predictions_compared: r.listChanges.predictionsCompared,
        counts: r.listChanges.counts,
      },
    ),
    ...section(
      'practice_lists',
      r.practiceLists && { practices: r.practiceLists.practices, patients: r.practiceLists.patients },
    ),
    outputs,
    timings: ctx.timings,
  };
}

export { writeFileSync };
