// A delivery's fingerprint: one SHA-256 over the path and content hash of every file in the
// delivery folder, so that two deliveries with the same fingerprint hold the same bytes. The
// ingest stage records it in the manifest (reusing the hashes its scans already made), and
// `--skip-unchanged` works it out before anything is loaded, to compare with the latest run's.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listFiles } from './files.ts';

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/**
 * The fingerprint of the delivery in `root`. `known` holds content hashes already made (by
 * relative path), which are not made again.
 */
export async function deliveryFingerprint(
  root: string,
  known: ReadonlyMap<string, string> = new Map(),
): Promise<string> {
  const h = createHash('sha256');
  for (const path of listFiles(root).sort()) {
    // Only regular files have content; anything else is fingerprinted by its kind.
    const content = lstatSync(join(root, path)).isFile()
      ? (known.get(path) ?? (await hashFile(join(root, path))))
      : 'not a regular file';
    h.update(`${path}\0${content}\n`);
  }
  return h.digest('hex');
}
