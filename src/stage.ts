// The shape of a pipeline stage and of the context a run hands to each one.
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Config } from './config.ts';
import type { Delivery, DeliveryFile, FileScan } from './delivery.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';

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
