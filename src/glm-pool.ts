// Fitting is plain single-threaded arithmetic, and the models are independent of each other:
// on a machine with more than one core they are fitted side by side on worker threads.
// A fit gives the same coefficients on any thread, so results do not depend on the pool.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import pLimit from 'p-limit';
import { fitGlmStaged, type Design, type GlmFit, type GlmOptions } from './glm.ts';

export interface GlmPool {
  fit(design: Design, y: Float64Array, opts: GlmOptions): Promise<GlmFit>;
  close(): Promise<void>;
}

/** Fits in this thread: for one core, and for tests that want no threads. */
export const inlinePool: GlmPool = {
  fit: async (design, y, opts) => fitGlmStaged(design, y, opts),
  close: async () => {},
};

/**
 * Below this many design cells (rows x columns) a fit is done in this thread: it takes less
 * time than starting a worker, which must load the fitting code anew.
 */
export const WORKER_MIN_CELLS = 2_000_000;

export function openGlmPool(size = availableParallelism(), minCells = WORKER_MIN_CELLS): GlmPool {
  if (size <= 1) return inlinePool;
  const idle: Worker[] = [];
  const all: Worker[] = [];
  const limit = pLimit(size);
  const take = (): Worker => {
    const reused = idle.pop();
    if (reused) return reused;
    const worker = new Worker(new URL('./glm-worker.mjs', import.meta.url));
    all.push(worker);
    return worker;
  };
  return {
    fit: (design, y, opts) =>
      design.n * design.p < minCells
        ? inlinePool.fit(design, y, opts)
        : limit(async () => {
            const worker = take();
            let failed = false;
            try {
              // The arrays are copied, not transferred: the caller scores with the same design.
              return await new Promise<GlmFit>((resolve, reject) => {
                worker.once('message', (msg: { fit?: GlmFit; error?: string }) =>
                  msg.fit ? resolve(msg.fit) : reject(new Error(msg.error)),
                );
                worker.once('error', (err) => {
                  failed = true;
                  reject(err);
                });
                worker.postMessage({ design, y, opts });
              });
            } finally {
              worker.removeAllListeners('error');
              worker.removeAllListeners('message');
              // A worker that died is not handed out again.
              if (!failed) idle.push(worker);
            }
          }),
    close: async () => {
      await Promise.all(all.map((w) => w.terminate()));
    },
  };
}
