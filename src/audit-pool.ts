// The audit's measures (patients, then each cost) are independent programmes over the same
// sets: on a machine with more than one core they are audited side by side on worker threads.
// Each measure is audited exactly as it would be in this thread, and the outcomes are put back
// in measure order, so the audit's answer does not depend on how many threads ran it.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import pLimit from 'p-limit';
import { auditMeasure, highs, type AuditResult, type Measure } from './audit-programme.ts';

export interface MeasureJob {
  measure: Measure;
  /** Each additive set as measure columns, its total first. */
  rows: number[][];
  /** Blocks of measure columns that may move together (see AuditScope.blocks). */
  blocks: number[][];
}

export interface MeasureOutcome {
  narrowed: { col: number; low: number; high: number }[];
  counts: AuditResult;
}

export const newCounts = (): AuditResult => ({
  failures: [],
  examined: 0,
  certifiedInBulk: 0,
  lps: 0,
  seconds: 0,
});

/**
 * Below this many suppressed figures in all, the measures are audited in this thread: a worker
 * must load the solver anew, which costs more than a small audit.
 */
export const WORKER_MIN_TARGETS = 500;

export async function auditMeasures(
  jobs: readonly MeasureJob[],
  threads = availableParallelism(),
  minTargets = WORKER_MIN_TARGETS,
): Promise<MeasureOutcome[]> {
  const targets = jobs.reduce((n, j) => n + j.measure.targets.length, 0);
  if (threads <= 1 || jobs.length <= 1 || targets < minTargets) {
    const solver = await highs();
    return jobs.map((job) => {
      const counts = newCounts();
      return { narrowed: auditMeasure(solver, job.measure, job.rows, job.blocks, counts), counts };
    });
  }
  const limit = pLimit(Math.min(threads, jobs.length));
  // The largest first, so that the last to finish is a small one.
  const order = jobs
    .map((_, k) => k)
    .sort((a, b) => jobs[b]!.measure.targets.length - jobs[a]!.measure.targets.length);
  const outcomes: MeasureOutcome[] = new Array(jobs.length);
  await Promise.all(
    order.map((k) =>
      limit(async () => {
        const worker = new Worker(new URL('./audit-worker.mjs', import.meta.url));
        try {
          outcomes[k] = await new Promise<MeasureOutcome>((resolve, reject) => {
            worker.once('message', (msg: { outcome?: MeasureOutcome; error?: string }) =>
              msg.outcome ? resolve(msg.outcome) : reject(new Error(msg.error)),
            );
            worker.once('error', reject);
            worker.postMessage(jobs[k]);
          });
        } finally {
          await worker.terminate();
        }
      }),
    ),
  );
  return outcomes;
}
