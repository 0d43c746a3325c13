// Dashboard feeds: small tidy tables for BI tools and the HTML report, in dashboard/ of the
// run folder. They are built only from the disclosure-controlled commissioner tables (and the
// delivery's line counts), so nothing a feed holds can be finer than what commissioners
// already receive. The feeds are declared once, below: that declaration checks what the SQL
// produced, types the Arrow files, writes dashboard/README.md and the golden schema file.
import { join } from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  tableToIPC,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { runSqlFile, setVariables } from './db.ts';
import { IntegrityError } from './errors.ts';
import { sealFile } from './practice-lists.ts';
import { ensureDir, writeFileDurable } from './publish.ts';
import type { RunContext } from './stage.ts';

/** Goes up whenever a feed's columns change, so a dashboard can tell which layout it reads. */
export const FEED_SCHEMA_VERSION = 1;

export type FeedType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'DATE';

export interface FeedColumn {
  name: string;
  type: FeedType;
  nullable: boolean;
  about: string;
}

export interface Feed {
  name: string;
  grain: string;
  about: string;
  columns: FeedColumn[];
}

const col = (name: string, type: FeedType, about: string, nullable = false): FeedColumn => ({
  name,
  type,
  nullable,
  about,
});

const RUN_COLUMNS: FeedColumn[] = [
  col('schema_version', 'INTEGER', `version of this feed's columns (now ${FEED_SCHEMA_VERSION})`),
  col('run_id', 'VARCHAR', 'the strata run that made the row'),
  col('as_of', 'DATE', 'the as-of date of the run: registrations, cohorts and costs are on this date'),
];

const ORG_COLUMNS: FeedColumn[] = [
  col('level', 'VARCHAR', 'practice, pcn, place or system'),
  col('level_order', 'INTEGER', '1 practice, 2 PCN, 3 place, 4 system'),
  col('org_code', 'VARCHAR', 'ODS code of the practice or PCN; name of the place; code of the system'),
  col('org_name', 'VARCHAR', 'name of the organisation'),
];

const GROUP_COLUMNS: FeedColumn[] = [
  col('group_type', 'VARCHAR', 'cohort, combination (exclusive), tier or all (all adults)'),
  col('cohort', 'VARCHAR', 'the group: multimorbidity, frailty, high cost, any cohort, all adults...'),
  col('group_order', 'INTEGER', 'natural order of the groups'),
];

const MEASURE_COLUMNS: FeedColumn[] = [
  col('patients', 'BIGINT', 'people, rounded to the nearest 5; empty when suppressed', true),
  col(
    'observed_cost_12m',
    'BIGINT',
    'secondary-care cost in the 12 months to the as-of date, GBP; empty when suppressed',
    true,
  ),
  col(
    'predicted_cost_12m',
    'BIGINT',
    'predicted cost for the next 12 months, GBP; empty when suppressed',
    true,
  ),
  col('suppressed', 'BOOLEAN', 'true when the count is hidden by disclosure control (1 to 7, or secondary)'),
];

export const FEEDS: readonly Feed[] = [
  {
    name: 'cohorts_by_org',
    grain: 'one row per organisation per group',
    about:
      'People and attributable cost by organisation for each cohort, any cohort, the seven exclusive combinations, no cohort and all adults.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('pcn_code', 'VARCHAR', 'PCN of a practice or PCN row', true),
      col('place', 'VARCHAR', 'place of a practice, PCN or place row', true),
      ...GROUP_COLUMNS,
      ...MEASURE_COLUMNS,
      col(
        'patients_per_1000_adults',
        'DOUBLE',
        'patients per 1,000 adults of the organisation, from the rounded counts; empty when either is suppressed',
        true,
      ),
    ],
  },
  {
    name: 'tier_pyramid',
    grain: 'one row per organisation per risk tier',
    about: 'The risk pyramid: adults in each tier of predicted cost, with their cost and shares.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('tier', 'VARCHAR', 'very high, high, moderate or low'),
      col('tier_order', 'INTEGER', '1 very high (top of the pyramid) to 4 low'),
      ...MEASURE_COLUMNS,
      col(
        'share_of_adults',
        'DOUBLE',
        "the tier's share of the organisation's adults (0-1), from rounded counts; empty when suppressed",
        true,
      ),
      col(
        'share_of_predicted_cost',
        'DOUBLE',
        "the tier's share of the organisation's predicted cost (0-1); empty when suppressed",
        true,
      ),
    ],
  },
  {
    name: 'age_sex_pyramid',
    grain: 'one row per organisation per cohort (and all adults) per age band per sex',
    about: 'Who is in each cohort, by age band and sex.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      ...GROUP_COLUMNS,
      col('age_band', 'VARCHAR', 'age band on the as-of date: 18-44, 45-64, 65-74, 75-84, 85+'),
      col('sex', 'VARCHAR', 'F or M'),
      ...MEASURE_COLUMNS,
    ],
  },
  {
    name: 'deprivation_gradient',
    grain: 'one row per organisation per cohort (and all adults) per deprivation quintile',
    about:
      'Each cohort by deprivation quintile of the area of residence (IMD; 1 = most deprived, unknown = no area).',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      ...GROUP_COLUMNS,
      col('imd_quintile', 'VARCHAR', '1 (most deprived) to 5 (least deprived), or unknown'),
      ...MEASURE_COLUMNS,
      col(
        'patients_per_1000_adults',
        'DOUBLE',
        'patients per 1,000 adults living in the quintile, from rounded counts; empty when either is suppressed',
        true,
      ),
    ],
  },
  {
    name: 'attrition',
    grain: 'one row per organisation per step of the cohort definitions',
    about:
      'How many people each step kept or found, from registration to each cohort: the eligible population comes from here.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('step_order', 'INTEGER', 'order of the step'),
      col('step', 'VARCHAR', 'what the step counts'),
      col('patients', 'BIGINT', 'people, rounded to the nearest 5; empty when suppressed', true),
      col('suppressed', 'BOOLEAN', 'true when the count is hidden by disclosure control'),
    ],
  },
  {
    name: 'data_quality_by_practice',
    grain: 'one row per practice in the delivery',
    about:
      "Lines in each practice's files and what became of them. These count lines, not people, so disclosure control does not apply.",
    columns: [
      ...RUN_COLUMNS,
      col('practice_code', 'VARCHAR', 'ODS code of the practice'),
      col('practice_name', 'VARCHAR', 'name of the practice; empty if it was not processed', true),
      col('pcn_code', 'VARCHAR', 'PCN of the practice; empty if it was not processed', true),
      col('place', 'VARCHAR', 'place of the practice; empty if it was not processed', true),
      col('status', 'VARCHAR', 'loaded, or why the practice was quarantined'),
      col('lines', 'BIGINT', 'data lines in its files'),
      col('loaded', 'BIGINT', 'lines that matched the data contract'),
      col('rejected', 'BIGINT', 'lines refused at load (wrong columns, values that do not cast)'),
      col('dropped', 'BIGINT', 'loaded rows dropped when cleaning (duplicates, bad codes, impossible dates)'),
      col('kept', 'BIGINT', 'rows used'),
      col('share_not_kept', 'DOUBLE', 'share of lines rejected or dropped (0-1)', true),
    ],
  },
];

const ARROW_TYPES: Record<FeedType, () => DataType> = {
  VARCHAR: () => new Utf8(),
  INTEGER: () => new Int32(),
  BIGINT: () => new Int64(),
  DOUBLE: () => new Float64(),
  BOOLEAN: () => new Bool(),
  DATE: () => new DateDay(),
};

export function arrowSchema(feed: Feed): Schema {
  return new Schema(feed.columns.map((c) => new Field(c.name, ARROW_TYPES[c.type](), c.nullable)));
}

/**
 * What test/golden/dashboard-schemas.json holds: the contract dashboards are built against,
 * one line per column ("name DUCKDB_TYPE [NOT NULL] / ArrowType") so a change reads plainly.
 */
export function feedSchemas(): { schema_version: number; feeds: Record<string, string[]> } {
  return {
    schema_version: FEED_SCHEMA_VERSION,
    feeds: Object.fromEntries(
      FEEDS.map((f) => [
        f.name,
        arrowSchema(f).fields.map(
          (field, i) =>
            `${field.name} ${f.columns[i]!.type}${field.nullable ? '' : ' NOT NULL'} / ${field.type}`,
        ),
      ]),
    ),
  };
}

export function feedReadme(runId: string, asOf: string): string {
  const tables = FEEDS.map((f) => {
    const width = Math.max(...f.columns.map((c) => c.name.length + c.type.length + 3));
    const rows = f.columns.map((c) => {
      const head = `\`${c.name}\` ${c.type}`;
      return `| ${head.padEnd(width)} | ${c.nullable ? 'yes' : 'no '} | ${c.about} |`;
    });
    return [
      `## ${f.name}`,
      '',
      `${f.about} Grain: ${f.grain}.`,
      '',
      `| ${'column'.padEnd(width)} | may be empty | meaning |`,
      `| ${'-'.repeat(width)} | --- | --- |`,
      ...rows,
    ].join('\n');
  }).join('\n\n');
  return `# Dashboard feeds

Run ${runId}, as of ${asOf}. Feed schema version ${FEED_SCHEMA_VERSION}.

Each feed is here twice: \`<feed>.parquet\` and \`<feed>.arrow\` (Arrow IPC file format), with the
same rows and columns. They are made only from the disclosure-controlled commissioner tables
(../commissioner), so the same rules hold: counts of 1 to 7 are suppressed (\`patients\` empty,
\`suppressed\` true), other counts are rounded to the nearest 5, costs are empty wherever their
count is suppressed, and a suppressed count is never shown as a number. Rates and shares are
worked out from the rounded counts. No feed holds a patient identifier.

After each published run, the feeds are also kept in \`OUT/history/as_of=<date>/<feed>.parquet\`
(one partition per as-of date; a re-run for the same date replaces it). Read every run's rows
with, for example:

    select * from read_parquet('OUT/history/*/cohorts_by_org.parquet', hive_partitioning = true)

${tables}
`;
}

interface PracticeLines {
  practice_code: string;
  status: string;
  lines: number;
  loaded: number;
  rejected: number;
  dropped: number;
  kept: number;
}

async function loadPracticeLines(conn: DuckDBConnection, practices: readonly PracticeLines[]) {
  await conn.run(
    `create or replace table dashboard_practice_lines (practice_code varchar, status varchar, lines bigint, loaded bigint, rejected bigint, dropped bigint, kept bigint)`,
  );
  const appender = await conn.createAppender('dashboard_practice_lines');
  for (const p of practices) {
    appender.appendVarchar(p.practice_code);
    appender.appendVarchar(p.status);
    for (const n of [p.lines, p.loaded, p.rejected, p.dropped, p.kept]) appender.appendBigInt(BigInt(n ?? 0));
    appender.endRow();
  }
  appender.closeSync();
}

/** The table a feed is built in, in the work database. */
export const feedTable = (feed: Pick<Feed, 'name'>) => `dashboard_${feed.name}`;

/** Fails the run when the SQL and the declaration disagree, before anything is written. */
async function checkColumns(conn: DuckDBConnection, feed: Feed): Promise<void> {
  const reader = await conn.runAndReadAll(
    `select column_name, data_type from duckdb_columns() where database_name = current_database() and table_name = $t order by column_index`,
    { t: feedTable(feed) },
  );
  const actual = reader.getRowObjectsJS().map((r) => `${r.column_name} ${r.data_type}`);
  const declared = feed.columns.map((c) => `${c.name} ${c.type}`);
  if (actual.join(', ') !== declared.join(', '))
    throw new IntegrityError(
      `dashboard feed ${feed.name} does not match its declaration in src/dashboard.ts: made [${actual.join(', ')}], declared [${declared.join(', ')}]`,
    );
}

/** A feed table as an Arrow IPC file, typed from the declaration rather than inferred. */
async function arrowFile(conn: DuckDBConnection, feed: Feed): Promise<Uint8Array> {
  // Dates leave DuckDB as day numbers so no time zone can shift them.
  const select = feed.columns
    .map((c) => {
      const n = quotedIdentifier(c.name);
      return c.type === 'DATE' ? `(${n} - date '1970-01-01')::integer as ${n}` : n;
    })
    .join(', ');
  const reader = await conn.runAndReadAll(`select ${select} from ${quotedIdentifier(feedTable(feed))}`);
  const columns = reader.getColumnsObjectJS();
  const schema = arrowSchema(feed);
  const length = reader.currentRowCount;
  const children = schema.fields.map((field, i) => {
    const c = feed.columns[i]!;
    const values = columns[c.name] ?? [];
    if (!c.nullable && values.some((v) => v === null))
      throw new IntegrityError(`dashboard feed ${feed.name}: ${c.name} is empty on some row`);
    return arrowData(c.type, field.type, values);
  });
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return tableToIPC(new Table(schema, new RecordBatch(schema, data)), 'file');
}

/**
 * One column's Arrow buffers, written straight from the values: the generic builder
 * (vectorFromArray) takes each value through a chain of calls, half the dashboard step.
 */
function arrowData(type: FeedType, field: DataType, values: readonly unknown[]) {
  const length = values.length;
  const validity = new Uint8Array((length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else validity[i >> 3]! |= 1 << (i & 7);
  });
  const nullBitmap = nullCount > 0 ? validity : undefined;
  const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
  switch (type) {
    case 'DOUBLE':
      return makeData({
        type: field as Float64,
        length,
        nullCount,
        nullBitmap,
        data: Float64Array.from(values, num),
      });
    case 'INTEGER':
      return makeData({
        type: field as Int32,
        length,
        nullCount,
        nullBitmap,
        data: Int32Array.from(values, num),
      });
    case 'DATE': // day numbers since 1970-01-01, as the query made them
      return makeData({
        type: field as DateDay,
        length,
        nullCount,
        nullBitmap,
        data: Int32Array.from(values, num),
      });
    case 'BIGINT':
      return makeData({
        type: field as Int64,
        length,
        nullCount,
        nullBitmap,
        data: BigInt64Array.from(values, (v) =>
          v === null || v === undefined ? 0n : BigInt(v as bigint | number),
        ),
      });
    case 'BOOLEAN': {
      const bits = new Uint8Array((length + 7) >> 3);
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ type: field as Bool, length, nullCount, nullBitmap, data: bits });
    }
    case 'VARCHAR': {
      const encoded = values.map((v) =>
        v === null || v === undefined ? EMPTY : Buffer.from(String(v), 'utf8'),
      );
      const valueOffsets = new Int32Array(length + 1);
      encoded.forEach((b, i) => (valueOffsets[i + 1] = valueOffsets[i]! + b.length));
      const data = new Uint8Array(valueOffsets[length]!);
      encoded.forEach((b, i) => data.set(b, valueOffsets[i]!));
      return makeData({ type: field as Utf8, length, nullCount, nullBitmap, valueOffsets, data });
    }
  }
}

const EMPTY = Buffer.alloc(0);

export interface DashboardSummary {
  feeds: Record<string, number>;
}

export async function writeDashboardFeeds(ctx: RunContext): Promise<DashboardSummary> {
  const { conn } = ctx;
  const dq = ctx.manifest.data_quality as { practices?: PracticeLines[] } | undefined;
  await loadPracticeLines(conn, dq?.practices ?? []);
  await setVariables(conn, {
    feed_schema_version: FEED_SCHEMA_VERSION,
    feed_run_id: ctx.runId,
    feed_as_of: ctx.asOf,
  });
  const source = join(ctx.runDir, 'commissioner', 'summary.duckdb');
  await conn.run(`attach ${quotedString(source)} as commissioner (read_only)`);
  try {
    await runSqlFile(conn, 'marts/dashboard_feeds.sql');
  } finally {
    await conn.run('detach commissioner');
  }

  const dir = join(ctx.runDir, 'dashboard');
  ensureDir(dir);
  const feeds: Record<string, number> = {};
  for (const feed of FEEDS) {
    await checkColumns(conn, feed);
    const parquet = join(dir, `${feed.name}.parquet`);
    await conn.run(
      `copy ${quotedIdentifier(feedTable(feed))} to ${quotedString(parquet)} (format parquet, compression zstd)`,
    );
    sealFile(parquet);
    const bytes = await arrowFile(conn, feed);
    writeFileDurable(join(dir, `${feed.name}.arrow`), bytes);
    const reader = await conn.runAndReadAll(
      `select count(*)::integer as n from ${quotedIdentifier(feedTable(feed))}`,
    );
    feeds[feed.name] = Number(reader.getRowObjectsJS()[0]!.n);
  }
  writeFileDurable(join(dir, 'README.md'), feedReadme(ctx.runId, ctx.asOf));
  return { feeds };
}
