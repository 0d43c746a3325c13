// `strata run`: walks pipeline/stages.ts top to bottom in a fresh work database, then
// publishes. Exit code 0 when every practice was processed, 2 when some were quarantined
// or a commissioner table was withheld by the disclosure audit.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stages } from '../pipeline/stages.ts';
import { checkDisclosureFloors, type Config } from './config.ts';
import { openWorkDb } from './db.ts';
import { extractDateProblem } from './contract.ts';
import { ConfigError, EXIT } from './errors.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';
import { ensureDir } from './files.ts';
import { acquireLock, applyRetention, cleanLeftovers, LAYOUT, secureOutputFolder } from './publish.ts';
import { walkStages, type RunContext } from './stage.ts';
import { availableParallelism } from 'node:os';

export interface RunOptions {
  deliveryDir: string;
  outDir: string;
  asOf?: string;
  config: Config;
  log: Logger;
  progress: Progress;
  softwareVersion: string;
  now?: () => Date;
  keep?: number;
  /** Do nothing when the delivery, as-of date and configuration are those of the latest run. */
  skipUnchanged?: boolean;
}

export interface RunSummary {
  /** Set when nothing was run because the inputs had not changed. */
  skippedAsUnchangedSince?: string;
  runId: string;
  asOf: string;
  runDir: string;
  exitCode: number;
  quarantined: { practice_code: string; reason: string }[];
  quarantinedFiles: { path: string; reason: string }[];
  timings: { stage: string; seconds: number }[];
  counts: Record<string, number>;
  /** Why the run has no predicted high cost cohort, tiers or admission risk, if so. */
  predictionsNotAvailable?: string;
}

/** The latest run's id if it described the same delivery, as-of date and configuration. */
function unchangedSince(outDir: string, ctx: RunContext): string | null {
  try {
    const latest = JSON.parse(readFileSync(join(outDir, LAYOUT.latest, 'manifest.json'), 'utf8'));
    const fingerprint = (ctx.manifest.delivery as { fingerprint: string }).fingerprint;
    const same =
      latest.delivery?.fingerprint === fingerprint &&
      latest.as_of === ctx.asOf &&
      JSON.stringify(latest.configuration) === JSON.stringify(ctx.config) &&
      latest.software_version === ctx.softwareVersion;
    return same ? latest.run_id : null;
  } catch {
    return null;
  }
}

/** Commissioner tables not published because their disclosure audit could not pass. */
function withheldTables(manifest: RunContext['manifest']): string[] {
  return (manifest.commissioner as { withheld?: string[] } | undefined)?.withheld ?? [];
}

export function newRunId(now: Date): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

export async function runPipeline(opts: RunOptions): Promise<RunSummary> {
  const now = (opts.now ?? (() => new Date()))();
  const runId = newRunId(now);
  const outDir = resolve(opts.outDir);
  const deliveryDir = resolve(opts.deliveryDir);
  const asOfProblem = opts.asOf === undefined ? null : extractDateProblem(opts.asOf);
  if (asOfProblem) throw new ConfigError(`--as-of ${opts.asOf} ${asOfProblem}`);
  // Before anything runs: a refused configuration leaves no trace.
  const belowFloors = checkDisclosureFloors(opts.config);

  secureOutputFolder(outDir);
  const lock = acquireLock(outDir, runId);
  try {
    const leftovers = cleanLeftovers(outDir);
    if (leftovers.length) opts.log.warn('cleared what an interrupted run left', { items: leftovers.length });
    const runDir = join(outDir, LAYOUT.staging, runId);
    const workDir = join(outDir, LAYOUT.work, runId);
    ensureDir(runDir);
    ensureDir(workDir);
    const instance = await openWorkDb({
      ...(opts.config.resources.workDatabase === 'file' ? { path: join(workDir, 'work.duckdb') } : {}),
      allowedDirectories: [deliveryDir, outDir],
      tempDirectory: workDir,
      memoryLimit: opts.config.resources.memoryLimit,
      threads: opts.config.resources.threads ?? availableParallelism(),
    });
    const conn = await instance.connect();
    const ctx: RunContext = {
      instance,
      conn,
      config: opts.config,
      log: opts.log,
      progress: opts.progress,
      runId,
      asOf: opts.asOf ?? '',
      deliveryDir,
      outDir,
      runDir,
      softwareVersion: opts.softwareVersion,
      startedAt: now,
      manifest: belowFloors.length ? { disclosure_below_floors: belowFloors } : {},
      timings: [],
    };
    if (belowFloors.length)
      opts.log.warn('disclosure settings below their floors, allowed by disclosure.allowBelowFloors', {
        settings: belowFloors.join('; '),
      });
    let skippedSince: string | null = null;
    try {
      opts.log.info('run started', { run_id: runId });
      const stoppedAt = await walkStages(stages, ctx, {
        fileBacked: ctx.config.resources.workDatabase === 'file',
        stopAfter: (stage) =>
          stage.name === 'ingest' && !!opts.skipUnchanged && !!unchangedSince(outDir, ctx),
      });
      if (stoppedAt) {
        skippedSince = unchangedSince(outDir, ctx);
        opts.log.info('inputs unchanged since the latest run; nothing to do', { latest_run: skippedSince });
      }
    } catch (err) {
      // A failed run leaves nothing behind; a killed one is cleared by the next run.
      opts.progress.stop();
      conn.closeSync();
      instance.closeSync();
      cleanLeftovers(outDir);
      throw err;
    }
    opts.progress.stop();
    conn.closeSync();
    instance.closeSync();
    cleanLeftovers(outDir);
    if (skippedSince) {
      const latest = join(outDir, LAYOUT.latest);
      return {
        skippedAsUnchangedSince: skippedSince,
        runId: skippedSince,
        asOf: ctx.asOf,
        runDir: latest,
        exitCode: EXIT.ok,
        quarantined: [],
        quarantinedFiles: [],
        timings: ctx.timings,
        counts: {},
      };
    }
    const removed = applyRetention(outDir, opts.keep ?? opts.config.retention.keepRuns);
    if (removed.length) opts.log.info('old runs removed', { runs: removed.length });
    const quarantined = (ctx.manifest.quarantined as RunSummary['quarantined']) ?? [];
    const unavailable = predictionsNotAvailable(ctx);
    return {
      runId,
      asOf: ctx.asOf,
      runDir: ctx.runDir,
      exitCode:
        quarantined.length ||
        (ctx.manifest.quarantined_files as unknown[]).length ||
        withheldTables(ctx.manifest).length
          ? EXIT.quarantined
          : EXIT.ok,
      quarantined,
      quarantinedFiles: (ctx.manifest.quarantined_files as RunSummary['quarantinedFiles']) ?? [],
      timings: ctx.timings,
      counts: (ctx.manifest.counts as Record<string, number>) ?? {},
      ...(unavailable ? { predictionsNotAvailable: unavailable } : {}),
    };
  } finally {
    lock.release();
  }
}
