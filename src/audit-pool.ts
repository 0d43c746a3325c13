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

type WorkCounts = Pick<AuditResult, 'examined' | 'certifiedInBulk' | 'lps'>;

/** Adds one audit's work counts to another's (a part to its measure, a measure to the audit, a round to the release). */
export function addCounts(into: WorkCounts, from: WorkCounts): void {
  into.examined += from.examined;
  into.certifiedInBulk += from.certifiedInBulk;
  into.lps += from.lps;
}

/**
 * Below this many suppressed figures in all, the measures are audited in this thread: a worker
 * must load the solver anew (about half a second), which costs more than a small audit.
 */
export const WORKER_MIN_TARGETS = 100;

/**
 * From this many suppressed figures a measure's figures are dealt into one part per thread.
 * Each part solves over the whole table from a cold start, which only pays when many figures
 * are left for their own programmes: on a 0.1x delivery, the first round's 3,900 counts took
 * 46 s in two parts against 64 s in one, and a later round's 345 took 19 s against 17.
 */
export const SPLIT_MIN_TARGETS = 1000;

export async function auditMeasures(
  jobs: readonly MeasureJob[],
  threads = availableParallelism(),
  minTargets = WORKER_MIN_TARGETS,
  splitTargets = SPLIT_MIN_TARGETS,
): Promise<MeasureOutcome[]> {
  const targets = jobs.reduce((n, j) => n + j.measure.targets.length, 0);
  if (threads <= 1 || targets < minTargets) {
    const solver = await highs();
    return jobs.map((job) => {
      const counts = newCounts();
      const narrowed = auditMeasure(solver, job.measure, job.rows, job.blocks, counts);
      return { narrowed: narrowed.sort((a, b) => a.col - b.col), counts };
    });
  }
  // One measure (the counts) holds most of the figures, so a large measure's figures are dealt
  // into one part per thread: otherwise one thread does nearly all the work while the others
  // finish their costs and wait.
  const parts = jobs.flatMap((job, k) =>
    (job.measure.targets.length >= splitTargets ? dealFigures(job, threads) : [job]).map((part) => ({
      k,
      part,
    })),
  );
  const limit = pLimit(Math.min(threads, parts.length));
  // The largest first, so that the last to finish is a small one.
  parts.sort((a, b) => b.part.measure.targets.length - a.part.measure.targets.length);
  const outcomes: MeasureOutcome[] = jobs.map(() => ({ narrowed: [], counts: newCounts() }));
  await Promise.all(
    parts.map(({ k, part }) =>
      limit(async () => {
        const worker = new Worker(new URL('./audit-worker.mjs', import.meta.url));
        try {
          const outcome = await new Promise<MeasureOutcome>((resolve, reject) => {
            worker.once('message', (msg: { outcome?: MeasureOutcome; error?: string }) =>
              msg.outcome ? resolve(msg.outcome) : reject(new Error(msg.error)),
            );
            worker.once('error', reject);
            worker.postMessage(part);
          });
          outcomes[k]!.narrowed.push(...outcome.narrowed);
          addCounts(outcomes[k]!.counts, outcome.counts);
        } finally {
          await worker.terminate();
        }
      }),
    ),
  );
  // Parts finish in any order; the answer must not depend on it.
  for (const o of outcomes) o.narrowed.sort((a, b) => a.col - b.col);
  return outcomes;
}

/**
 * A measure's suppressed figures dealt into at most `count` parts of about equal size, each
 * audited over the whole table as the measure would be. A figure is narrowed or not whatever
 * else is audited beside it, so the parts together give the measure's answer. The figures of
 * one block (the smallest holding them) go to one part, where that block's programmes settle
 * them together.
 */
export function dealFigures(job: MeasureJob, count: number): MeasureJob[] {
  const { targets } = job.measure;
  if (count <= 1 || targets.length < 2) return [job];
  const blockOf = new Map<number, number>();
  job.blocks.forEach((block, b) => {
    for (const col of block) if (!blockOf.has(col)) blockOf.set(col, b);
  });
  const groups = new Map<string, number[]>();
  for (const col of targets) {
    const key = blockOf.has(col) ? `b${blockOf.get(col)}` : `c${col}`;
    const group = groups.get(key);
    if (group) group.push(col);
    else groups.set(key, [col]);
  }
  const dealt: number[][] = Array.from({ length: Math.min(count, groups.size) }, () => []);
  for (const group of [...groups.values()].sort((a, b) => b.length - a.length || a[0]! - b[0]!)) {
    const smallest = dealt.reduce((best, part, i) => (part.length < dealt[best]!.length ? i : best), 0);
    dealt[smallest]!.push(...group);
  }
  return dealt.map((cols) => {
    const mine = new Set(cols);
    return { ...job, measure: { ...job.measure, targets: targets.filter((col) => mine.has(col)) } };
  });
}
