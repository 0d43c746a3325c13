// Writing a delivery's parts, on worker threads when there is enough work to be worth it.
// Each part is a pure function of the options and its number, so the bytes do not depend on
// which thread wrote it.
import { Worker } from 'node:worker_threads';
import type { Progress } from '../progress.ts';
import type { FileMess } from './delivery-files.ts';
import type { SynthOptions } from './index.ts';

export interface PartResult {
  files: FileMess[];
  truthGz: Uint8Array;
  eligible: number;
}

/** Runs the parts on worker threads when there is enough work to be worth it. */
export async function runParts(
  opts: SynthOptions,
  count: number,
  progress: Progress,
  workers: number,
  inProcess: (part: number, onPractice: () => void) => PartResult,
): Promise<PartResult[]> {
  if (workers <= 1) return Array.from({ length: count }, (_, k) => inProcess(k, () => progress.tick()));
  const results: PartResult[] = new Array(count);
  let nextPart = 0;
  const { progress: _ignored, ...plainOpts } = opts;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      // A larger young generation: the generator allocates many short-lived strings, and
      // the default leaves it collecting garbage a sixth of the time.
      const worker = new Worker(new URL('./worker.mjs', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: 64 },
      });
      try {
        while (nextPart < count) {
          const k = nextPart++;
          results[k] = await new Promise<PartResult>((resolve, reject) => {
            const onMessage = (msg: { tick?: true; result?: PartResult }) => {
              if (msg.tick) return progress.tick();
              worker.off('message', onMessage);
              worker.off('error', reject);
              resolve(msg.result!);
            };
            worker.on('message', onMessage);
            worker.once('error', reject);
            worker.postMessage({ opts: plainOpts, part: k });
          });
        }
      } finally {
        await worker.terminate();
      }
    }),
  );
  return results;
}
