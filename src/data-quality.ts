// The data-quality report: for every input file, lines = loaded + rejected, what staging
// dropped and why, and per practice and delivery totals. Counts, file names and reasons
// only: never a patient identifier or a row's contents.
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, type Row } from './db.ts';
import { IntegrityError } from './errors.ts';
import type { RunContext } from './stage.ts';

export interface InputReport {
  path: string;
  practice_code: string | null;
  kind: string;
  lines: number;
  blank_lines: number;
  loaded: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  dropped: Record<string, number>;
  status: 'loaded' | 'quarantined';
  reason: string | null;
  resent_of: string | null;
  first_rejected_lines: number[];
}

export async function inputReports(conn: DuckDBConnection, ctx: RunContext): Promise<InputReport[]> {
  const files = await queryRows<{
    file_id: number;
    path: string;
    practice_code: string | null;
    kind: string;
    lines: number;
    blank_lines: number;
    status: 'loaded' | 'quarantined';
    reason: string | null;
    resent_of: string | null;
  }>(
    conn,
    'select file_id, path, practice_code, kind, lines, blank_lines, status, reason, resent_of from delivery_file order by path',
  );
  const rejected = await queryRows<{ file_id: number; reason: string; n: number; first_lines: number[] }>(
    conn,
    `select file_id, error_type || coalesce(' (' || column_name || ')', '') as reason, count(distinct line) as n,
            list(distinct line order by line)[1:5] as first_lines
     from rejected_line group by all order by file_id, reason`,
  );
  const dropped = await queryRows<{ file_id: number; reason: string; n: number }>(
    conn,
    // Ordered, so the manifest lists the reasons in the same order on every run.
    'select file_id, reason, sum(rows)::BIGINT as n from dropped_row group by all order by file_id, reason',
  );
  const byFile = new Map(ctx.ingest!.files.map((f) => [f.fileId, f]));
  return files.map((f) => {
    const ing = byFile.get(f.file_id);
    const rej = rejected.filter((r) => r.file_id === f.file_id);
    const report: InputReport = {
      path: f.path,
      practice_code: f.practice_code,
      kind: f.kind,
      lines: f.lines,
      blank_lines: f.blank_lines,
      loaded: ing?.loaded ?? 0,
      rejected: ing?.rejected ?? 0,
      rejected_by_reason: Object.fromEntries(rej.map((r) => [r.reason, r.n])),
      dropped: Object.fromEntries(dropped.filter((d) => d.file_id === f.file_id).map((d) => [d.reason, d.n])),
      status: f.status,
      reason: f.reason,
      resent_of: f.resent_of,
      first_rejected_lines: rej
        .flatMap((r) => r.first_lines.map(Number))
        .sort((a, b) => a - b)
        .slice(0, 5),
    };
    if (report.status === 'loaded') {
      if (report.loaded + report.rejected !== report.lines)
        throw new IntegrityError(
          `${report.path}: ${report.lines} lines but ${report.loaded} loaded and ${report.rejected} rejected`,
        );
      const droppedTotal = Object.values(report.dropped).reduce((a, b) => a + b, 0);
      if (droppedTotal > report.loaded)
        throw new IntegrityError(`${report.path}: more rows dropped than loaded`);
    }
    return report;
  });
}

export interface PracticeQuality {
  practice_code: string;
  status: 'loaded' | 'quarantined' | 'no extract';
  lines: number;
  loaded: number;
  rejected: number;
  dropped: number;
  kept: number;
}

export interface DataQuality {
  inputs: InputReport[];
  totals: { lines: number; loaded: number; rejected: number; dropped: number; kept: number };
  droppedByReason: Record<string, number>;
  snomedCheckDigitValidShare: number | null;
  invalidIcd10CodesRemoved: number;
  activityUnitCosted: number;
  dateRanges: { kind: string; earliest: string | null; latest: string | null }[];
  /** From the data_quality_by_practice mart. */
  practices: PracticeQuality[];
}

export async function recordDataQuality(ctx: RunContext): Promise<{ dataQuality: DataQuality }> {
  const inputs = await inputReports(ctx.conn, ctx);
  const practices = await queryRows<PracticeQuality & Row>(
    ctx.conn,
    'select practice_code, status, lines, loaded, rejected, dropped, kept from data_quality_by_practice order by practice_code',
  );
  const totals = inputs.reduce(
    (t, i) => ({
      lines: t.lines + i.lines,
      loaded: t.loaded + i.loaded,
      rejected: t.rejected + i.rejected,
      dropped: t.dropped + Object.values(i.dropped).reduce((a, b) => a + b, 0),
    }),
    { lines: 0, loaded: 0, rejected: 0, dropped: 0 },
  );
  const droppedByReason: Record<string, number> = {};
  for (const i of inputs)
    for (const [k, v] of Object.entries(i.dropped)) droppedByReason[k] = (droppedByReason[k] ?? 0) + v;
  const codes = await queryRows<{
    observations: number;
    invalid_snomed: number;
    activity: number;
    invalid_diagnoses: number;
    unit_costed: number;
  }>(
    ctx.conn,
    `select (select observations from observation_code_validity) as observations,
            (select invalid_snomed from observation_code_validity) as invalid_snomed,
            (select count(*) from stg_activity) as activity,
            (select coalesce(sum(invalid_diagnoses), 0) from stg_activity) as invalid_diagnoses,
            (select count_if(unit_costed) from stg_activity) as unit_costed`,
  );
  const c = codes[0]!;
  const ranges = await queryRows<{ kind: string; earliest: string | null; latest: string | null }>(
    ctx.conn,
    `select 'observations' as kind, min(recorded_date)::VARCHAR as earliest, max(recorded_date)::VARCHAR as latest from stg_observation
     union all select 'medications', min(issue_date)::VARCHAR, max(issue_date)::VARCHAR from stg_medication
     union all select 'activity', min(start_date)::VARCHAR, max(start_date)::VARCHAR from stg_activity`,
  );
  return {
    dataQuality: {
      inputs,
      totals: { ...totals, kept: totals.loaded - totals.dropped },
      droppedByReason,
      snomedCheckDigitValidShare: c.observations ? 1 - c.invalid_snomed / c.observations : null,
      invalidIcd10CodesRemoved: c.invalid_diagnoses,
      activityUnitCosted: c.unit_costed,
      dateRanges: ranges,
      practices,
    },
  };
}
