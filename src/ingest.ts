// Ingest: every line of every delivery file is either loaded into a raw_* table or
// recorded in rejected_line with its reason, and the two always add up to the lines the
// file holds (counted independently when the file is fingerprinted).
import { availableParallelism } from 'node:os';
import { DuckDBInstance, listValue, quotedIdentifier, type DuckDBConnection } from '@duckdb/node-api';
import { activityFile, ENCODING, medicationsFile, observationsFile, patientsFile } from './contract.ts';
import pLimit from 'p-limit';
import { openDelivery, peekFile, scanFile } from './delivery.ts';
import { queryRows } from './db.ts';
import { DeliveryError, IntegrityError } from './errors.ts';
import type { Logger } from './log.ts';
import type { Progress } from './progress.ts';
import { createRawTable, loadKind, RAW_TABLE, removeFiles, type IngestMode } from './raw-tables.ts';
import type { IngestedFile, IngestResult } from './stage.ts';

export async function ingest(
  instance: DuckDBInstance,
  deliveryDir: string,
  log: Logger,
  opts: { concurrency: number; mode?: IngestMode; progress?: Progress },
): Promise<IngestResult> {
  const mode = opts.mode ?? 'set';
  const loadConcurrency = Math.max(
    1,
    Math.min(opts.concurrency, Number(process.env.UV_THREADPOOL_SIZE ?? 4)),
  );
  const first = openDelivery(deliveryDir);
  const conn = await instance.connect();
  try {
    await conn.run(`create or replace table delivery_file (
      file_id INTEGER primary key, path VARCHAR, absolute_path VARCHAR, kind VARCHAR, practice_code VARCHAR,
      gzip BOOLEAN, bytes BIGINT, sha256 VARCHAR, lines BIGINT, blank_lines BIGINT, resent_of VARCHAR,
      status VARCHAR, reason VARCHAR, loaded BIGINT, rejected BIGINT)`);
    await conn.run(
      `create or replace table rejected_line (file_id INTEGER, line BIGINT, column_name VARCHAR, error_type VARCHAR)`,
    );

    // Reference files first: the practice list decides which practice folders are read.
    const refFiles = [first.reference.practices, first.reference.lsoa];
    const refScans = await Promise.all(refFiles.map(scanFile));
    refScans.forEach((s, i) => {
      if (s.unreadable) throw new DeliveryError(`${refFiles[i]!.path}: ${s.unreadable}`);
    });
    const refIngested: IngestedFile[] = refFiles.map((file, i) => ({
      fileId: i + 1,
      file,
      scan: refScans[i]!,
      resentOf: null,
      status: 'loaded',
      reason: null,
      loaded: 0,
      rejected: 0,
    }));
    await recordFiles(conn, refIngested);
    for (const f of refIngested) await loadKind(instance, conn, f.file.contract, [f], 'set', 1);
    for (const f of refIngested) await checkReference(conn, f);
    const practiceCodes = new Set(
      (
        await queryRows<{ code: string }>(
          conn,
          'select distinct practice_code as code from raw_practices where practice_code is not null',
        )
      ).map((r) => r.code),
    );
    if (!practiceCodes.size) throw new DeliveryError('reference/practices.csv lists no practices');

    const delivery = openDelivery(deliveryDir, practiceCodes);
    const withFolder = new Set([
      ...delivery.practiceFiles.map((f) => f.practiceCode),
      ...delivery.quarantined.map((q) => q.practiceCode),
    ]);
    if (!withFolder.size && !delivery.activityFiles.length)
      throw new DeliveryError('the delivery holds no practice extracts and no secondary-care files');
    if (!withFolder.size) throw new DeliveryError('the delivery holds no practice extracts');
    // A listed practice that sent nothing is not processed, and the run says so.
    for (const code of [...practiceCodes].sort())
      if (!withFolder.has(code))
        delivery.quarantined.push({ practiceCode: code, reason: 'no extract in this delivery' });
    const dataFiles = [...delivery.practiceFiles, ...delivery.activityFiles];
    log.info('delivery opened', {
      practices: new Set(delivery.practiceFiles.map((f) => f.practiceCode)).size,
      files: dataFiles.length,
      quarantined_before_reading: delivery.quarantined.length,
    });

    // First the start of every file: one that is empty, binary or has the wrong header is
    // set aside before DuckDB reads it.
    const limit = pLimit(Math.max(1, opts.concurrency));
    opts.progress?.start('ingest: reading files', dataFiles.length + 4);
    const peeks = await Promise.all(dataFiles.map((f) => limit(() => peekFile(f))));
    const quarantined = new Map<string, string>(delivery.quarantined.map((q) => [q.practiceCode, q.reason]));
    const files: IngestedFile[] = dataFiles.map((file, i) => ({
      fileId: refIngested.length + i + 1,
      file,
      scan: null,
      resentOf: null,
      status: 'loaded',
      reason: null,
      loaded: 0,
      rejected: 0,
    }));
    // The first reason found stands, unless the new one is known to be more precise.
    const setAside = (f: IngestedFile, why: string, how: { override?: boolean } = {}) => {
      if (f.file.practiceCode) {
        if (how.override || !quarantined.has(f.file.practiceCode))
          quarantined.set(f.file.practiceCode, `${f.file.path}: ${why}`);
      } else if (how.override || f.status !== 'quarantined') {
        f.status = 'quarantined';
        f.reason = why;
      }
    };
    files.forEach((f, i) => peeks[i]!.unreadable && setAside(f, peeks[i]!.unreadable!));

    // A resent file can only be the size of another file of its kind: those few are hashed
    // now, so that a copy is never read twice.
    const scanned = async (f: IngestedFile) => {
      f.scan = await scanFile(f.file);
      opts.progress?.tick();
      // The scan's reason is more precise than a parse failure DuckDB may also have met.
      if (f.scan.unreadable) setAside(f, f.scan.unreadable, { override: true });
    };
    const bySize = new Map<string, IngestedFile[]>();
    files.forEach((f, i) => {
      if (peeks[i]!.unreadable) return;
      const key = `${f.file.contract.name}:${peeks[i]!.bytes}`;
      bySize.set(key, [...(bySize.get(key) ?? []), f]);
    });
    const sameSize = [...bySize.values()].filter((group) => group.length > 1).flat();
    await Promise.all(sameSize.map((f) => limit(() => scanned(f))));
    const seen = new Map<string, string>();
    for (const f of sameSize) {
      if (f.scan!.unreadable) continue;
      const key = `${f.file.contract.name}:${f.scan!.sha256}`;
      f.resentOf = seen.get(key) ?? null;
      if (!f.resentOf) seen.set(key, f.file.path);
    }
    const markQuarantined = () => {
      for (const f of files) {
        if (f.file.practiceCode && quarantined.has(f.file.practiceCode) && f.status !== 'quarantined') {
          f.status = 'quarantined';
          f.reason = quarantined.get(f.file.practiceCode)!;
        }
      }
    };
    markQuarantined();
    await recordFiles(conn, files);

    // The rest are hashed and counted while DuckDB loads them: the scan runs on this thread,
    // the load on DuckDB's.
    const load = async () => {
      for (const contract of [patientsFile, observationsFile, medicationsFile, activityFile]) {
        // A resent file is byte for byte its original: it is not read again (see below).
        const ofKind = files.filter(
          (f) => f.file.contract === contract && f.status === 'loaded' && !f.resentOf,
        );
        const started = Date.now();
        try {
          await loadKind(instance, conn, contract, ofKind, mode, loadConcurrency);
        } catch {
          // A file DuckDB cannot read at all must not stop the others: load the kind again
          // file by file and quarantine what fails. DuckDB's message may quote the data, so
          // it is not repeated.
          log.warn('a file could not be parsed; loading this kind file by file', { kind: contract.name });
          await createRawTable(conn, contract);
          await conn.run('delete from rejected_line where list_contains($ids, file_id)', {
            ids: listValue(ofKind.map((f) => f.fileId)),
          });
          for (const f of ofKind) {
            try {
              await loadKind(instance, conn, contract, [f], 'set', 1, { append: true });
            } catch {
              setAside(f, 'DuckDB could not parse the file (for example a line far beyond any sane length)');
            }
          }
        }
        opts.progress?.tick();
        log.debug('loaded', {
          kind: contract.name,
          files: ofKind.length,
          seconds: (Date.now() - started) / 1000,
        });
      }
    };
    const scanRest = () => Promise.all(files.filter((f) => !f.scan).map((f) => limit(() => scanned(f))));
    await Promise.all([load(), scanRest()]);
    markQuarantined();

    // Reconcile: lines = loaded + rejected, file by file.
    const all = [...refIngested, ...files];
    const counts = await queryRows<{ file_id: number; loaded: number; rejected: number }>(
      conn,
      `with loaded as (
         select file_id, count(*) as n from raw_patients group by all
         union all select file_id, count(*) from raw_observations group by all
         union all select file_id, count(*) from raw_medications group by all
         union all select file_id, count(*) from raw_activity group by all
         union all select file_id, count(*) from raw_practices group by all
         union all select file_id, count(*) from raw_lsoa group by all),
       -- DuckDB records one reject per error, and a line can have several: count lines.
       rejected as (select file_id, count(distinct line) as n from rejected_line group by all)
       select df.file_id, coalesce(l.n, 0) as loaded, coalesce(r.n, 0) as rejected
       from delivery_file df left join loaded l using (file_id) left join rejected r using (file_id)`,
    );
    const byId = new Map(counts.map((c) => [c.file_id, c]));
    // A resent file holds exactly its original's lines, so it has the original's counts and
    // rejected lines; staging then drops all of its rows as a resent copy.
    const byPath = new Map(all.map((f) => [f.file.path, f]));
    for (const f of all) {
      if (!f.resentOf || f.status !== 'loaded') continue;
      const original = byPath.get(f.resentOf)!;
      byId.set(f.fileId, { ...byId.get(original.fileId)!, file_id: f.fileId });
      await conn.run(
        `insert into rejected_line select $copy, line, column_name, error_type from rejected_line where file_id = $original`,
        { copy: f.fileId, original: original.fileId },
      );
    }
    for (const f of all) {
      const c = byId.get(f.fileId)!;
      f.loaded = c.loaded;
      f.rejected = c.rejected;
      if (f.status !== 'loaded' || !f.scan) continue;
      if (f.loaded + f.rejected === f.scan.lines) continue;
      const why = `lines do not reconcile: ${f.scan.lines} data lines, ${f.loaded} loaded, ${f.rejected} rejected (an unclosed quote, a line too long to parse, or unreadable text)`;
      if (f.file.practiceCode) quarantined.set(f.file.practiceCode, `${f.file.path}: ${why}`);
      else if (f.file.contract === activityFile) {
        f.status = 'quarantined';
        f.reason = why;
      } else throw new IntegrityError(`${f.file.path}: ${why}`);
    }
    markQuarantined();

    await removeFiles(
      conn,
      all.filter((f) => f.status === 'quarantined').map((f) => f.fileId),
      ['raw_patients', 'raw_observations', 'raw_medications', 'raw_activity'],
    );
    // The scans finished after the files were first recorded: record them again, complete.
    await conn.run('delete from delivery_file');
    await recordFiles(conn, all);
    for (const [code, reason] of quarantined)
      log.warn('practice quarantined', { practice_code: code, reason });
    const quarantinedFiles = all
      .filter((f) => f.status === 'quarantined' && !f.file.practiceCode)
      .map((f) => ({ path: f.file.path, reason: f.reason ?? '' }));
    for (const f of quarantinedFiles) log.warn('file quarantined', { path: f.path, reason: f.reason });
    return {
      delivery,
      files: all,
      quarantined: [...quarantined].map(([practiceCode, reason]) => ({ practiceCode, reason })),
      quarantinedFiles,
    };
  } finally {
    conn.closeSync();
  }
}

/** DuckDB's reasons for rejecting a line, as the person fixing the file needs them. */
const REJECTION: Record<string, string> = {
  'INVALID ENCODING': `is not ${ENCODING} text (save the file as ${ENCODING})`,
  CAST: 'holds a value of the wrong type',
  'TOO MANY COLUMNS': 'has too many fields',
  'MISSING COLUMNS': 'has too few fields',
  'LINE SIZE OVER MAXIMUM': 'is too long',
};

/**
 * A reference file is read whole or not at all: it decides which practices are processed and
 * where each patient lives, so a line lost from it would quietly lose a practice or an area.
 * The messages name lines and columns, never a value.
 */
async function checkReference(conn: DuckDBConnection, f: IngestedFile): Promise<void> {
  const { contract, path } = f.file;
  const rejected = await queryRows<{ line: number; error_type: string; column_name: string | null }>(
    conn,
    'select line, error_type, column_name from rejected_line where file_id = $id order by line limit 1',
    { id: f.fileId },
  );
  if (rejected.length) {
    const r = rejected[0]!;
    const why = REJECTION[r.error_type] ?? `cannot be read (${r.error_type.toLowerCase()})`;
    throw new DeliveryError(
      `${path}: line ${r.line} ${why}${r.column_name ? ` in column ${r.column_name}` : ''}; a reference file must be read whole`,
    );
  }
  const table = quotedIdentifier(RAW_TABLE[contract.name]!);
  const columns = Object.entries(contract.columns);
  const checks = columns.map(
    ([name], i) =>
      `count(*) filter (where ${quotedIdentifier(name)} is null or not regexp_full_match(${quotedIdentifier(name)}::VARCHAR, $pattern_${i}))::INTEGER as ${quotedIdentifier(name)}`,
  );
  const [counts] = await queryRows<Record<string, number>>(
    conn,
    `select count(*)::INTEGER as ${quotedIdentifier('(records)')}, ${checks.join(', ')} from ${table} where file_id = $id`,
    { id: f.fileId, ...Object.fromEntries(columns.map(([, c], i) => [`pattern_${i}`, c.pattern])) },
  );
  const records = counts!['(records)']!;
  if (records !== f.scan!.lines)
    throw new DeliveryError(
      `${path}: ${f.scan!.lines} data lines hold ${records} records: a line break inside a quoted value, or a quote never closed; a reference file holds one record per line`,
    );
  const wrong = Object.keys(contract.columns).filter((name) => counts![name]! > 0);
  if (wrong.length)
    throw new DeliveryError(
      `${path}: ${wrong.map((name) => `${counts![name]} row(s) whose ${name} does not meet the contract (${contract.columns[name]!.description})`).join('; ')}; a reference file must be read whole`,
    );
}

async function recordFiles(conn: DuckDBConnection, files: IngestedFile[]): Promise<void> {
  const appender = await conn.createAppender('delivery_file');
  for (const f of files) {
    appender.appendInteger(f.fileId);
    appender.appendVarchar(f.file.path);
    appender.appendVarchar(f.file.absolute);
    appender.appendVarchar(f.file.contract.name);
    if (f.file.practiceCode) appender.appendVarchar(f.file.practiceCode);
    else appender.appendNull();
    appender.appendBoolean(f.file.gzip);
    appender.appendBigInt(BigInt(f.scan?.bytes ?? 0));
    appender.appendVarchar(f.scan?.sha256 ?? '');
    appender.appendBigInt(BigInt(f.scan?.lines ?? 0));
    appender.appendBigInt(BigInt(f.scan?.blankLines ?? 0));
    if (f.resentOf) appender.appendVarchar(f.resentOf);
    else appender.appendNull();
    appender.appendVarchar(f.status);
    if (f.reason) appender.appendVarchar(f.reason);
    else appender.appendNull();
    appender.appendBigInt(BigInt(f.loaded));
    appender.appendBigInt(BigInt(f.rejected));
    appender.endRow();
  }
  appender.closeSync();
}

export function defaultConcurrency(): number {
  return Math.min(Number(process.env.UV_THREADPOOL_SIZE ?? 4), availableParallelism() * 2);
}
