// `strata validate`: ingest and staging only, in a throwaway work database, so a data
// manager can check an extract before a full run. Nothing is published.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stages } from '../pipeline/stages.ts';
import type { Config } from './config.ts';
import type { InputReport, PracticeQuality } from './data-quality.ts';
import { fileBacked, openConfiguredWorkDb, runSqlFile } from './db.ts';
import { EXIT } from './errors.ts';
import type { Logger } from './log.ts';
import { noProgress } from './progress.ts';
import { newRunContext, walkStages } from './stage.ts';

export interface ValidationReport {
  extract_date: string;
  /** Patients eligible on the extract date, when asked for. */
  eligible: number | null;
  exit_code: number;
  quarantined: { practice_code: string; reason: string }[];
  quarantined_files: { path: string; reason: string }[];
  totals: { lines: number; loaded: number; rejected: number; dropped: number; kept: number };
  dropped_by_reason: Record<string, number>;
  practices: PracticeQuality[];
  inputs: InputReport[];
}

export async function validateDelivery(
  deliveryDir: string,
  config: Config,
  log: Logger,
  opts: { throughPopulation?: boolean } = {},
): Promise<ValidationReport> {
  const work = mkdtempSync(join(tmpdir(), 'strata-validate-'));
  const delivery = resolve(deliveryDir);
  // The run's own settings: the same delivery checked in the same memory as it would be run.
  const instance = await openConfiguredWorkDb(config.resources, work, [delivery, work]);
  const conn = await instance.connect();
  const ctx = newRunContext({
    instance,
    conn,
    config,
    log,
    progress: noProgress,
    runId: 'validate',
    asOf: '',
    deliveryDir: delivery,
    outDir: work,
    runDir: work,
    softwareVersion: '',
    startedAt: new Date(),
    keepRuns: config.retention.keepRuns,
  });
  let eligible: number | null = null;
  try {
    await walkStages(stages, ctx, { through: 'staging', fileBacked: fileBacked(config.resources) });
    if (opts.throughPopulation) {
      await runSqlFile(conn, 'intermediate/population.sql');
      const rows = await conn.runAndReadAll("select count(*) from population where ref = 'current'");
      eligible = Number(rows.getRows()[0]![0]);
    }
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(work, { recursive: true, force: true });
  }
  const { quarantined, quarantinedFiles } = ctx.results;
  const dq = ctx.results.dataQuality!;
  return {
    extract_date: ctx.asOf,
    eligible,
    exit_code: quarantined.length || quarantinedFiles.length ? EXIT.quarantined : EXIT.ok,
    quarantined_files: quarantinedFiles,
    quarantined,
    totals: dq.totals,
    dropped_by_reason: dq.droppedByReason,
    practices: dq.practices,
    inputs: dq.inputs,
  };
}

/** The report as a person reads it at a terminal. */
export function formatValidation(r: ValidationReport): string {
  const n = (x: number) => x.toLocaleString('en-GB');
  const lines: string[] = [];
  lines.push(`Delivery extracted ${r.extract_date}`);
  lines.push(
    `  ${n(r.totals.lines)} data lines: ${n(r.totals.loaded)} loaded, ${n(r.totals.rejected)} rejected; ` +
      `${n(r.totals.dropped)} dropped in cleaning; ${n(r.totals.kept)} kept`,
  );
  if (Object.keys(r.dropped_by_reason).length) {
    lines.push('  dropped:');
    for (const [k, v] of Object.entries(r.dropped_by_reason).sort((a, b) => b[1] - a[1]))
      lines.push(`    ${k.padEnd(40)} ${n(v)}`);
  }
  lines.push('');
  lines.push(
    `${'practice'.padEnd(10)} ${'status'.padEnd(12)} ${'lines'.padStart(10)} ${'rejected'.padStart(9)} ${'dropped'.padStart(9)}`,
  );
  for (const p of r.practices)
    lines.push(
      `${p.practice_code.padEnd(10)} ${p.status.padEnd(12)} ${n(p.lines).padStart(10)} ${n(p.rejected).padStart(9)} ${n(p.dropped).padStart(9)}`,
    );
  const withRejects = r.inputs.filter((i) => i.rejected > 0);
  if (withRejects.length) {
    lines.push('');
    lines.push('Rejected lines (first line numbers, counted from the header as line 1):');
    for (const i of withRejects)
      lines.push(
        `  ${i.path}: ${Object.entries(i.rejected_by_reason)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}; lines ${i.first_rejected_lines.join(', ')}`,
      );
  }
  if (r.quarantined.length) {
    lines.push('');
    lines.push(`${r.quarantined.length} practice(s) could not be processed:`);
    for (const q of r.quarantined) lines.push(`  ${q.practice_code}: ${q.reason}`);
  }
  if (r.quarantined_files.length) {
    lines.push('');
    lines.push(`${r.quarantined_files.length} secondary-care file(s) could not be read:`);
    for (const q of r.quarantined_files) lines.push(`  ${q.path}: ${q.reason}`);
  }
  return lines.join('\n') + '\n';
}

export { EXIT };
