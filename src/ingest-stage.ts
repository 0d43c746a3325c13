// The ingest stage as the pipeline runs it: the delivery loaded and its summary and
// quarantines put in the manifest, and later, once registrations are staged, the practices
// none of whose registrations could be used quarantined too.
import { createHash } from 'node:crypto';
import { queryRows } from './db.ts';
import { ingest } from './ingest.ts';
import { removeFiles } from './raw-tables.ts';
import type { IngestedFile, RunContext } from './stage.ts';

export async function ingestStage(ctx: RunContext): Promise<void> {
  ctx.ingest = await ingest(ctx.instance, ctx.deliveryDir, ctx.log, {
    concurrency: ctx.config.resources.concurrency,
    mode: ctx.config.resources.ingestMode,
    progress: ctx.progress,
  });
  ctx.manifest.delivery = {
    extract_date: ctx.ingest.delivery.manifest.extract_date,
    source_system: ctx.ingest.delivery.manifest.source_system,
    schema_version: ctx.ingest.delivery.manifest.schema_version,
    fingerprint: deliveryFingerprint(ctx.ingest.files),
    ignored: ctx.ingest.delivery.ignored,
  };
  ctx.manifest.quarantined = ctx.ingest.quarantined.map((q) => ({
    practice_code: q.practiceCode,
    reason: q.reason,
  }));
  ctx.manifest.quarantined_files = ctx.ingest.quarantinedFiles;
}

/** One hash over every input file's path and content hash: equal fingerprints, equal inputs. */
export function deliveryFingerprint(files: IngestedFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.file.path.localeCompare(b.file.path)))
    h.update(`${f.file.path}\0${f.scan?.sha256 ?? ''}\n`);
  return h.digest('hex');
}

/**
 * After registrations are staged: a practice that sent a patients file none of whose lines
 * could be used would otherwise vanish from every output with a zero count. It is quarantined
 * instead, with the reasons its lines were set aside, before its events are staged.
 */
export async function quarantineUnregisteredPractices(ctx: RunContext): Promise<void> {
  const { conn } = ctx;
  const empty = await queryRows<{
    practice_code: string;
    path: string;
    lines: number;
    reasons: string | null;
  }>(
    conn,
    `with set_aside as (
       select file_id, reason, rows::BIGINT as n from dropped_row
       union all
       select file_id, 'rejected: ' || lower(error_type), count(distinct line) from rejected_line group by all
     ),
     reasons as (
       select file_id, string_agg(n || ' ' || reason, ', ' order by n desc, reason) as reasons
       from (select file_id, reason, sum(n) as n from set_aside group by all)
       group by all
     )
     select df.practice_code, df.path, df.lines, r.reasons
     from delivery_file df
     left join reasons r using (file_id)
     where df.kind = 'patients' and df.status = 'loaded'
       and df.file_id not in (select file_id from stg_registration)
     order by df.practice_code`,
  );
  if (!empty.length) return;
  const ingest = ctx.ingest!;
  for (const e of empty) {
    const reason =
      e.lines === 0
        ? `${e.path}: the file holds no registrations`
        : `${e.path}: none of its ${e.lines} registrations can be used (${e.reasons ?? 'none loaded'})`;
    const files = ingest.files.filter((f) => f.file.practiceCode === e.practice_code);
    for (const f of files) {
      f.status = 'quarantined';
      f.reason = reason;
    }
    await removeFiles(
      conn,
      files.map((f) => f.fileId),
      ['raw_observations', 'raw_medications', 'dropped_row'],
    );
    await conn.run(
      `update delivery_file set status = 'quarantined', reason = $reason where practice_code = $practice`,
      { reason, practice: e.practice_code },
    );
    ingest.quarantined.push({ practiceCode: e.practice_code, reason });
    ctx.log.warn('practice quarantined', { practice_code: e.practice_code, reason });
  }
  ctx.manifest.quarantined = ingest.quarantined.map((q) => ({
    practice_code: q.practiceCode,
    reason: q.reason,
  }));
}
