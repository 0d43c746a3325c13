// The ingest stage as the pipeline runs it: the delivery loaded and its summary and
// quarantines handed on, and later, once registrations are staged, the practices
// none of whose registrations could be used quarantined too.
import type { DeliveryManifest } from './contract.ts';
import { queryRows } from './db.ts';
import type { Delivery } from './delivery.ts';
import { deliveryFingerprint } from './fingerprint.ts';
import { ingest } from './ingest.ts';
import { removeFiles } from './raw-tables.ts';
import type { IngestResult, RunContext, RunResults } from './stage.ts';

export type DeliverySummary = Pick<DeliveryManifest, 'extract_date' | 'source_system' | 'schema_version'> & {
  /** One hash over every input file's path and content: equal fingerprints, equal inputs. */
  fingerprint: string;
  ignored: Delivery['ignored'];
};

export async function ingestStage(ctx: RunContext): Promise<Partial<RunResults>> {
  ctx.ingest = await ingest(ctx.instance, ctx.deliveryDir, ctx.log, {
    concurrency: ctx.config.resources.concurrency,
    mode: ctx.config.resources.ingestMode,
    progress: ctx.progress,
  });
  const { manifest } = ctx.ingest.delivery;
  return {
    delivery: {
      extract_date: manifest.extract_date,
      source_system: manifest.source_system,
      schema_version: manifest.schema_version,
      // The scans hashed every file they read whole: those hashes are not made again.
      fingerprint: await deliveryFingerprint(
        ctx.deliveryDir,
        new Map(
          ctx.ingest.files.flatMap((f) =>
            f.scan && !f.scan.unreadable ? [[f.file.path, f.scan.sha256]] : [],
          ),
        ),
      ),
      ignored: ctx.ingest.delivery.ignored,
    },
    quarantined: quarantinedPractices(ctx.ingest),
    quarantinedFiles: ctx.ingest.quarantinedFiles,
  };
}

const quarantinedPractices = (ingest: IngestResult) =>
  ingest.quarantined.map((q) => ({ practice_code: q.practiceCode, reason: q.reason }));

/**
 * After registrations are staged: a practice that sent a patients file none of whose lines
 * could be used would otherwise vanish from every output with a zero count. It is quarantined
 * instead, with the reasons its lines were set aside, before its events are staged.
 */
export async function quarantineUnregisteredPractices(ctx: RunContext): Promise<Partial<RunResults>> {
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
  if (!empty.length) return {};
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
  return { quarantined: quarantinedPractices(ingest) };
}
