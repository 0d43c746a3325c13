// The output stages' steps: what users receive, each step logging what it wrote and handing
// on its typed result. Each practice gets its own patient-level risk list; commissioners,
// dashboards and the report get only disclosure-controlled aggregates, made from
// patient_list; nothing patient-level is written anywhere but a practice's own folder.
import { join } from 'node:path';
import { writeCommissionerSummaries } from './commissioner.ts';
import { writeDashboardFeeds } from './dashboard.ts';
import { writeFileDurable } from './files.ts';
import { modelCard } from './model-card.ts';
import { writePracticeLists } from './practice-lists.ts';
import { writeReport } from './report.ts';
import type { RunContext, RunResults } from './stage.ts';

export async function practiceListsStep(ctx: RunContext): Promise<Partial<RunResults>> {
  const lists = await writePracticeLists(ctx);
  ctx.log.info('practice lists written', {
    practices: lists.practices,
    patients: lists.patients,
    seconds: round2(lists.seconds),
  });
  return { practiceLists: lists };
}

export async function commissionerStep(ctx: RunContext): Promise<Partial<RunResults>> {
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
  return { commissioner: summaries };
}

/** Feeds come after, and only from, the disclosure-controlled tables. */
export async function dashboardStep(ctx: RunContext): Promise<Partial<RunResults>> {
  const dashboard = await writeDashboardFeeds(ctx);
  ctx.log.info('dashboard feeds written', { feeds: Object.keys(dashboard.feeds).length });
  return { dashboard };
}

export async function reportStep(ctx: RunContext): Promise<Partial<RunResults>> {
  const report = await writeReport(ctx);
  ctx.log.info('report written', { bytes: report.bytes });
  return { report };
}

export async function modelCardStep(ctx: RunContext): Promise<void> {
  const models = ctx.results.models;
  if (!models) throw new Error('the model card needs the fitted models');
  writeFileDurable(
    join(ctx.runDir, 'model-card.md'),
    models.available
      ? modelCard(ctx, models.summary, models.validation, models.applied)
      : `# Model card\n\nNo models were fitted in this run: ${models.reason}.\n\nThe predicted high cost cohort, the risk tiers and the admission risk are not available; the multimorbidity and frailty cohorts do not depend on the models and are published as usual.\n`,
  );
}

const round2 = (x: number) => Math.round(x * 100) / 100;
