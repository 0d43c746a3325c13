// Runs the pipeline's stages in a work database that the test can then query.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stages } from '../../pipeline/stages.ts';
import { defaultConfig, type Config } from '../../src/config.ts';
import { openWorkDb, queryRows, type Row } from '../../src/db.ts';
import { silentLogger } from '../../src/log.ts';
import { noProgress } from '../../src/progress.ts';
import { newRunContext, walkStages, type RunContext } from '../../src/stage.ts';

export interface StagedRun {
  ctx: RunContext;
  query<T extends Row = Row>(sql: string): Promise<T[]>;
  close(): void;
}

/** Every stage up to and including `through`, on `delivery` (none when `through` is null). */
export async function runStages(
  delivery: string,
  through: string | null,
  config: Config = defaultConfig,
): Promise<StagedRun> {
  const work = mkdtempSync(join(tmpdir(), 'strata-stages-'));
  const runDir = join(work, 'run');
  mkdirSync(runDir);
  const deliveryDir = resolve(delivery);
  const instance = await openWorkDb({
    allowedDirectories: [deliveryDir, work],
    tempDirectory: work,
    memoryLimit: config.resources.memoryLimit,
    threads: availableParallelism(),
  });
  const conn = await instance.connect();
  const ctx = newRunContext({
    instance,
    conn,
    config,
    log: silentLogger,
    progress: noProgress,
    runId: 'test',
    asOf: '',
    deliveryDir,
    outDir: work,
    runDir,
    softwareVersion: 'test',
    startedAt: new Date(0),
    keepRuns: config.retention.keepRuns,
  });
  if (through !== null) await walkStages(stages, ctx, { through });
  return {
    ctx,
    query: (sql) => queryRows(conn, sql),
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}
