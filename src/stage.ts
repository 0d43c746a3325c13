// The shape of a pipeline stage, the context a run hands to each one, and the one loop that
// walks a list of stages (used by `strata run`, `strata validate` and the tests alike).
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from './config.ts';
import { runSqlFiles } from './db.ts';
import type { Delivery, DeliveryFile, FileScan } from './delivery.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';
import { crashPoint } from './files.ts';

/** What the ingest stage hands on: each file of the delivery and what became of it. */
export interface IngestedFile {
  fileId: number;
  file: DeliveryFile;
  scan: FileScan | null;
  resentOf: string | null;
  status: 'loaded' | 'quarantined';
  reason: string | null;
  loaded: number;
  rejected: number;
}

export interface IngestResult {
  delivery: Delivery;
  files: IngestedFile[];
  /** Practices not processed at all. */
  quarantined: { practiceCode: string; reason: string }[];
  /** Secondary-care files that could not be read as a whole (the rest of the delivery is used). */
  quarantinedFiles: { path: string; reason: string }[];
}

export interface RunContext {
  instance: DuckDBInstance;
  conn: DuckDBConnection;
  config: Config;
  log: Logger;
  progress: Progress;
  runId: string;
  asOf: string;
  deliveryDir: string;
  outDir: string;
  /** Where this run's files are written before publishing (renamed into OUT/runs/<run-id>). */
  runDir: string;
  softwareVersion: string;
  startedAt: Date;
  ingest?: IngestResult;
  /** Sections of manifest.json, filled in by the stages. */
  manifest: Record<string, unknown>;
  timings: { stage: string; seconds: number }[];
}

export type StageStep = (ctx: RunContext) => Promise<void>;

export interface Stage {
  name: string;
  summary: string;
  reads: string[];
  writes: string[];
  /** Files in sql/, run in order between `before` and `after`. */
  sql: string[];
  before?: StageStep;
  run?: StageStep;
  after?: StageStep;
}

export interface WalkOptions {
  /** Stop after the stage of this name. */
  through?: string;
  /** Checkpoint a file-backed work database after each SQL file (see runSqlFiles). */
  fileBacked?: boolean;
  /** Asked after each stage; true ends the walk there (nothing after it runs). */
  stopAfter?: (stage: Stage, ctx: RunContext) => boolean;
}

/** The point a fault test can kill a run at, after each stage. */
export const afterStagePoint = (stage: Pick<Stage, 'name'>) => `after-${stage.name.replace(/\s+/g, '-')}`;

/**
 * Runs each stage in order: its `before` step, its `run` step, its SQL files, its `after`
 * step. Each stage's time goes into ctx.timings and the log. Returns the stage it stopped
 * after when `stopAfter` said so, or null.
 */
export async function walkStages(
  stages: readonly Stage[],
  ctx: RunContext,
  opts: WalkOptions = {},
): Promise<Stage | null> {
  for (const [i, stage] of stages.entries()) {
    const started = performance.now();
    ctx.progress.start(`${i + 1}/${stages.length} ${stage.name}`, 1);
    if (stage.before) await stage.before(ctx);
    if (stage.run) await stage.run(ctx);
    await runSqlFiles(ctx.conn, stage.sql, opts.fileBacked ?? false);
    if (stage.after) await stage.after(ctx);
    if (opts.stopAfter?.(stage, ctx)) return stage;
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    ctx.timings.push({ stage: stage.name, seconds });
    ctx.log.info('stage done', { stage: stage.name, seconds });
    ctx.progress.tick();
    crashPoint(afterStagePoint(stage));
    if (stage.name === opts.through) break;
  }
  return null;
}
