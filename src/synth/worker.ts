// A worker thread that writes parts of a synthetic delivery (see generatePart).
import { parentPort } from 'node:worker_threads';
import { generatePart, type SynthOptions } from './index.ts';

parentPort!.on('message', (msg: { opts: SynthOptions; part: number }) => {
  const result = generatePart(msg.opts, msg.part, () => parentPort!.postMessage({ tick: true }));
  parentPort!.postMessage({ result }, [result.truthGz.buffer as ArrayBuffer]);
});
