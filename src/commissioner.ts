// Commissioner summaries: people and attributable cost by organisation (practice, PCN,
// place, system) x group (cohorts, their exclusive combinations, tiers, all adults) x
// breakdown (all, age band and sex, deprivation quintile), plus the attrition table. The
// exact figures are controlled together (src/commissioner-cells.ts), so that no suppressed
// count can be worked out from this or any other table in the folder; only the controlled
// figures leave the work database, into commissioner/summary.duckdb and a Parquet and CSV
// file per table.
import { join } from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { appendRows, queryRows, runSqlFile, setVariables } from './db.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import {
  commissionerAggregates,
  controlAggregates,
  protectionFrom,
  rulesFrom,
  type ControlledAggregates,
} from './commissioner-cells.ts';
import { commissionerReadme, metadata } from './commissioner-readme.ts';
import { ensureDir, sealFile, writeFileDurable } from './files.ts';
import { formulaStartParam, neutraliseSql } from './spreadsheet.ts';
import type { RunContext } from './stage.ts';

/** The published tables, built from the controlled cells in the work database. */
const SUMMARY_TABLES: { name: string; about: string; sql: string }[] = [
  {
    name: 'cohort_summary',
    about:
      'People and cost by organisation for each cohort, any cohort, the exclusive combinations of cohorts, no cohort and all adults (group_type says which).',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'all' and group_type <> 'tier'
          order by level_order, org_code, group_order`,
  },
  {
    name: 'tier_summary',
    about: 'People and cost by organisation for each risk tier, with all adults as the total.',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort as tier, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'all' and group_type in ('tier', 'all')
          order by level_order, org_code, group_order`,
  },
  {
    name: 'cohort_by_age_sex',
    about: 'Every group (cohorts, combinations, tiers, all adults) by age band and sex.',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, age_band, sex, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'age_sex'
          order by level_order, org_code, group_order, age_band, sex`,
  },
  {
    name: 'cohort_by_deprivation',
    about:
      'Every group by deprivation quintile of the area of residence (IMD; 1 = most deprived, unknown = no area).',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, imd_quintile, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'deprivation'
          order by level_order, org_code, group_order, imd_quintile`,
  },
  {
    name: 'service_need',
    about:
      'Caseload estimates by PCN, place and system for the services that respond to the cohorts: published people in the groups a service responds to, times the share who need it, over the caseload one whole-time worker carries (the ratios and their sources are in the configuration and the README).',
    sql: `select level, org_code, org_name, pcn_code, place, service, cohorts, cohort_patients, share_needing, people_needing, caseload_per_wte, wte, suppressed, level_order, service_order
          from published_service_need order by level_order, org_code, service_order`,
  },
  {
    name: 'attrition',
    about: 'How many people each step of the cohort definitions kept or found, by organisation.',
    sql: `select level, org_code, org_name, step_order, step, patients, suppressed, level_order
          from published_attrition order by level_order, org_code, step_order`,
  },
  {
    name: 'metadata',
    about: 'The run, the as-of date and the rules behind these figures.',
    sql: 'select key, value from published_metadata order by ordinal',
  },
];

export interface CommissionerSummary {
  tables: Record<string, number>;
  cells: number;
  suppressed: number;
  audit: ControlledAggregates['audit'];
  seconds: number;
}

export async function writeCommissionerSummaries(ctx: RunContext): Promise<CommissionerSummary> {
  const started = performance.now();
  const { conn } = ctx;
  const rules = rulesFrom(ctx.config);
  const protection = protectionFrom(ctx.config);
  const controlled = await controlAggregates(await commissionerAggregates(conn), rules, protection);
  // Service need is worked out from the cohort and tier counts: withheld with either of them.
  const withheldTables = [...controlled.audit.withheld];
  if (withheldTables.some((t) => t === 'cohort_summary' || t === 'tier_summary'))
    withheldTables.push('service_need');
  const withheld = new Set(withheldTables);

  await appendRows(
    conn,
    'published_group_value',
    {
      cell_no: 'INTEGER',
      patients: 'INTEGER',
      observed_cost_12m: 'BIGINT',
      predicted_cost_12m: 'BIGINT',
      suppressed: 'BOOLEAN',
    },
    controlled.groups.map(({ cell, published: p }) => ({
      cell_no: cell.cell_no,
      patients: p.patients,
      observed_cost_12m: p.costs.observed ?? null,
      predicted_cost_12m: p.costs.predicted ?? null,
      suppressed: p.suppressed,
    })),
  );
  await conn.run(
    `create or replace table published_group_cell as
     select c.* exclude (patients, observed_cost_12m, predicted_cost_12m), v.patients::BIGINT as patients,
            v.* exclude (cell_no, patients)
     from commissioner_cell c join published_group_value v using (cell_no)`,
  );
  await setVariables(conn, { models_available: !predictionsNotAvailable(ctx) });
  await runSqlFile(conn, 'marts/service_need.sql');
  await appendRows(
    conn,
    'published_attrition',
    {
      level: 'VARCHAR',
      level_order: 'INTEGER',
      org_code: 'VARCHAR',
      org_name: 'VARCHAR',
      step_order: 'INTEGER',
      step: 'VARCHAR',
      patients: 'BIGINT',
      suppressed: 'BOOLEAN',
    },
    controlled.attrition.map(({ published: p, ...a }) => ({
      ...a,
      patients: p.patients,
      suppressed: p.suppressed,
    })),
  );
  await appendRows(
    conn,
    'published_metadata',
    { ordinal: 'INTEGER', key: 'VARCHAR', value: 'VARCHAR' },
    metadata(ctx, rules, protection, withheldTables).map(([key, value], ordinal) => ({
      ordinal,
      key,
      value,
    })),
  );

  const dir = join(ctx.runDir, 'commissioner');
  ensureDir(dir);
  const dbFile = join(dir, 'summary.duckdb');
  const tables: Record<string, number> = {};
  await conn.run(`attach ${quotedString(dbFile)} as summary`);
  try {
    for (const t of SUMMARY_TABLES) {
      // A withheld table keeps its columns, so queries and feeds still run, and loses its rows.
      const sql = withheld.has(t.name) ? `select * from (${t.sql}) where false` : t.sql;
      await conn.run(`create table summary.${quotedIdentifier(t.name)} as ${sql}`);
      tables[t.name] = Number(
        (await queryRows(conn, `select count(*) as n from summary.${quotedIdentifier(t.name)}`))[0]!.n,
      );
    }
    for (const t of SUMMARY_TABLES) await exportTable(conn, 'summary', t.name, dir);
  } finally {
    await conn.run('detach summary');
  }
  sealFile(dbFile);
  writeFileDurable(
    join(dir, 'README.txt'),
    commissionerReadme(ctx, rules, protection, withheldTables, SUMMARY_TABLES),
  );
  for (const t of [
    'published_group_value',
    'published_group_cell',
    'published_service_need',
    'published_attrition',
    'published_metadata',
  ])
    await conn.run(`drop table ${quotedIdentifier(t)}`);

  return {
    tables,
    cells: controlled.groups.length + controlled.attrition.length,
    suppressed: [...controlled.groups, ...controlled.attrition].filter((c) => c.published.suppressed).length,
    audit: controlled.audit,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A table to <dir>/<table>.parquet and <dir>/<table>.csv, every CSV cell safe to open in a spreadsheet. */
async function exportTable(conn: DuckDBConnection, database: string, table: string, dir: string) {
  const columns = await queryRows<{ column_name: string }>(
    conn,
    `select column_name from duckdb_columns() where database_name = $db and table_name = $t order by column_index`,
    { db: database, t: table },
  );
  const source = `${quotedIdentifier(database)}.${quotedIdentifier(table)}`;
  const parquet = join(dir, `${table}.parquet`);
  const csv = join(dir, `${table}.csv`);
  await conn.run(`copy ${source} to ${quotedString(parquet)} (format parquet, compression zstd)`);
  const select = columns
    .map(({ column_name }) => {
      const n = quotedIdentifier(column_name);
      return `${neutraliseSql(`${n}::VARCHAR`)} as ${n}`;
    })
    .join(', ');
  await conn.run(`copy (select ${select} from ${source}) to ${quotedString(csv)} (format csv, header)`, {
    ...formulaStartParam(),
  });
  sealFile(parquet);
  sealFile(csv);
}
