// A worker thread that fits one GLM (see fitGlmBeside in glm-pool.ts).
import { parentPort } from 'node:worker_threads';
import { fitGlmStaged, type Design, type GlmOptions } from './glm.ts';

parentPort!.on('message', (msg: { design: Design; y: Float64Array; opts: GlmOptions }) => {
  try {
    const fit = fitGlmStaged(msg.design, msg.y, msg.opts);
    parentPort!.postMessage({ fit });
  } catch (err) {
    parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
});
