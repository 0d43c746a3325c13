// Practice risk lists: patient-level by design, so each practice's folder holds its own
// registered patients and nobody else's. The columns are declared once below; the SQL
// that writes the lists and the README legend beside them are both derived from it.
import { chmodSync, closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { listValue, quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import pLimit from 'p-limit';
import { conditions } from '../pipeline/conditions.ts';
import { CODED_FRAILTY, HFRS } from '../pipeline/frailty.ts';
import type { Config } from './config.ts';
import { queryRows } from './db.ts';
import { IntegrityError } from './errors.ts';
import { ensureDir, FILE_MODE, writeFileDurable } from './publish.ts';
import type { RunContext } from './stage.ts';

/** First characters that make a spreadsheet treat a cell as a formula (CSV injection). */
export const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'] as const;

/** A CSV cell as a spreadsheet will show it: a would-be formula is kept as text by a leading quote. */
export function neutraliseCell(value: string): string {
  return (FORMULA_START as readonly string[]).includes(value.charAt(0)) ? `'${value}` : value;
}

/**
 * The same rule as neutraliseCell, in SQL, for a VARCHAR expression. The characters are
 * bound as $formula_start by whoever runs the statement (macros cannot take parameters).
 */
export function neutraliseSql(expr: string): string {
  return `case when list_contains($formula_start, left(${expr}, 1)) then '''' || ${expr} else ${expr} end`;
}

export const formulaStartParam = () => ({ formula_start: listValue([...FORMULA_START]) });

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
      'Pseudonymised patient identifier from the extract (not an NHS number). Re-identify patients through the route your practice has agreed.',
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
      'eFI-style frailty score: the share of frailty deficits recorded (0 to 1). It follows the electronic Frailty Index method but is NOT the official eFI and may differ from the score in your clinical system.',
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
      `Hospital Frailty Risk Score from hospital diagnoses in the last ${HFRS.withinMonths} months (5 to 15 intermediate, above 15 high).`,
  },
  {
    name: 'frailty_rules',
    sql: `array_to_string(frailty_rules, ';')`,
    about: (c) =>
      `Why the patient is in the frailty cohort, separated by ";": coded_frailty (moderate or severe frailty coded in the last ${CODED_FRAILTY.withinMonths} months), ` +
      `efi (eFI-style category moderate or severe), hfrs (HFRS ${c.cohorts.hfrsMarkerAtLeast} or more).`,
  },
  {
    name: 'observed_cost_12m',
    sql: money('observed_cost_12m'),
    about: () => 'Secondary-care cost in the last 12 months, in pounds (rounded).',
  },
];

const pct = (share: number) => `${+(share * 100).toFixed(2)}%`;

/** ODS practice codes become folder names, so anything else is refused rather than trusted. */
const ODS_PRACTICE = /^[A-Z0-9]{3,8}$/;

export interface PracticeListSummary {
  practices: number;
  patients: number;
  seconds: number;
}

/**
 * Writes practices/<ODS>/risk-list.csv, risk-list.parquet and README.txt for every practice
 * with eligible patients. One COPY per file, ordered, a few at a time, each on its own
 * connection (a DuckDB connection runs one statement at a time).
 */
export async function writePracticeLists(ctx: RunContext, concurrency = 4): Promise<PracticeListSummary> {
  const started = performance.now();
  const { conn, runDir } = ctx;
  // Sorted by practice once, so each practice's COPY reads only its own row groups.
  await conn.run(
    `create or replace table practice_list as
     select practice_code, risk_rank, ${PRACTICE_LIST_COLUMNS.map((c) => `${c.sql} as ${quotedIdentifier(c.name)}`).join(', ')}
     from patient_list
     order by practice_code`,
  );
  const practices = await queryRows<{
    practice_code: string;
    practice_name: string | null;
    patients: number;
  }>(
    conn,
    `select l.practice_code, any_value(p.practice_name) as practice_name, count(*) as patients
     from practice_list l left join stg_practice p using (practice_code)
     group by all order by l.practice_code`,
  );
  for (const p of practices)
    if (!ODS_PRACTICE.test(p.practice_code))
      throw new IntegrityError(
        'a practice code is not an ODS code (3 to 8 capital letters or digits); no practice lists written',
      );

  const root = join(runDir, 'practices');
  ensureDir(root);
  // Risk order; children (no rank) last, in a stable order.
  const order = 'order by risk_rank nulls last, pseudo_id';
  const names = PRACTICE_LIST_COLUMNS.map((c) => quotedIdentifier(c.name));
  const csvSelect = names.map((n) => `${neutraliseSql(`${n}::VARCHAR`)} as ${n}`).join(', ');
  const parquetSelect = names.join(', ');

  const limit = pLimit(concurrency);
  const idle: DuckDBConnection[] = [];
  const withConnection = async <T>(task: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
    const c = idle.pop() ?? (await ctx.instance.connect());
    try {
      return await task(c);
    } finally {
      idle.push(c);
    }
  };
  const readme = practiceReadme(ctx);
  try {
    await Promise.all(
      practices.map((p) =>
        limit(() =>
          withConnection(async (c) => {
            const dir = join(root, p.practice_code);
            ensureDir(dir);
            const csv = join(dir, 'risk-list.csv');
            const parquet = join(dir, 'risk-list.parquet');
            await c.run(
              `copy (select ${csvSelect} from practice_list where practice_code = $practice ${order})
               to ${quotedString(csv)} (format csv, header)`,
              { practice: p.practice_code, ...formulaStartParam() },
            );
            await c.run(
              `copy (select ${parquetSelect} from practice_list where practice_code = $practice ${order})
               to ${quotedString(parquet)} (format parquet, compression zstd)`,
              { practice: p.practice_code },
            );
            for (const file of [csv, parquet]) sealFile(file);
            writeFileDurable(
              join(dir, 'README.txt'),
              readme(p.practice_code, p.practice_name ?? p.practice_code, p.patients),
            );
          }),
        ),
      ),
    );
  } finally {
    for (const c of idle) c.closeSync();
  }
  await conn.run('drop table practice_list');
  return {
    practices: practices.length,
    patients: practices.reduce((s, p) => s + p.patients, 0),
    seconds: (performance.now() - started) / 1000,
  };
}

/** DuckDB writes with the process umask; patient-level files are for their owner only, and flushed. */
export function sealFile(path: string): void {
  chmodSync(path, FILE_MODE);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function practiceReadme(ctx: RunContext) {
  const c = ctx.config;
  const legend = PRACTICE_LIST_COLUMNS.map((col) => wrap(`${col.name}: ${col.about(c)}`, '  ')).join('\n');
  const conditionList = conditions.map((d) => `  ${d.id.padEnd(28)} ${d.name}`).join('\n');
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
${wrap(`Frailty: any of coded moderate or severe frailty (last ${CODED_FRAILTY.withinMonths} months), eFI-style category moderate or severe, or a Hospital Frailty Risk Score of ${c.cohorts.hfrsMarkerAtLeast} or more.`, '  ')}
${wrap(`Predicted high cost: predicted cost for the next 12 months at least ${c.cohorts.highCostMultiple} times the mean for adults in the system.`, '  ')}
A patient can be in more than one cohort.

TIERS (adults ranked by predicted cost across the whole system)
  very high: top ${pct(c.tiers.veryHigh)}; high: to ${pct(c.tiers.high)}; moderate: to ${pct(c.tiers.moderate)}; low: the rest.

COLUMNS
${legend}
A cell that starts with ' had it added so a spreadsheet shows the text instead of running
it as a formula.

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
