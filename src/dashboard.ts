// Dashboard feeds: small tidy tables for BI tools and the HTML report, in dashboard/ of the
// run folder. They are built only from the disclosure-controlled commissioner tables (and the
// delivery's line counts), so nothing a feed holds can be finer than what commissioners
// already receive. The feeds are declared once, below: that declaration checks what the SQL
// produced, types the Arrow files, writes dashboard/README.md and the golden schema file
// (src/feeds.ts holds the declaration; this module writes the feeds).
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
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import { setVariables } from './db.ts';
import { IntegrityError } from './errors.ts';
import { ensureDir, sealFile, writeFileDurable } from './files.ts';
import { FEED_SCHEMA_VERSION, FEEDS, type Feed, type FeedType } from './feeds.ts';
import type { RunContext } from './stage.ts';

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
  const children = schema.fields.map((field, i) => {
    const c = feed.columns[i]!;
    const values = columns[c.name] ?? [];
    if (!c.nullable && values.some((v) => v === null))
      throw new IntegrityError(`dashboard feed ${feed.name}: ${c.name} is empty on some row`);
    // Day numbers become dates here; every other value is already of its declared type.
    const typed =
      c.type === 'DATE' ? values.map((v) => (v === null ? null : new Date(Number(v) * 86_400_000))) : values;
    return vectorFromArray(typed, field.type).data[0]!;
  });
  const data = makeData({
    type: new Struct(schema.fields),
    length: reader.currentRowCount,
    nullCount: 0,
    children,
  });
  return tableToIPC(new Table(schema, new RecordBatch(schema, data)), 'file');
}

export interface DashboardSummary {
  feeds: Record<string, number>;
}

/**
 * Before marts/dashboard_feeds.sql: the run's identity as variables the feeds carry, and the
 * published commissioner tables attached read-only, the only aggregates the feeds may use.
 */
export async function attachCommissionerTables(ctx: RunContext): Promise<void> {
  await setVariables(ctx.conn, {
    feed_schema_version: FEED_SCHEMA_VERSION,
    feed_run_id: ctx.runId,
    feed_as_of: ctx.asOf,
  });
  const source = join(ctx.runDir, 'commissioner', 'summary.duckdb');
  await ctx.conn.run(`attach ${quotedString(source)} as commissioner (read_only)`);
}

/** After marts/dashboard_feeds.sql: each feed checked against its declaration and written. */
export async function writeDashboardFeeds(ctx: RunContext): Promise<DashboardSummary> {
  const { conn } = ctx;
  await conn.run('detach commissioner');
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
