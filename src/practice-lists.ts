// Practice risk lists: patient-level by design, so each practice's folder holds its own
// registered patients and nobody else's. The columns are declared once below; the SQL
// that writes the lists and the README legend beside them are both derived from it.
import { readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { quotedIdentifier, quotedString } from '@duckdb/node-api';
import { codedCareContexts, RECENT_DISCHARGE } from '../pipeline/care-context.ts';
import { conditions } from '../pipeline/conditions.ts';
import { CODED_FRAILTY, EFI_VALIDATED_FROM_AGE, HFRS } from '../pipeline/frailty.ts';
import type { Config } from './config.ts';
import { openWorkDb, queryRows } from './db.ts';
import { IntegrityError } from './errors.ts';
import { ensureDir, FILE_MODE } from './files.ts';
import { formulaStartParam, neutraliseSql } from './spreadsheet.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import { changeNote, leftByPractice, leftCsv, LEFT_FILE_COLUMNS } from './list-changes.ts';
import type { RunContext } from './stage.ts';

interface ListColumn {
  name: string;
  /** Over patient_list. */
  sql: string;
  about: (config: Config) => string;
}

const money = (column: string) => `round(${column})::BIGINT`;

export const PRACTICE_LIST_COLUMNS: readonly ListColumn[] = [
  {
    name: 'pseudo_id',
    sql: 'pseudo_id',
    about: () =>
      'Pseudonymised patient identifier from the extract (not an NHS number). Re-identify patients through the route your practice has agreed, for example strata reidentify with your own lookup of pseudonyms to NHS numbers.',
  },
  { name: 'age_band', sql: 'age_band', about: () => 'Age band on the as-of date.' },
  { name: 'sex', sql: 'sex', about: () => 'Sex as recorded in the practice system.' },
  {
    name: 'tier',
    sql: 'tier',
    about: (c) =>
      `Risk tier from predicted cost, ranked across all adults in the system: very high (top ${pct(c.tiers.veryHigh)}), ` +
      `high (to ${pct(c.tiers.high)}), moderate (to ${pct(c.tiers.moderate)}), low (the rest). Empty for children.`,
  },
  {
    name: 'multimorbidity_5plus',
    sql: 'multimorbidity_5plus',
    about: (c) =>
      `true when an adult has ${c.cohorts.multimorbidityMin} or more of the ${conditions.length} chronic conditions (multimorbidity cohort).`,
  },
  {
    name: 'frailty',
    sql: 'frailty',
    about: () => 'true when an adult meets any frailty rule listed in frailty_rules (frailty cohort).',
  },
  {
    name: 'high_cost_3x',
    sql: 'high_cost_3x',
    about: (c) =>
      `true when an adult's predicted cost is at least ${c.cohorts.highCostMultiple} times the mean for adults in the system (predicted high cost cohort).`,
  },
  {
    name: 'predicted_cost_12m',
    sql: money('predicted_cost_12m'),
    about: () => 'Predicted secondary-care cost over the next 12 months, in pounds (rounded).',
  },
  {
    name: 'admission_probability_12m',
    sql: 'round(admission_probability_12m, 3)',
    about: () =>
      'Predicted probability of an emergency admission in the next 12 months (0 to 1, 3 decimals).',
  },
  {
    name: 'condition_count',
    sql: 'condition_count',
    about: () => 'How many of the chronic conditions are recorded.',
  },
  {
    name: 'conditions',
    sql: `array_to_string(conditions, ';')`,
    about: () => 'The chronic conditions found, separated by ";" (see the list of conditions below).',
  },
  {
    name: 'efi_score',
    sql: 'round(efi_score, 3)',
    about: () =>
      `eFI-style frailty score: the share of frailty deficits recorded (0 to 1). It follows the electronic Frailty Index method but is NOT the official eFI and may differ from the score in your clinical system. The eFI was validated in people aged ${EFI_VALIDATED_FROM_AGE} and over; below that age read it with care.`,
  },
  {
    name: 'efi_category',
    sql: 'efi_category',
    about: () =>
      'Category of the eFI-style score: fit (up to 0.12), mild (to 0.24), moderate (to 0.36), severe (above).',
  },
  {
    name: 'hfrs',
    sql: 'hfrs',
    about: () =>
      `Hospital Frailty Risk Score from the diagnoses of hospital admissions (not outpatient or A&E) in the last ${HFRS.withinMonths} months: below 5 low risk, 5 to 15 intermediate risk, above 15 high risk. Validated in people aged ${HFRS.validatedFromAge} and over.`,
  },
  {
    name: 'frailty_rules',
    sql: `array_to_string(frailty_rules, ';')`,
    about: (c) =>
      `Why the patient is in the frailty cohort, separated by ";": coded_frailty (moderate or severe frailty coded in the last ${CODED_FRAILTY.withinMonths} months), ` +
      `efi (eFI-style category moderate or severe), hfrs (HFRS ${c.cohorts.hfrsMarkerAtLeast} or more: intermediate or high risk).`,
  },
  {
    name: 'observed_cost_12m',
    sql: money('observed_cost_12m'),
    about: () => 'Secondary-care cost in the last 12 months, in pounds (rounded).',
  },
  // Care context, for triage: one column per declared context (pipeline/care-context.ts).
  ...codedCareContexts.map((c) => ({
    name: c.id,
    sql: `list_contains(care_contexts, ${quotedString(c.id)})`,
    about: () => `true when the record shows the patient ${c.about}`,
  })),
  {
    name: RECENT_DISCHARGE.id,
    sql: 'recently_discharged',
    about: () => `true when the patient was ${RECENT_DISCHARGE.about(RECENT_DISCHARGE.days)}`,
  },
  {
    name: 'new_since_last_run',
    sql: `array_to_string(new_to, ';')`,
    about: () =>
      'The cohorts and tiers the patient has joined at this practice since the last run, separated by ";": ' +
      'multimorbidity, frailty, high_cost, tier_very_high, tier_high, tier_moderate (a move into the low tier, the rest, is not flagged; ' +
      'a move down is flagged as the lower tier joined). Empty when nothing changed, or when there is no earlier run (see CHANGE SINCE THE LAST RUN).',
  },
  {
    name: 'new_because',
    sql: `array_to_string(new_because, ';')`,
    about: () =>
      'Why, separated by ";": newly_registered (not on this practice\'s last list), turned_18, new_condition, ' +
      'frailty_rule_fired:<rule>, predicted_cost_rose, predicted_cost_fell, threshold_fell (the system mean fell), ' +
      'others_ranked_differently (same prediction, other patients moved), predictions_began (the last run had none), ' +
      'rules_changed (the configuration changed).',
  },
];

const pct = (share: number) => `${+(share * 100).toFixed(2)}%`;

/** ODS practice codes become folder names, so anything else is refused rather than trusted. */
const ODS_PRACTICE = /^[A-Z0-9]{3,8}$/;

const ROWS_PER_SHARE = 250_000;

export interface PracticeListSummary {
  practices: number;
  patients: number;
  seconds: number;
}

/**
 * Writes practices/<ODS>/risk-list.csv, risk-list.parquet and README.txt for every practice
 * with eligible patients.
 *
 * A COPY per practice and format has a fixed cost that dominates the stage at LLR's practice count, so
 * the lists are written by partitioned COPYs instead. Such a COPY keeps each practice's rows in
 * risk order only while one thread writes them, and the work database's thread count is
 * locked; so the ordered rows go once to a file, and one-thread databases (with the same
 * narrowed file access), one per format and share of the practices, split it side by side.
 */
export async function writePracticeLists(ctx: RunContext): Promise<PracticeListSummary> {
  const started = performance.now();
  const { conn, runDir } = ctx;
  const practices = await queryRows<{
    practice_code: string;
    practice_name: string | null;
    patients: number;
  }>(
    conn,
    `select l.practice_code, any_value(p.practice_name) as practice_name, count(*) as patients
     from patient_list l left join stg_practice p using (practice_code)
     group by all order by l.practice_code`,
  );
  for (const p of practices)
    if (!ODS_PRACTICE.test(p.practice_code))
      throw new IntegrityError(
        'a practice code is not an ODS code (3 to 8 capital letters or digits); no practice lists written',
      );

  const root = join(runDir, 'practices');
  const scratch = join(runDir, '.practice-lists');
  ensureDir(root);
  ensureDir(scratch);
  // Risk order; children (no rank) last, in a stable order.
  const ordered = join(scratch, 'ordered.parquet');
  await conn.run(
    `copy (
       select practice_code, ${PRACTICE_LIST_COLUMNS.map((c) => `${c.sql} as ${quotedIdentifier(c.name)}`).join(', ')}
       from patient_list left join list_change using (pseudo_id)
       order by practice_code, risk_rank nulls last, pseudo_id
     ) to ${quotedString(ordered)} (format parquet, compression uncompressed)`,
  );
  const types = await queryRows<{ column_name: string; column_type: string }>(
    conn,
    `select column_name, column_type from (describe select * from read_parquet(${quotedString(ordered)}))`,
  );
  const text = new Set(types.filter((t) => t.column_type === 'VARCHAR').map((t) => t.column_name));
  const names = PRACTICE_LIST_COLUMNS.map((c) => c.name);
  const formats = [
    {
      file: 'risk-list.csv',
      // Only text can carry a formula: a number or boolean is shown as itself.
      select: names
        .map((n) =>
          text.has(n)
            ? `${neutraliseSql(quotedIdentifier(n))} as ${quotedIdentifier(n)}`
            : quotedIdentifier(n),
        )
        .join(', '),
      options: 'format csv, header',
      params: formulaStartParam(),
    },
    {
      file: 'risk-list.parquet',
      select: names.map(quotedIdentifier).join(', '),
      // Snappy: less work than zstd across a whole system's lists, for files a little larger.
      options: 'format parquet, compression snappy',
      params: {},
    },
  ];
  // Shares of at most ~250,000 rows: a partitioned Parquet writer holds each practice's rows
  // until it closes the file, so a share's size bounds a writer's memory.
  const threads = ctx.config.resources.threads ?? availableParallelism();
  const rows = practices.reduce((s, p) => s + p.patients, 0);
  const shares = shareOut(practices, Math.max(threads, Math.ceil(rows / ROWS_PER_SHARE)));
  const limit = pLimit(threads * formats.length);
  const written = (file: string, share: number) => join(scratch, `${file}.${share}`);
  await Promise.all(
    formats.flatMap((f) =>
      shares.map((share, i) =>
        limit(async () => {
          const writer = await openWorkDb({
            allowedDirectories: [scratch],
            tempDirectory: join(scratch, `tmp.${f.file}.${i}`),
            memoryLimit: '512MB',
            threads: 1,
            preserveInsertionOrder: true,
          });
          const c = await writer.connect();
          try {
            await c.run(
              `copy (
               select practice_code, ${f.select} from read_parquet(${quotedString(ordered)})
               where practice_code between $first and $last
             ) to ${quotedString(written(f.file, i))}
             (${f.options}, partition_by (practice_code), write_partition_columns false)`,
              { ...f.params, first: share.at(0)!.practice_code, last: share.at(-1)!.practice_code },
            );
          } finally {
            c.closeSync();
            writer.closeSync();
          }
        }),
      ),
    ),
  );

  const readme = practiceReadme(ctx);
  const files: string[] = [];
  const left = ctx.results.listChanges?.comparedWith ? await leftByPractice(ctx) : null;
  shares.forEach((share, i) => {
    for (const p of share) {
      const dir = join(root, p.practice_code);
      ensureDir(dir);
      for (const f of formats) {
        const partition = join(written(f.file, i), `practice_code=${p.practice_code}`);
        const parts = readdirSync(partition);
        if (parts.length !== 1)
          throw new IntegrityError(
            `the ${f.file} of practice ${p.practice_code} was written as ${parts.length} files`,
          );
        const target = join(dir, f.file);
        renameSync(join(partition, parts[0]!), target);
        files.push(target);
      }
      if (left) {
        const leftFile = join(dir, 'left-since-last-run.csv');
        writeFileSync(leftFile, leftCsv(left.get(p.practice_code) ?? []), { mode: FILE_MODE });
        files.push(leftFile);
      }
      const readmeFile = join(dir, 'README.txt');
      writeFileSync(readmeFile, readme(p.practice_code, p.practice_name ?? p.practice_code, p.patients), {
        mode: FILE_MODE,
      });
      files.push(readmeFile);
    }
  });
  // A practice with a list last time and none now (closed, merged, or quarantined) has no
  // folder to put a left file in: said in the log, by count.
  const listed = new Set(practices.map((p) => p.practice_code));
  const unlisted = [...(left?.keys() ?? [])].filter((code) => !listed.has(code));
  if (unlisted.length)
    ctx.log.warn('practices on the compared run with no list in this run: no left file written for them', {
      practices: unlisted.length,
      patients: unlisted.reduce((n, code) => n + left!.get(code)!.length, 0),
    });
  // Flushed side by side: one at a time, the flushes of ~400 small files add up.
  await Promise.all(files.map(sealFileAsync));
  rmSync(scratch, { recursive: true });
  return {
    practices: practices.length,
    patients: rows,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Practices (in code order) cut into at most n runs of about equal patients. */
export function shareOut<T extends { patients: number }>(practices: T[], n: number): T[][] {
  const total = practices.reduce((s, p) => s + p.patients, 0);
  const shares: T[][] = [[]];
  let sofar = 0;
  for (const p of practices) {
    if (shares.at(-1)!.length > 0 && sofar >= (total * shares.length) / n) shares.push([]);
    shares.at(-1)!.push(p);
    sofar += p.patients;
  }
  return shares.filter((s) => s.length > 0);
}

/** DuckDB writes with the process umask; patient-level files are for their owner only, and flushed. */
async function sealFileAsync(path: string): Promise<void> {
  await chmod(path, FILE_MODE);
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function practiceReadme(ctx: RunContext) {
  const c = ctx.config;
  const unavailable = predictionsNotAvailable(ctx);
  const legend = PRACTICE_LIST_COLUMNS.map((col) => wrap(`${col.name}: ${col.about(c)}`, '  ')).join('\n');
  const conditionList = conditions
    .map((d) =>
      [
        `  ${d.id.padEnd(28)} ${d.name}`,
        ...(d.deviation ? [wrap(`Differs from Cassell et al.: ${d.deviation}.`, '    ')] : []),
      ].join('\n'),
    )
    .join('\n');
  return (practiceCode: string, practiceName: string, patients: number) =>
    `RISK LIST FOR ${practiceName} (${practiceCode})
Run ${ctx.runId}, as of ${ctx.asOf}. ${patients.toLocaleString('en-GB')} patients.

This folder holds the patients registered at this practice on the as-of date (alive and
registered), one row each, highest risk first; children (under ${c.cohorts.adultAge}) come last and
have no tier. The same rows are in risk-list.csv (for a spreadsheet) and risk-list.parquet
(for analysis tools). It is patient-level data for this practice only: keep it inside the
practice and handle it under your usual information governance.

The predictions support proactive care (who to review, invite or call first). They do not
replace clinical judgement: they come from coded records and hospital activity, which can
be incomplete or out of date, and a prediction about a group is not a diagnosis.

COHORTS (adults, ${c.cohorts.adultAge} and over)
${wrap(`Multimorbidity: ${c.cohorts.multimorbidityMin} or more of ${conditions.length} chronic conditions (Cassell et al. 2018).`, '  ')}
${wrap(`Frailty: any of coded moderate or severe frailty (last ${CODED_FRAILTY.withinMonths} months), eFI-style category moderate or severe, or HFRS intermediate or high risk (a Hospital Frailty Risk Score of ${c.cohorts.hfrsMarkerAtLeast} or more). The eFI was validated from age ${EFI_VALIDATED_FROM_AGE} and the HFRS from age ${HFRS.validatedFromAge}; both are applied to every adult here.`, '  ')}
${wrap(`Predicted high cost: predicted cost for the next 12 months at least ${c.cohorts.highCostMultiple} times the mean for adults in the system.${unavailable ? ` NOT AVAILABLE in this run (${unavailable}): high_cost_3x, tier, predicted_cost_12m and admission_probability_12m are empty.` : ''}`, '  ')}
A patient can be in more than one cohort.

TIERS (adults ranked by predicted cost across the whole system)
  very high: top ${pct(c.tiers.veryHigh)}; high: to ${pct(c.tiers.high)}; moderate: to ${pct(c.tiers.moderate)}; low: the rest.

COLUMNS
${legend}
A cell that starts with ' had it added so a spreadsheet shows the text instead of running
it as a formula.

CHANGE SINCE THE LAST RUN
${wrap(changeNote(ctx.results.listChanges), '  ')}
${ctx.results.listChanges?.comparedWith ? `Columns of left-since-last-run.csv:\n${LEFT_FILE_COLUMNS.map((col) => wrap(`${col.name}: ${col.about}`, '  ')).join('\n')}\n` : ''}
CONDITIONS (ids used in the conditions column)
${conditionList}
`;
}

/** Plain-text paragraphs for any editor: wrapped, with continuation lines indented further. */
function wrap(text: string, indent: string, width = 88): string {
  const lines: string[] = [];
  let line = '';
  const lead = () => (lines.length ? `${indent}    ` : indent);
  for (const word of text.split(' ')) {
    if (line && lead().length + line.length + 1 + word.length > width) {
      lines.push(lead() + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(lead() + line);
  return lines.join('\n');
}
