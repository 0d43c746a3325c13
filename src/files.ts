// Writing files the way every output of strata is written: owner-only (they may hold patient
// data), flushed to disk before anything points at them, and with the crash points the fault
// tests kill a run at.
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { CliError, EXIT } from './errors.ts';

/** Files and folders created by strata are for its owner only: they may hold patient data. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/**
 * Makes a folder strata writes into, or checks one that is there, for its owner only. A folder
 * the user owns loses every permission of its group and of others. One that belongs to someone else cannot be tightened; if
 * other users can write it, the run is refused: they could swap `latest` or a published run.
 */
export function ensureDir(path: string, opts: { uid?: number } = {}): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  const st = statSync(path);
  if ((st.mode & 0o077) === 0) return;
  const uid = opts.uid ?? process.getuid?.();
  if (uid === undefined) return;
  // Only others' permissions are removed: a folder its owner made read-only stays read-only.
  if (st.uid === uid) chmodSync(path, st.mode & 0o700);
  else if (st.mode & 0o022)
    throw new CliError(
      `${path} can be written by other users and belongs to another user (uid ${st.uid}), so strata cannot make it owner-only: ` +
        'use a folder you own, or ask its owner to remove the write permission for others (chmod go-w)',
      EXIT.badInput,
    );
}

/** Writes a file (owner-only) and flushes it to disk. */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w', FILE_MODE);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a file or folder to disk, so a rename after it is not ahead of the data. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes a file another writer (DuckDB, under the process umask) left owner-only, and flushes it. */
export function sealFile(path: string): void {
  chmodSync(path, FILE_MODE);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Fault injection for tests: STRATA_CRASH_AT=<point> kills the process there. */
export function crashPoint(point: string): void {
  if (process.env.STRATA_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}

/** Every file under `dir`, as paths relative to it with forward slashes, folder by folder in name order. */
export function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, base));
    else out.push(relative(base, path).split('\\').join('/'));
  }
  return out;
}
