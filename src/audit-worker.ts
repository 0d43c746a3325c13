// A worker thread that audits one measure's suppressed figures (see audit-pool.ts).
import { parentPort } from 'node:worker_threads';
import { auditMeasure, highs } from './audit-programme.ts';
import { newCounts, type MeasureJob } from './audit-pool.ts';

parentPort!.on('message', (job: MeasureJob) => {
  void (async () => {
    try {
      const counts = newCounts();
      const narrowed = auditMeasure(await highs(), job.measure, job.rows, job.blocks, counts);
      parentPort!.postMessage({ outcome: { narrowed, counts } });
    } catch (err) {
      parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
    }
  })();
});
