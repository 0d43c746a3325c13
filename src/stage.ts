// The shape of a pipeline stage, the context a run hands to each one, what each stage hands
// on (typed results, from which publishing assembles the manifest once), and the one loop
// that walks a list of stages (used by `strata run`, `strata validate` and the tests alike).
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from './config.ts';
import { runSqlFiles } from './db.ts';
import type { Delivery, DeliveryFile, FileScan } from './delivery.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';
import { crashPoint } from './files.ts';
import type { DeliverySummary } from './ingest-stage.ts';
import type { DataQuality } from './data-quality.ts';
import type { FittedModels } from './cost-model.ts';
import type { AttritionSummary } from './attrition.ts';
import type { PracticeListSummary } from './practice-lists.ts';
import type { CommissionerSummary } from './commissioner.ts';
import type { DashboardSummary } from './dashboard.ts';
import type { HistoryUpdate } from './history.ts';
import type { ListChangeSummary } from './list-changes.ts';

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

export interface QuarantinedPractice {
  practice_code: string;
  reason: string;
}

/** What the stages found and made, each section set by the stage that owns it. */
export interface RunResults {
  /** Disclosure settings below their floors, run because the configuration allowed it. */
  disclosureBelowFloors: string[];
  delivery?: DeliverySummary;
  /** Practices not processed at all, with the reason. */
  quarantined: QuarantinedPractice[];
  /** Secondary-care files that could not be read as a whole (the rest of the delivery is used). */
  quarantinedFiles: { path: string; reason: string }[];
  dataQuality?: DataQuality;
  models?: FittedModels;
  attrition?: AttritionSummary;
  /** Who joined and left each cohort and tier since the compared run (system-level counts). */
  listChanges?: ListChangeSummary;
  practiceLists?: PracticeListSummary;
  commissioner?: CommissionerSummary;
  dashboard?: DashboardSummary;
  report?: { bytes: number };
  history?: HistoryUpdate;
  /** Old runs removed by retention. */
  retention?: { removed: string[] };
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
  /** How many published runs retention keeps. */
  keepRuns: number;
  /** The retained run the practice lists are compared with, when not the latest (`--since`). */
  since?: string;
  ingest?: IngestResult;
  results: RunResults;
  timings: { stage: string; seconds: number }[];
}

/** A fresh context: nothing found yet. */
export function newRunContext(
  fields: Omit<RunContext, 'results' | 'timings' | 'ingest'> & { results?: Partial<RunResults> },
): RunContext {
  return {
    ...fields,
    results: { disclosureBelowFloors: [], quarantined: [], quarantinedFiles: [], ...fields.results },
    timings: [],
  };
}

/** A step returns the sections of the results it owns (or nothing). */
export type StageStep = (ctx: RunContext) => Promise<Partial<RunResults> | void>;

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
    if (stage.before) Object.assign(ctx.results, await stage.before(ctx));
    if (stage.run) Object.assign(ctx.results, await stage.run(ctx));
    await runSqlFiles(ctx.conn, stage.sql, opts.fileBacked ?? false);
    if (stage.after) Object.assign(ctx.results, await stage.after(ctx));
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
