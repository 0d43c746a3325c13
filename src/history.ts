// History of the dashboard feeds across runs, for trends: OUT/history/as_of=<date>/<feed>.parquet,
// one partition per as-of date, read with hive partitioning. A re-run for the same as-of date
// replaces its partition whole, never adds to it.
//
// Each partition's files live in OUT/history/.partitions/<date>.<run-id>/ and as_of=<date> is
// a symbolic link to them, switched by renaming a new link over the old one, as OUT/latest is.
// A folder cannot be renamed over a non-empty folder, so swapping real folders would leave a
// moment with no partition (or two); the link makes the switch a single step. The hidden
// folder is one level deeper than the partitions, so `history/*/<feed>.parquet` never sees
// files being written there.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { FEEDS } from './feeds.ts';
import { CliError, EXIT } from './errors.ts';
import { crashPoint, DIR_MODE, ensureDir, FILE_MODE, fsyncPath } from './files.ts';
import type { RunContext } from './stage.ts';

export const HISTORY = { dir: 'history', partitions: '.partitions' } as const;

const partitionLink = (asOf: string) => `as_of=${asOf}`;

/** What a history reader passes to read_parquet: every as-of date's copy of one feed. */
export function historyGlob(outDir: string, feed: string): string {
  return join(outDir, HISTORY.dir, '*', `${feed}.parquet`);
}

/** True when at least one partition holds this feed (read_parquet fails on an empty glob). */
export function historyHas(outDir: string, feed: string): boolean {
  const dir = join(outDir, HISTORY.dir);
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some(
    (name) => name.startsWith('as_of=') && existsSync(join(dir, name, `${feed}.parquet`)),
  );
}

/** Partition folders no link points at (left by a crash, or replaced) and half-made links. */
function clearUnreferenced(historyDir: string): void {
  const partitions = join(historyDir, HISTORY.partitions);
  const live = new Set<string>();
  for (const name of readdirSync(historyDir)) {
    const path = join(historyDir, name);
    if (lstatSync(path).isSymbolicLink()) live.add(readlinkSync(path).split('/').pop()!);
  }
  for (const name of readdirSync(partitions))
    if (!live.has(name)) rmSync(join(partitions, name), { recursive: true, force: true });
}

export interface HistoryUpdate {
  asOf: string;
  partition: string;
  feeds: number;
}

/**
 * Copies the published run's feeds into the history, replacing its as-of date's partition.
 * Runs after OUT/latest is switched, under the run's lock, so only one writer is ever here.
 */
export function updateHistory(ctx: Pick<RunContext, 'outDir' | 'runDir' | 'runId' | 'asOf'>): HistoryUpdate {
  const historyDir = join(ctx.outDir, HISTORY.dir);
  const partitions = join(historyDir, HISTORY.partitions);
  const name = `${ctx.asOf}.${ctx.runId}`;
  const link = join(historyDir, partitionLink(ctx.asOf));
  try {
    ensureDir(historyDir);
    ensureDir(partitions);
    clearUnreferenced(historyDir);
    const target = join(partitions, name);
    ensureDir(target);
    for (const feed of FEEDS) {
      const file = join(target, `${feed.name}.parquet`);
      copyFileSync(join(ctx.runDir, 'dashboard', `${feed.name}.parquet`), file);
      chmodSync(file, FILE_MODE);
      fsyncPath(file);
    }
    chmodSync(target, DIR_MODE);
    fsyncPath(target);
    crashPoint('history-before-switch');

    // A partition left as a plain folder (written by hand, say) is moved aside to be replaced.
    if (existsSync(link) && !lstatSync(link).isSymbolicLink())
      renameSync(link, join(partitions, `replaced-${name}`));
    const tmpLink = join(partitions, `.link-${ctx.runId}`);
    symlinkSync(join(HISTORY.partitions, name), tmpLink);
    renameSync(tmpLink, link);
    fsyncPath(historyDir);
    crashPoint('history-after-switch');
    clearUnreferenced(historyDir);
    return { asOf: ctx.asOf, partition: partitionLink(ctx.asOf), feeds: FEEDS.length };
  } catch (err) {
    if (err instanceof CliError) throw err;
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(
      `run ${ctx.runId} was published, but its history for ${ctx.asOf} could not be written (${reason}); ` +
        `the previous history for that date is unchanged, and the next run for it will write it`,
      EXIT.internal,
    );
  }
}
