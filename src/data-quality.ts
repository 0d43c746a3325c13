// The data-quality report: for every input file, lines = loaded + rejected, what staging
// dropped and why, and per practice and delivery totals. Counts, file names and reasons
// only: never a patient identifier or a row's contents.
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from './db.ts';
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

export function practiceSummary(inputs: InputReport[], practiceCodes: string[]): PracticeQuality[] {
  return practiceCodes.map((code) => {
    const mine = inputs.filter((i) => i.practice_code === code);
    const sum = (f: (i: InputReport) => number) => mine.reduce((s, i) => s + f(i), 0);
    const dropped = sum((i) => Object.values(i.dropped).reduce((a, b) => a + b, 0));
    return {
      practice_code: code,
      status: !mine.length
        ? 'no extract'
        : mine.some((i) => i.status === 'quarantined')
          ? 'quarantined'
          : 'loaded',
      lines: sum((i) => i.lines),
      loaded: sum((i) => i.loaded),
      rejected: sum((i) => i.rejected),
      dropped,
      kept: sum((i) => i.loaded) - dropped,
    };
  });
}

export async function recordDataQuality(ctx: RunContext): Promise<void> {
  const inputs = await inputReports(ctx.conn, ctx);
  const practiceCodes = (
    await queryRows<{ practice_code: string }>(ctx.conn, 'select practice_code from stg_practice order by 1')
  ).map((r) => r.practice_code);
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
  ctx.manifest.inputs = inputs;
  ctx.manifest.data_quality = {
    totals: { ...totals, kept: totals.loaded - totals.dropped },
    dropped_by_reason: droppedByReason,
    snomed_check_digit_valid_share: c.observations ? 1 - c.invalid_snomed / c.observations : null,
    invalid_icd10_codes_removed: c.invalid_diagnoses,
    activity_unit_costed: c.unit_costed,
    date_ranges: ranges,
    practices: practiceSummary(inputs, practiceCodes),
  };
}
