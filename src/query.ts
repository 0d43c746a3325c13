// `strata query`: questions answered from the latest published commissioner summaries. The
// summary database holds disclosure-controlled aggregates only, and it is opened read-only
// in its own DuckDB with file access switched off and the configuration locked, so even
// free SQL cannot read another file, write one, attach a database or undo those settings.
import { chmodSync, existsSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  DuckDBInstance,
  listValue,
  quotedIdentifier,
  quotedString,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { stringify } from 'csv-stringify/sync';
import { CliError, EXIT } from './errors.ts';
import { neutraliseCell } from './practice-lists.ts';
import { FILE_MODE, LAYOUT, writeFileDurable } from './publish.ts';

export const LEVELS = ['practice', 'pcn', 'place', 'system'] as const;
export type Level = (typeof LEVELS)[number];
export const QUESTIONS = ['cohorts', 'tiers', 'attrition', 'sql'] as const;
export const FORMATS = ['table', 'csv', 'json', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];

export interface QueryOptions {
  question: string;
  /** The statement, for `sql`. */
  sql?: string;
  out: string;
  level?: string;
  place?: string;
  pcn?: string;
  format?: string;
  output?: string;
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
}

/** Where `strata run` publishes the summaries of the run `latest` points to. */
export function summaryPath(outDir: string): string {
  return join(resolve(outDir), LAYOUT.latest, 'commissioner', 'summary.duckdb');
}

export interface Summary {
  conn: DuckDBConnection;
  /** The published run answering the questions. */
  runId: string;
  close(): void;
}

export async function openSummary(outDir: string): Promise<Summary> {
  const path = summaryPath(outDir);
  if (!existsSync(path))
    throw new CliError(
      `no published run in ${resolve(outDir)} (looked for ${join(LAYOUT.latest, 'commissioner', 'summary.duckdb')}); run \`strata run\` first`,
      EXIT.badInput,
    );
  // Pin the run: `latest` may be switched by a run finishing while we read.
  const file = realpathSync(path);
  const instance = await DuckDBInstance.create(file, {
    access_mode: 'READ_ONLY',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  await conn.run('set enable_external_access = false');
  await conn.run('set lock_configuration = true');
  return {
    conn,
    runId: basename(dirname(dirname(file))),
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

const FILTERED_ORGS = `
  select distinct org_code from cohort_summary
  where level = $level
    and ($place::VARCHAR is null or place = $place)
    and ($pcn::VARCHAR is null or pcn_code = $pcn)`;

const NAMED: Record<Exclude<(typeof QUESTIONS)[number], 'sql'>, string> = {
  cohorts: `
    select level, org_code, org_name, cohort, patients, observed_cost_12m, predicted_cost_12m, suppressed
    from cohort_summary
    where level = $level and org_code in (${FILTERED_ORGS})
    order by level_order, org_code, group_order`,
  tiers: `
    select level, org_code, org_name, tier, patients, observed_cost_12m, predicted_cost_12m, suppressed
    from tier_summary
    where level = $level and org_code in (${FILTERED_ORGS})
    order by level_order, org_code, group_order`,
  attrition: `
    select level, org_code, org_name, step, patients, suppressed
    from attrition
    where level = $level and org_code in (${FILTERED_ORGS})
    order by level_order, org_code, step_order`,
};

function levelFor(opts: QueryOptions): Level {
  if (opts.level === undefined) return opts.pcn ? 'practice' : opts.place ? 'pcn' : 'system';
  if (!(LEVELS as readonly string[]).includes(opts.level))
    throw new CliError(`--level must be one of ${LEVELS.join(', ')}, not "${opts.level}"`, EXIT.badInput);
  return opts.level as Level;
}

async function rowsOf(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<QueryResult> {
  const reader = await conn.runAndReadAll(sql, params);
  return { columns: reader.columnNames(), rows: reader.getRowsJS() };
}

interface Statement {
  sql: string;
  params?: Record<string, DuckDBValue>;
}

/** The statement answering a question, after checking the question and its filters. */
async function statementFor(summary: Summary, opts: QueryOptions): Promise<Statement> {
  const { conn } = summary;
  if (opts.question === 'sql') {
    if (!opts.sql?.trim())
      throw new CliError('strata query sql needs a statement, e.g. "select * from metadata"', EXIT.badInput);
    const statements = await conn.extractStatements(opts.sql).catch((err: unknown) => {
      throw refused(err);
    });
    if (statements.count !== 1)
      throw new CliError('strata query sql runs exactly one statement', EXIT.badInput);
    return { sql: opts.sql };
  }
  if (opts.sql !== undefined)
    throw new CliError(`strata query ${opts.question} takes options, not a statement`, EXIT.badInput);
  if (!Object.hasOwn(NAMED, opts.question))
    throw new CliError(
      `unknown question "${opts.question}"; ask one of ${QUESTIONS.join(', ')}`,
      EXIT.badInput,
    );
  const params = { level: levelFor(opts), place: opts.place ?? null, pcn: opts.pcn ?? null };
  if (opts.place !== undefined || opts.pcn !== undefined) {
    const known = await rowsOf(
      conn,
      `select count(*) filter (where place = $place) as places, count(*) filter (where pcn_code = $pcn) as pcns
       from cohort_summary`,
      { place: params.place, pcn: params.pcn },
    );
    const [places, pcns] = known.rows[0] as [bigint, bigint];
    if (opts.place !== undefined && places === 0n)
      throw new CliError(`no place called "${opts.place}" in the published summaries`, EXIT.badInput);
    if (opts.pcn !== undefined && pcns === 0n)
      throw new CliError(`no PCN with code "${opts.pcn}" in the published summaries`, EXIT.badInput);
  }
  return { sql: NAMED[opts.question as keyof typeof NAMED], params };
}

/** Runs one question against an open summary. */
export async function ask(summary: Summary, opts: QueryOptions): Promise<QueryResult> {
  const { sql, params } = await statementFor(summary, opts);
  try {
    return await rowsOf(summary.conn, sql, params);
  } catch (err) {
    throw refused(err);
  }
}

/** What DuckDB refused and why, in one line (the statement touches aggregates only). */
function refused(err: unknown): CliError {
  return new CliError(`query refused: ${messageOf(err)}`, EXIT.badInput);
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** A value as plain JSON-able data: counts arrive as BIGINT and fit in a number. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  return v;
}

function text(v: unknown): string {
  const p = plain(v);
  if (p === null || p === undefined) return '';
  if (typeof p === 'object') return JSON.stringify(p);
  return String(p);
}

/** Columns aligned for a terminal; numbers right-aligned with thousands separators. */
export function formatTable(result: QueryResult): string {
  if (!result.rows.length) return `(no rows)\n`;
  const numeric = result.columns.map((_, i) =>
    result.rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'),
  );
  const cells = result.rows.map((r) =>
    r.map((v, i) => {
      const p = plain(v);
      return numeric[i] && typeof p === 'number'
        ? p.toLocaleString('en-GB', { maximumFractionDigits: 3 })
        : text(v);
    }),
  );
  const widths = result.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return (
    [
      line(result.columns),
      line(widths.map((w) => '-'.repeat(w))),
      ...cells.map(line),
      `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`,
    ].join('\n') + '\n'
  );
}

export function formatCsv(result: QueryResult): string {
  return stringify([result.columns, ...result.rows.map((r) => r.map((v) => neutraliseCell(text(v))))]);
}

export function formatJson(result: QueryResult): string {
  const objects = result.rows.map((r) => Object.fromEntries(result.columns.map((c, i) => [c, plain(r[i])])));
  return JSON.stringify(objects, null, 2) + '\n';
}

/**
 * Parquet is written by a second, in-memory DuckDB that may write only into the output's
 * folder: the summary's own instance stays unable to write anything.
 */
export async function writeParquet(summary: Summary, statement: Statement, file: string): Promise<number> {
  const target = resolve(file);
  const result = await summary.conn.run(statement.sql, statement.params).catch((err: unknown) => {
    throw refused(err);
  });
  const writer = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await writer.connect();
  try {
    await conn.run('set allowed_directories = $dirs', {
      dirs: listValue([dirname(target).replace(/\/?$/, '/')]),
    });
    await conn.run('set enable_external_access = false');
    await conn.run('set lock_configuration = true');
    const names = result.columnNames();
    const types = result.columnTypes();
    await conn.run(
      `create table answer (${names.map((n, i) => `${quotedIdentifier(n)} ${types[i]!.toString()}`).join(', ')})`,
    );
    const appender = await conn.createAppender('answer');
    let rows = 0;
    for (
      let chunk = await result.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await result.fetchChunk()
    ) {
      appender.appendDataChunk(chunk);
      rows += chunk.rowCount;
    }
    appender.closeSync();
    await conn.run(`copy answer to ${quotedString(target)} (format parquet, compression zstd)`);
    chmodSync(target, FILE_MODE);
    return rows;
  } finally {
    conn.closeSync();
    writer.closeSync();
  }
}

export interface QueryIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** The `strata query` command. */
export async function runQuery(opts: QueryOptions, io: QueryIo): Promise<void> {
  const format = (opts.format ?? 'table') as Format;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`--format must be one of ${FORMATS.join(', ')}`, EXIT.badInput);
  if (format === 'parquet' && !opts.output)
    throw new CliError('--format parquet needs --output FILE', EXIT.badInput);
  const summary = await openSummary(opts.out);
  try {
    if (format === 'parquet') {
      const rows = await writeParquet(summary, await statementFor(summary, opts), opts.output!);
      io.stderr.write(`wrote ${rows} rows to ${opts.output} (run ${summary.runId})\n`);
      return;
    }
    const result = await ask(summary, opts);
    const body =
      format === 'csv' ? formatCsv(result) : format === 'json' ? formatJson(result) : formatTable(result);
    if (opts.output) {
      writeFileDurable(opts.output, body);
      io.stderr.write(`wrote ${result.rows.length} rows to ${opts.output} (run ${summary.runId})\n`);
    } else io.stdout.write(body);
  } finally {
    summary.close();
  }
}
