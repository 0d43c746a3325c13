// A delivery is one folder as a data-sharing agreement supplies it. This module finds
// its files without trusting their names as paths, and reads each once to fingerprint
// it (size, SHA-256), count its lines and check its header, before DuckDB parses it.
import { createHash } from 'node:crypto';
import { createReadStream, lstatSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import {
  activityFile,
  deliveryManifest,
  lsoaFile,
  medicationsFile,
  observationsFile,
  ODS_PRACTICE,
  patientsFile,
  practicesFile,
  type DeliveryManifest,
  type FileContract,
} from './contract.ts';
import { DeliveryError } from './errors.ts';

export interface DeliveryFile {
  /** Path relative to the delivery root, with forward slashes. */
  path: string;
  absolute: string;
  contract: FileContract;
  practiceCode: string | null;
  gzip: boolean;
}

export interface Quarantine {
  practiceCode: string;
  reason: string;
}

export interface IgnoredEntry {
  path: string;
  reason: string;
}

export interface Delivery {
  root: string;
  manifest: DeliveryManifest;
  reference: { practices: DeliveryFile; lsoa: DeliveryFile };
  practiceFiles: DeliveryFile[];
  activityFiles: DeliveryFile[];
  /** Practice folders that cannot be processed at all, found before reading any data. */
  quarantined: Quarantine[];
  ignored: IgnoredEntry[];
}

const PRACTICE_CONTRACTS = [patientsFile, observationsFile, medicationsFile];

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function statOf(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** Finds `name` or `name.gz` as a plain file (never a link) inside `dir`. */
function findPlainFile(dir: string, name: string): { absolute: string; gzip: boolean } | null {
  for (const [candidate, gzip] of [
    [name, false],
    [`${name}.gz`, true],
  ] as const) {
    const absolute = join(dir, candidate);
    const st = statOf(absolute);
    if (st?.isFile()) return { absolute, gzip };
  }
  return null;
}

export function openDelivery(dir: string, referencePractices?: Set<string>): Delivery {
  const root = resolve(dir);
  const rootStat = statOf(root);
  if (!rootStat?.isDirectory()) throw new DeliveryError(`delivery folder ${dir} does not exist`);
  const manifestPath = join(root, 'delivery.json');
  let manifest: DeliveryManifest;
  try {
    manifest = deliveryManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  } catch (err) {
    const detail =
      err instanceof SyntaxError
        ? 'it is not valid JSON'
        : err && typeof err === 'object' && 'issues' in err
          ? (err as { issues: { path: PropertyKey[]; message: string }[] }).issues
              .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
              .join('; ')
          : 'it cannot be read';
    throw new DeliveryError(
      `${relative(process.cwd(), manifestPath) || manifestPath} is not a valid delivery manifest: ${detail}`,
    );
  }

  const ref = (contract: FileContract): DeliveryFile => {
    const found = findPlainFile(join(root, 'reference'), contract.path.split('/')[1]!);
    if (!found) throw new DeliveryError(`the delivery has no ${contract.path}: it is required`);
    return {
      path: rel(root, found.absolute),
      absolute: found.absolute,
      contract,
      practiceCode: null,
      gzip: found.gzip,
    };
  };
  const reference = { practices: ref(practicesFile), lsoa: ref(lsoaFile) };

  const quarantined: Quarantine[] = [];
  const ignored: IgnoredEntry[] = [];
  const practiceFiles: DeliveryFile[] = [];
  const practicesDir = join(root, 'practices');
  for (const name of entries(practicesDir)) {
    const absolute = join(practicesDir, name);
    const st = statOf(absolute);
    // Names come from whoever made the delivery: only a folder named as an ODS code, that
    // the reference list knows, is read. The name is never used to build a path elsewhere.
    if (!st?.isDirectory() || st.isSymbolicLink()) {
      ignored.push({
        path: `practices/${safeName(name)}`,
        reason: 'not a practice folder (a file or a link)',
      });
      continue;
    }
    if (!ODS_PRACTICE.test(name)) {
      ignored.push({
        path: `practices/${safeName(name)}`,
        reason: 'folder name is not an ODS practice code',
      });
      continue;
    }
    if (referencePractices && !referencePractices.has(name)) {
      quarantined.push({ practiceCode: name, reason: 'practice is not in reference/practices.csv' });
      continue;
    }
    const files: DeliveryFile[] = [];
    const missing: string[] = [];
    for (const contract of PRACTICE_CONTRACTS) {
      const fileName = contract.path.split('/').pop()!;
      const found = findPlainFile(absolute, fileName);
      if (!found) missing.push(fileName);
      else
        files.push({
          path: rel(root, found.absolute),
          absolute: found.absolute,
          contract,
          practiceCode: name,
          gzip: found.gzip,
        });
    }
    if (missing.length) quarantined.push({ practiceCode: name, reason: `missing ${missing.join(', ')}` });
    else practiceFiles.push(...files);
  }

  const activityFiles: DeliveryFile[] = [];
  const scDir = join(root, 'secondary-care');
  for (const name of entries(scDir)) {
    const absolute = join(scDir, name);
    const st = statOf(absolute);
    if (!st?.isFile() || !/^[A-Za-z0-9._-]+\.csv(\.gz)?$/.test(name)) {
      ignored.push({ path: `secondary-care/${safeName(name)}`, reason: 'not a .csv or .csv.gz file' });
      continue;
    }
    activityFiles.push({
      path: rel(root, absolute),
      absolute,
      contract: activityFile,
      practiceCode: null,
      gzip: name.endsWith('.gz'),
    });
  }
  return { root, manifest, reference, practiceFiles, activityFiles, quarantined, ignored };
}

function rel(root: string, absolute: string): string {
  const r = relative(root, absolute);
  if (r.startsWith('..') || r.includes(`..${sep}`))
    throw new DeliveryError('a delivery path escapes its folder');
  return r.split(sep).join('/');
}

/** A name from the delivery, made safe to print. */
function safeName(name: string): string {
  return name.replace(/[^\w.-]/g, '?').slice(0, 80);
}

export interface FileScan {
  bytes: number;
  sha256: string;
  /** Data lines: physical lines after the header, blank lines excluded. */
  lines: number;
  blankLines: number;
  /** Why the file cannot be read as a whole, if it cannot. */
  unreadable: string | null;
}

/** What the first block of a file says: empty, binary or a header that is not the contract's. */
export interface FilePeek {
  bytes: number;
  unreadable: string | null;
}

const PEEK_BYTES = 64 * 1024;

/**
 * Reads only the start of a file (decompressed), so that a file that cannot be loaded at all
 * is set aside before DuckDB reads it, while the full scan runs beside the load.
 */
export async function peekFile(file: DeliveryFile): Promise<FilePeek> {
  const bytes = statSync(file.absolute).size;
  if (bytes === 0) return { bytes, unreadable: 'the file is empty (no header line)' };
  const raw = createReadStream(file.absolute, { start: 0, end: file.gzip ? undefined : PEEK_BYTES - 1 });
  const text: NodeJS.ReadableStream = file.gzip ? raw.pipe(createGunzip()) : raw;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      raw.on('error', reject);
      text.on('error', reject);
      text.on('end', () => resolvePromise());
      text.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= PEEK_BYTES) {
          raw.destroy();
          resolvePromise();
        }
      });
    });
  } catch {
    // A damaged gzip may fail this early; the full scan gives the reason.
    return { bytes, unreadable: null };
  }
  const start = Buffer.concat(chunks).subarray(0, PEEK_BYTES);
  if (start.indexOf(0) !== -1) return { bytes, unreadable: 'the file holds binary data, not CSV text' };
  const nl = start.indexOf(10);
  return { bytes, unreadable: headerProblem(file, start.subarray(0, nl === -1 ? start.length : nl)) };
}

function headerProblem(file: DeliveryFile, headerBytes: Uint8Array): string | null {
  const expected = Object.keys(file.contract.columns).join(',');
  let header = Buffer.from(headerBytes).toString('utf8');
  if (header.charCodeAt(0) === 0xfeff) header = header.slice(1);
  header = header.replace(/\r$/, '');
  return header.trim().toLowerCase() === expected
    ? null
    : `the header is not the contract's (${Object.keys(file.contract.columns).length} columns: ${expected})`;
}

/**
 * Reads a file once: hash of the bytes as delivered, and line counts of the text. Lines
 * are counted independently of DuckDB so that loaded + rejected can be checked against
 * them.
 */
export async function scanFile(file: DeliveryFile): Promise<FileScan> {
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  let blankLines = 0;
  let lineLength = 0;
  let lineHasContent = false;
  const headerBytes: number[] = [];
  let inHeader = true;
  let sawNul = false;
  let unreadable: string | null = null;
  const maxHeader = 4096;

  const count = (chunk: Buffer): void => {
    if (!sawNul && chunk.indexOf(0) !== -1) sawNul = true;
    let pos = 0;
    if (inHeader) {
      const nl = chunk.indexOf(10);
      const take = nl === -1 ? chunk.length : nl;
      for (let i = 0; i < take && headerBytes.length < maxHeader; i++) headerBytes.push(chunk[i]!);
      if (nl === -1) return;
      inHeader = false;
      pos = nl + 1;
    }
    // Native newline search: the scan must keep up with DuckDB's parser.
    for (;;) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (end > pos) {
        lineLength += end - pos;
        // A line holding only a carriage return is blank.
        if (!(end - pos === 1 && chunk[pos] === 13)) lineHasContent = true;
      }
      if (nl === -1) break;
      if (lineHasContent) lines++;
      else blankLines++;
      lineLength = 0;
      lineHasContent = false;
      pos = nl + 1;
    }
  };

  try {
    if (file.gzip) {
      // Large chunks: the per-chunk overhead of 64 KiB reads costs more than hashing does.
      const raw = createReadStream(file.absolute, { highWaterMark: 1 << 20 });
      raw.on('data', (chunk) => {
        bytes += chunk.length;
        hash.update(chunk as Buffer);
      });
      // Large chunks out too: at 16 KiB the callbacks and garbage cost twice what inflating does.
      const text = raw.pipe(createGunzip({ chunkSize: 1 << 20 }));
      await new Promise<void>((resolvePromise, reject) => {
        raw.on('error', reject);
        text.on('error', reject);
        text.on('end', () => resolvePromise());
        text.on('data', count);
      });
    } else {
      // One buffer, read into again and again: a stream allocates a new one per chunk, and at
      // 1x LLR that allocation and its garbage cost four times the CPU of the reads themselves.
      const buffer = Buffer.allocUnsafe(1 << 20);
      const handle = await open(file.absolute, 'r');
      try {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
          if (!bytesRead) break;
          const chunk = buffer.subarray(0, bytesRead);
          bytes += bytesRead;
          hash.update(chunk);
          count(chunk);
        }
      } finally {
        await handle.close();
      }
    }
    if (lineHasContent) lines++;
    else if (lineLength > 0) blankLines++;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    unreadable =
      code.startsWith('Z_') || /unexpected end|incorrect header|invalid/i.test(String(err))
        ? 'the gzip file is damaged or truncated'
        : 'the file cannot be read';
  }
  if (!unreadable && sawNul) unreadable = 'the file holds binary data, not CSV text';
  if (!unreadable && bytes === 0) unreadable = 'the file is empty (no header line)';
  const wrongHeader = headerProblem(file, Uint8Array.from(headerBytes));
  if (!unreadable && wrongHeader) unreadable = wrongHeader;
  return {
    bytes,
    sha256: hash.digest('hex'),
    lines,
    blankLines,
    unreadable,
  };
}
