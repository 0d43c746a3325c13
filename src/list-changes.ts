// Change since the last run: the compared run's practice lists (the latest published run, or
// the one `strata run --since` names) are read back into the work database, so that
// sql/marts/list_changes.sql can say who is new to a cohort or tier at each practice and who
// left one. Everything patient-level stays in the work database and the practices' own
// folders; what leaves them is system-level counts, disclosure-controlled like any other.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quotedString } from '@duckdb/node-api';
import { queryRows } from './db.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import { ConfigError } from './errors.ts';
import { roundCount } from './disclosure.ts';
import { LAYOUT, latestRunId } from './publish.ts';
import type { RunContext, RunResults } from './stage.ts';

/** The cohorts and tiers a patient can join or leave, in the order the lists name them. */
export const CHANGE_ITEMS = [
  { item: 'multimorbidity', label: 'Multimorbidity' },
  { item: 'frailty', label: 'Frailty' },
  { item: 'high_cost', label: 'Predicted high cost' },
  { item: 'tier_very_high', label: 'Very high tier' },
  { item: 'tier_high', label: 'High tier' },
  { item: 'tier_moderate', label: 'Moderate tier' },
] as const;

export interface ListChangeSummary {
  /** The run compared with, or null when there was no earlier published run. */
  comparedWith: { runId: string; asOf: string } | null;
  /** Whether tiers and the predicted high cost cohort were compared (both runs had predictions). */
  predictionsCompared: boolean;
  /** System-level counts of patients who joined and left each item: null when suppressed. */
  counts: { item: string; label: string; joined: number | null; left: number | null }[];
}

/** A run id as `strata run` makes them: nothing that could reach outside OUT/runs. */
const RUN_ID = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

/**
 * The folder of the run to compare with: the one named, which must still be retained, or
 * the latest published run (null when there is none).
 */
export function comparedRunDir(outDir: string, since: string | undefined): string | null {
  const runs = join(outDir, LAYOUT.runs);
  if (since !== undefined) {
    if (!RUN_ID.test(since))
      throw new ConfigError(`--since ${since} is not a run id (like 20260331T090000Z-1a2b3c)`);
    const dir = join(runs, since);
    if (!existsSync(join(dir, 'manifest.json'))) {
      const kept = existsSync(runs) ? readdirSync(runs).sort() : [];
      throw new ConfigError(
        `--since ${since}: that run is not retained in ${runs}` +
          (kept.length ? ` (runs kept: ${kept.join(', ')})` : ' (no runs are kept there)'),
      );
    }
    return dir;
  }
  const latest = latestRunId(outDir);
  return latest ? join(runs, latest) : null;
}

const PREVIOUS_LIST_COLUMNS = `practice_code VARCHAR, pseudo_id VARCHAR, tier VARCHAR,
  multimorbidity_5plus BOOLEAN, frailty BOOLEAN, high_cost_3x BOOLEAN, predicted_cost_12m DOUBLE,
  conditions VARCHAR[], frailty_rules VARCHAR[]`;

/** Reads the compared run's practice lists into previous_list (empty when there is none). */
export async function loadComparedLists(ctx: RunContext): Promise<Partial<RunResults>> {
  const { conn } = ctx;
  const dir = comparedRunDir(ctx.outDir, ctx.since);
  const practices = dir ? join(dir, 'practices') : null;
  const lists =
    practices && existsSync(practices)
      ? readdirSync(practices).filter((p) => existsSync(join(practices, p, 'risk-list.parquet')))
      : [];
  await conn.run(`create or replace table previous_list (${PREVIOUS_LIST_COLUMNS})`);
  let comparedWith: ListChangeSummary['comparedWith'] = null;
  if (dir && lists.length) {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
      run_id: string;
      as_of: string;
    };
    comparedWith = { runId: manifest.run_id, asOf: manifest.as_of };
    const split = (column: string) =>
      `case when coalesce(${column}, '') = '' then []::VARCHAR[] else string_split(${column}, ';') end`;
    await conn.run(
      `insert into previous_list
       select
         regexp_extract(filename, '/practices/([A-Z0-9]+)/risk-list\\.parquet$', 1),
         pseudo_id, tier, multimorbidity_5plus, frailty, high_cost_3x, predicted_cost_12m,
         ${split('conditions')}, ${split('frailty_rules')}
       from read_parquet(${quotedString(join(practices!, '*', 'risk-list.parquet'))}, filename = true)`,
    );
  }
  const [previous] = await queryRows<{ tiers: number }>(
    conn,
    'select count(tier) as tiers from previous_list',
  );
  const predictionsCompared =
    Boolean(comparedWith) && (previous?.tiers ?? 0) > 0 && !predictionsNotAvailable(ctx);
  await conn.run('set variable compared_run = $run', { run: comparedWith?.runId ?? null });
  await conn.run('set variable compared_as_of = $as_of::DATE', { as_of: comparedWith?.asOf ?? null });
  await conn.run('set variable compare_predictions = $compare', { compare: predictionsCompared });
  return { listChanges: { comparedWith, predictionsCompared, counts: [] } };
}

/** System-level counts of who joined and left each cohort and tier, small numbers suppressed. */
export async function summariseListChanges(ctx: RunContext): Promise<Partial<RunResults>> {
  const summary = ctx.results.listChanges!;
  if (!summary.comparedWith) return {};
  const rows = await queryRows<{ item: string; joined: number; left: number }>(
    ctx.conn,
    `with joined as (select item, count(*) as n from (select unnest(new_to) as item from list_change) group by item),
          gone as (select item, count(*) as n from (select unnest(left_from) as item from list_left) group by item)
     select item, coalesce(j.n, 0) as joined, coalesce(g.n, 0) as left
     from joined j full join gone g using (item)`,
  );
  const rules = {
    min: 1,
    max: ctx.config.disclosure.suppressBelow - 1,
    roundTo: ctx.config.disclosure.roundTo,
  };
  const counts = CHANGE_ITEMS.filter(
    (c) => summary.predictionsCompared || !(c.item === 'high_cost' || c.item.startsWith('tier_')),
  ).map(({ item, label }) => {
    const r = rows.find((x) => x.item === item);
    return {
      item,
      label,
      joined: roundCount(r?.joined ?? 0, rules),
      left: roundCount(r?.left ?? 0, rules),
    };
  });
  return { listChanges: { ...summary, counts } };
}

/** Columns of left-since-last-run.csv, beside the list when there is an earlier run to compare with. */
export const LEFT_FILE_COLUMNS: readonly { name: string; about: string }[] = [
  { name: 'pseudo_id', about: 'Pseudonymised patient identifier, as in the risk list.' },
  {
    name: 'left',
    about:
      'The cohorts and tiers the patient was in on the last run\'s list of this practice and is not now, separated by ";".',
  },
  {
    name: 'left_because',
    about:
      'Why, separated by ";": died, registered_elsewhere, no_longer_registered, condition_resolved, ' +
      'frailty_rule_stopped:<rule>, predicted_cost_fell, predicted_cost_rose (moved up out of a tier), threshold_rose, ' +
      'others_ranked_differently, predictions_stopped, rules_changed.',
  },
  { name: 'tier_now', about: "The tier on this run's list; empty when no longer listed here." },
];

type LeftRow = {
  practice_code: string;
  pseudo_id: string;
  left: string;
  left_because: string;
  tier_now: string | null;
};

/** The compared run's patients who left a cohort or tier, by practice, in pseudonym order. */
export async function leftByPractice(ctx: RunContext): Promise<Map<string, LeftRow[]>> {
  const rows = await queryRows<LeftRow>(
    ctx.conn,
    `select practice_code, pseudo_id, array_to_string(left_from, ';') as left,
       array_to_string(left_because, ';') as left_because, tier_now
     from list_left order by practice_code, pseudo_id`,
  );
  const by = new Map<string, LeftRow[]>();
  for (const r of rows) {
    const practice = by.get(r.practice_code);
    if (practice) practice.push(r);
    else by.set(r.practice_code, [r]);
  }
  return by;
}

/** Every value is a pseudonym or one of the fixed words above: nothing to quote or neutralise. */
export function leftCsv(rows: LeftRow[]): string {
  const lines = [LEFT_FILE_COLUMNS.map((c) => c.name).join(',')];
  for (const r of rows) lines.push([r.pseudo_id, r.left, r.left_because, r.tier_now ?? ''].join(','));
  return lines.join('\n') + '\n';
}

/** What a practice's README says about the change columns and the left file. */
export function changeNote(summary: ListChangeSummary | undefined): string {
  const compared = summary?.comparedWith;
  if (!compared)
    return 'There is no earlier published run to compare with, so new_since_last_run and new_because are empty for everyone and there is no left-since-last-run.csv.';
  return (
    `Compared with run ${compared.runId} (as of ${compared.asOf}): new_since_last_run names the cohorts and tiers a patient has joined at this practice since then (empty: no change), ` +
    'and left-since-last-run.csv lists the patients who left one, with the reason.' +
    (summary.predictionsCompared
      ? ''
      : ' One of the two runs had no predictions, so only the multimorbidity and frailty cohorts are compared.')
  );
}
