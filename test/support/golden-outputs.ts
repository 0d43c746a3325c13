// What a run on the bundled sample publishes, reduced to one fingerprint per file, so that a
// change which should alter nothing a user sees can prove it did not. Tables in Parquet and
// DuckDB files are fingerprinted by their rows (their bytes depend on the writer's layout),
// compressed files by their content, and the run id is masked everywhere. The manifest is
// fingerprinted without what differs from run to run by design (run id, start time, stage
// timings and the file hashes, which the other fingerprints stand for).
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { configSchema } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { projectPath } from '../../src/paths.ts';
import { noProgress } from '../../src/progress.ts';
import { runPipeline } from '../../src/run.ts';
import { listFiles, SAMPLE_DELIVERY, TABLE_FILE, tableText } from './cli.ts';

export const GOLDEN_OUTPUTS = projectPath('test', 'golden', 'sample-outputs.json');

const sha256 = (text: string) => createHash('sha256').update(text, 'latin1').digest('hex');

async function fingerprint(dir: string, file: string, runId: string): Promise<string> {
  const path = join(dir, file);
  let text: string;
  if (TABLE_FILE.test(file)) text = await tableText(path);
  else if (file === 'manifest.json') {
    const {
      run_id: _r,
      started_at: _s,
      timings: _t,
      outputs: _o,
      ...rest
    } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    text = JSON.stringify(rest);
  } else {
    const bytes = readFileSync(path);
    // latin1 maps every byte to one character and back, so masking never merges two files.
    text = (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('latin1');
  }
  return sha256(text.split(runId).join('<run-id>'));
}

/** One fingerprint per file a run published, its run id masked. */
async function runFingerprints(runDir: string, runId: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of listFiles(runDir)) out[file] = await fingerprint(runDir, file, runId);
  return out;
}

/** Runs the pipeline on the sample (one DuckDB thread, so sums of doubles add up in one order). */
export async function sampleOutputFingerprints(): Promise<Record<string, string>> {
  const tmp = mkdtempSync(join(tmpdir(), 'strata-golden-'));
  try {
    const summary = await runPipeline({
      deliveryDir: SAMPLE_DELIVERY,
      outDir: join(tmp, 'out'),
      config: configSchema.parse({ resources: { threads: 1 } }),
      log: silentLogger,
      progress: noProgress,
      softwareVersion: 'golden',
    });
    return await runFingerprints(summary.runDir, summary.runId);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
