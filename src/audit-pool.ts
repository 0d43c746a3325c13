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
  // Each measure's figures are dealt into one part per thread (every nth figure), and each
  // part audited alone: one measure (the patients, whose programmes cost the most) would
  // otherwise hold one thread while the other waits. A part certifies only its own figures,
  // so the parts together solve a few more programmes than the measure would alone; the
  // narrowed figures and their intervals (each an optimum) are the same.
  const parts = jobs.flatMap((job, k) =>
    Array.from({ length: threads }, (_, index) => ({
      k,
      job: {
        ...job,
        measure: { ...job.measure, targets: job.measure.targets.filter((_, t) => t % threads === index) },
      },
    })),
  );
  const limit = pLimit(threads);
  // The largest first, so that the last to finish is a small one.
  parts.sort((a, b) => b.job.measure.targets.length - a.job.measure.targets.length);
  const outcomes = jobs.map((): MeasureOutcome => ({ narrowed: [], counts: newCounts() }));
  await Promise.all(
    parts.map(({ k, job }) =>
      limit(async () => {
        const worker = new Worker(new URL('./audit-worker.mjs', import.meta.url));
        try {
          const outcome = await new Promise<MeasureOutcome>((resolve, reject) => {
            worker.once('message', (msg: { outcome?: MeasureOutcome; error?: string }) =>
              msg.outcome ? resolve(msg.outcome) : reject(new Error(msg.error)),
            );
            worker.once('error', reject);
            worker.postMessage(job);
          });
          const into = outcomes[k]!;
          into.narrowed.push(...outcome.narrowed);
          for (const key of ['examined', 'certifiedInBulk', 'lps'] as const)
            into.counts[key] += outcome.counts[key];
        } finally {
          await worker.terminate();
        }
      }),
    ),
  );
  // In the measure's own order, whichever part finished first.
  for (const o of outcomes) o.narrowed.sort((a, b) => a.col - b.col);
  return outcomes;
}
