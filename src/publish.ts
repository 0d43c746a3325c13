// Publishing: a run is written into OUT/.staging/<run-id>, checked, renamed into
// OUT/runs/<run-id> and only then is OUT/latest switched to it, by renaming a new
// symbolic link over the old one (one atomic step). A crash at any point leaves the
// previous latest whole; the next run clears what the crashed one left.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { IntegrityError, LockedError } from './errors.ts';
import type { RunContext } from './stage.ts';

export const LAYOUT = {
  runs: 'runs',
  latest: 'latest',
  staging: '.staging',
  work: '.work',
  lock: '.lock',
} as const;

/** Files and folders created by strata are for its owner only: they may hold patient data. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export function ensureDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
}

/** Writes a file (owner-only) and flushes it to disk. */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w', FILE_MODE);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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

/** One run per output folder. A lock left by a process that no longer exists is taken over. */
export function acquireLock(outDir: string, runId: string): Lock {
  ensureDir(outDir);
  const path = join(outDir, LAYOUT.lock);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', FILE_MODE);
      writeSync(fd, JSON.stringify({ pid: process.pid, run_id: runId, started: new Date().toISOString() }));
      closeSync(fd);
      return {
        release() {
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
      let holder: { pid?: number; run_id?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        // A lock file being written right now, or torn by a crash: treat as held unless old.
        if (Date.now() - statSync(path).mtimeMs < 10_000)
          throw new LockedError(`another strata run is starting in ${outDir}`);
      }
      if (holder.pid && pidAlive(holder.pid) && holder.pid !== process.pid)
        throw new LockedError(
          `another strata run (${holder.run_id ?? 'unknown'}, process ${holder.pid}) is using ${outDir}; try again when it has finished`,
        );
      unlinkSync(path);
    }
  }
  throw new LockedError(`could not take the lock on ${outDir}`);
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

function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, base));
    else out.push(relative(base, path).split('\\').join('/'));
  }
  return out;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Fault injection for tests: STRATA_CRASH_AT=<point> kills the process there. */
export function crashPoint(point: string): void {
  if (process.env.STRATA_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

export async function publishRun(ctx: RunContext): Promise<void> {
  const files = listFiles(ctx.runDir).filter((f) => f !== 'manifest.json');
  if (!files.length) throw new IntegrityError('the run produced no output files; nothing published');
  const hashes = Object.fromEntries(files.map((f) => [f, sha256File(join(ctx.runDir, f))]));
  ctx.manifest.outputs = hashes;
  ctx.manifest.timings = ctx.timings;
  writeFileDurable(join(ctx.runDir, 'manifest.json'), JSON.stringify(orderedManifest(ctx), null, 2) + '\n');
  crashPoint('before-rename');

  const runsDir = join(ctx.outDir, LAYOUT.runs);
  ensureDir(runsDir);
  const target = join(runsDir, ctx.runId);
  if (existsSync(target)) throw new IntegrityError(`run folder ${ctx.runId} already exists`);
  renameSync(ctx.runDir, target);
  crashPoint('before-latest');

  const tmpLink = join(ctx.outDir, `.latest-${ctx.runId}`);
  symlinkSync(join(LAYOUT.runs, ctx.runId), tmpLink);
  renameSync(tmpLink, join(ctx.outDir, LAYOUT.latest));
  crashPoint('after-latest');
  ctx.runDir = target;
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

function orderedManifest(ctx: RunContext): Record<string, unknown> {
  return {
    run_id: ctx.runId,
    as_of: ctx.asOf,
    software_version: ctx.softwareVersion,
    started_at: ctx.startedAt.toISOString(),
    configuration: ctx.config,
    ...ctx.manifest,
  };
}

export { writeFileSync };
