// What users receive: each practice its own patient-level risk list, commissioners
// disclosure-controlled aggregates. Both come from patient_list; nothing patient-level is
// written anywhere but a practice's own folder.
import { writeCommissionerSummaries } from './commissioner.ts';
import { writeDashboardFeeds } from './dashboard.ts';
import { writePracticeLists } from './practice-lists.ts';
import { writeReport } from './report.ts';
import type { RunContext } from './stage.ts';

export async function writeOutputs(ctx: RunContext): Promise<void> {
  // The lists and the aggregates share nothing but patient_list: written side by side, each
  // on its own connection, the lists' one-thread writers and file flushes fill the gaps.
  const listConnection = await ctx.instance.connect();
  // Both finish before a failure of either is reported, so nothing writes after the run ends.
  const [written, aggregates] = await Promise.allSettled([
    writePracticeLists({ ...ctx, conn: listConnection }).finally(() => listConnection.closeSync()),
    writeAggregates(ctx),
  ]);
  if (written.status === 'rejected') throw written.reason;
  if (aggregates.status === 'rejected') throw aggregates.reason;
  const lists = written.value;
  ctx.log.info('practice lists written', {
    practices: lists.practices,
    patients: lists.patients,
    seconds: round2(lists.seconds),
  });
  ctx.manifest.practice_lists = { practices: lists.practices, patients: lists.patients };
}

async function writeAggregates(ctx: RunContext): Promise<void> {
  const summaries = await writeCommissionerSummaries(ctx);
  ctx.log.info('commissioner summaries written', {
    cells: summaries.cells,
    suppressed: summaries.suppressed,
    seconds: round2(summaries.seconds),
  });
  const audit = summaries.audit;
  ctx.log.info('disclosure audit passed', {
    suppressed_by_audit: audit.added,
    rounds: audit.rounds,
    figures_examined: audit.examined,
    certified_in_bulk: audit.certifiedInBulk,
    lps: audit.lps,
    seconds: round2(audit.seconds),
  });
  if (audit.withheld.length)
    ctx.log.warn('commissioner tables withheld: no suppression pattern passed the disclosure audit', {
      tables: audit.withheld.join(', '),
    });
  ctx.manifest.commissioner = {
    tables: summaries.tables,
    cells: summaries.cells,
    suppressed: summaries.suppressed,
    withheld: audit.withheld,
    audit: {
      suppressed_by_audit: audit.added,
      rounds: audit.rounds,
      figures_examined: audit.examined,
      certified_in_bulk: audit.certifiedInBulk,
      lps: audit.lps,
    },
  };
  // The audit's time is in the log line above: the manifest records what a run found, which
  // is the same on every run of the same delivery; stage times are in its timings.
  // Feeds and report come after, and only from, the disclosure-controlled tables.
  const dashboard = await writeDashboardFeeds(ctx);
  ctx.log.info('dashboard feeds written', { feeds: Object.keys(dashboard.feeds).length });
  ctx.manifest.dashboard = { feeds: dashboard.feeds };
  const report = await writeReport(ctx);
  ctx.log.info('report written', { bytes: report.bytes });
}

const round2 = (x: number) => Math.round(x * 100) / 100;
