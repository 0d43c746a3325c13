// `strata run`: walks pipeline/stages.ts top to bottom in a fresh work database, from
// reading the delivery to publishing, history and retention. Exit code 0 when every practice was processed, 2 when some were quarantined
// or a commissioner table was withheld by the disclosure audit.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stages } from '../pipeline/stages.ts';
import { checkDisclosureFloors, type Config } from './config.ts';
import { fileBacked, openConfiguredWorkDb } from './db.ts';
import { extractDateProblem } from './contract.ts';
import { ConfigError, EXIT } from './errors.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';
import { ensureDir } from './files.ts';
import { openDelivery } from './delivery.ts';
import { deliveryFingerprint } from './fingerprint.ts';
import { comparedRunDir } from './list-changes.ts';
import { acquireLock, cleanLeftovers, LAYOUT, secureOutputFolder } from './publish.ts';
import { newRunContext, walkStages } from './stage.ts';

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
  /** Compare the practice lists with this retained run instead of the latest. */
  since?: string;
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

/**
 * The latest run's id if it was made from the same delivery (by fingerprint), as-of date,
 * configuration and software: decided before anything is loaded. The cheap comparisons come
 * first, so an unchanged delivery is hashed only when everything else matches.
 */
async function unchangedSince(outDir: string, deliveryDir: string, opts: RunOptions): Promise<string | null> {
  let latest: {
    run_id: string;
    as_of: string;
    configuration: unknown;
    software_version: string;
    delivery?: { fingerprint?: string };
  };
  let asOf: string;
  try {
    latest = JSON.parse(readFileSync(join(outDir, LAYOUT.latest, 'manifest.json'), 'utf8'));
    asOf = opts.asOf ?? openDelivery(deliveryDir).manifest.extract_date;
  } catch {
    // No latest run, or a delivery the run itself will explain: not unchanged.
    return null;
  }
  const same =
    latest.as_of === asOf &&
    JSON.stringify(latest.configuration) === JSON.stringify(opts.config) &&
    latest.software_version === opts.softwareVersion &&
    latest.delivery?.fingerprint === (await deliveryFingerprint(deliveryDir));
  return same ? latest.run_id : null;
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
  if (opts.since !== undefined) comparedRunDir(outDir, opts.since);

  secureOutputFolder(outDir);
  const lock = acquireLock(outDir, runId);
  try {
    const leftovers = cleanLeftovers(outDir);
    if (leftovers.length) opts.log.warn('cleared what an interrupted run left', { items: leftovers.length });
    if (opts.skipUnchanged) {
      const latest = await unchangedSince(outDir, deliveryDir, opts);
      if (latest) {
        opts.log.info('inputs unchanged since the latest run; nothing to do', { latest_run: latest });
        return {
          skippedAsUnchangedSince: latest,
          runId: latest,
          asOf: opts.asOf ?? openDelivery(deliveryDir).manifest.extract_date,
          runDir: join(outDir, LAYOUT.latest),
          exitCode: EXIT.ok,
          quarantined: [],
          quarantinedFiles: [],
          timings: [],
          counts: {},
        };
      }
    }
    const runDir = join(outDir, LAYOUT.staging, runId);
    const workDir = join(outDir, LAYOUT.work, runId);
    ensureDir(runDir);
    ensureDir(workDir);
    const instance = await openConfiguredWorkDb(opts.config.resources, workDir, [deliveryDir, outDir]);
    const conn = await instance.connect();
    const ctx = newRunContext({
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
      keepRuns: opts.keep ?? opts.config.retention.keepRuns,
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      results: { disclosureBelowFloors: belowFloors },
    });
    if (belowFloors.length)
      opts.log.warn('disclosure settings below their floors, allowed by disclosure.allowBelowFloors', {
        settings: belowFloors.join('; '),
      });
    try {
      opts.log.info('run started', { run_id: runId });
      await walkStages(stages, ctx, { fileBacked: fileBacked(ctx.config.resources) });
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
    const { quarantined, quarantinedFiles, commissioner, attrition } = ctx.results;
    const unavailable = predictionsNotAvailable(ctx);
    return {
      runId,
      asOf: ctx.asOf,
      runDir: ctx.runDir,
      exitCode:
        quarantined.length || quarantinedFiles.length || commissioner?.audit.withheld.length
          ? EXIT.quarantined
          : EXIT.ok,
      quarantined,
      quarantinedFiles,
      timings: ctx.timings,
      counts: attrition?.system ?? {},
      ...(unavailable ? { predictionsNotAvailable: unavailable } : {}),
    };
  } finally {
    lock.release();
  }
}
