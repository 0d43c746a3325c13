// `strata query`: questions answered from the latest published commissioner summaries. The
// summary database holds disclosure-controlled aggregates only. It is copied to a private
// folder and the copy opened read-only, with file access switched off and the configuration
// locked; every statement must be a SELECT, and each question runs under a time and a memory
// limit. Even a statement that got past those checks could not reach the published files:
// DuckDB lets a database write its own file and write-ahead log whatever its file-access
// settings say, and this instance never learns where the published database is.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import {
  DuckDBInstance,
  listValue,
  quotedIdentifier,
  quotedString,
  StatementType,
  type DuckDBConnection,
  type DuckDBMaterializedResult,
  type DuckDBPreparedStatement,
  type DuckDBValue,
} from '@duckdb/node-api';
import { stringify } from 'csv-stringify/sync';
import { configSchema, type Config } from './config.ts';
import { CliError, ConfigError, EXIT } from './errors.ts';
import { FILE_MODE, writeFileDurable } from './files.ts';
import { LAYOUT } from './publish.ts';
import { neutraliseCell } from './spreadsheet.ts';

export const LEVELS = ['practice', 'pcn', 'place', 'system'] as const;
export type Level = (typeof LEVELS)[number];
export const QUESTIONS = ['cohorts', 'tiers', 'attrition', 'sql'] as const;
export const FORMATS = ['table', 'csv', 'json', 'parquet'] as const;
export type Format = (typeof FORMATS)[number];

export type QueryLimits = Config['query'];

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

/** The configured limits with those given on the command line, checked as the configuration is. */
export function queryLimits(
  configured: QueryLimits,
  given: { timeout?: number; memoryLimit?: string; threads?: number },
): QueryLimits {
  const parsed = configSchema.shape.query.safeParse({
    timeoutSeconds: given.timeout ?? configured.timeoutSeconds,
    memoryLimit: given.memoryLimit ?? configured.memoryLimit,
    threads: given.threads ?? configured.threads,
  });
  if (!parsed.success)
    throw new ConfigError(
      `query limits are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` +
        ' (--timeout is seconds above 0, --memory-limit a size such as 1GB, --threads a whole number)',
    );
  return parsed.data;
}

/** Names the private folder holding the copy a question is answered from, removed after it. */
export const SCRATCH_PREFIX = 'strata-question-';

export interface Summary {
  conn: DuckDBConnection;
  /** The published run answering the questions. */
  runId: string;
  limits: QueryLimits;
  close(): void;
}

export async function openSummary(
  outDir: string,
  limits: QueryLimits = configSchema.shape.query.parse(undefined),
): Promise<Summary> {
  const path = summaryPath(outDir);
  if (!existsSync(path))
    throw new CliError(
      `no published run in ${resolve(outDir)} (looked for ${join(LAYOUT.latest, 'commissioner', 'summary.duckdb')}); run \`strata run\` first`,
      EXIT.badInput,
    );
  // Pin the run: `latest` may be switched by a run finishing while we read.
  const published = realpathSync(path);
  const scratch = mkdtempSync(join(tmpdir(), SCRATCH_PREFIX));
  const file = join(scratch, 'summary.duckdb');
  let instance: DuckDBInstance | undefined;
  const release = () => {
    instance?.closeSync();
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    copyFileSync(published, file);
    chmodSync(file, FILE_MODE);
    instance = await DuckDBInstance.create(file, {
      access_mode: 'READ_ONLY',
      memory_limit: limits.memoryLimit,
      threads: String(limits.threads),
      // Nothing spills to disk: the memory limit is the limit.
      temp_directory: '',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await instance.connect();
    await conn.run('set enable_external_access = false');
    await conn.run('set lock_configuration = true');
    return {
      conn,
      runId: basename(dirname(dirname(published))),
      limits,
      close() {
        conn.closeSync();
        release();
      },
    };
  } catch (err) {
    release();
    throw err;
  }
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

interface Statement {
  sql: string;
  params?: Record<string, DuckDBValue>;
}

/** The statement answering a question, after checking the question and its filters. */
async function statementFor(summary: Summary, opts: QueryOptions): Promise<Statement> {
  if (opts.question === 'sql') {
    if (!opts.sql?.trim())
      throw new CliError('strata query sql needs a statement, e.g. "select * from metadata"', EXIT.badInput);
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
    const known = await rowsOf(summary, {
      sql: `select count(*) filter (where place = $place) as places, count(*) filter (where pcn_code = $pcn) as pcns
       from cohort_summary`,
      params: { place: params.place, pcn: params.pcn },
    });
    const [places, pcns] = known.rows[0] as [bigint, bigint];
    if (opts.place !== undefined && places === 0n)
      throw new CliError(`no place called "${opts.place}" in the published summaries`, EXIT.badInput);
    if (opts.pcn !== undefined && pcns === 0n)
      throw new CliError(`no PCN with code "${opts.pcn}" in the published summaries`, EXIT.badInput);
  }
  return { sql: NAMED[opts.question as keyof typeof NAMED], params };
}

/**
 * The one statement in `sql`, prepared, if it is a SELECT. What was checked is what runs: the
 * prepared statement itself, never the text parsed a second time.
 */
async function prepareSelect(summary: Summary, statement: Statement): Promise<DuckDBPreparedStatement> {
  const extracted = await summary.conn.extractStatements(statement.sql).catch((err: unknown) => {
    throw refused(err);
  });
  if (extracted.count !== 1) throw new CliError('strata query sql runs exactly one statement', EXIT.badInput);
  const prepared = await extracted.prepare(0).catch((err: unknown) => {
    throw refused(err);
  });
  if (prepared.statementType !== StatementType.SELECT) {
    const kind = StatementType[prepared.statementType] ?? 'other';
    prepared.destroySync();
    throw new CliError(`query refused: only a SELECT can be asked, not a ${kind} statement`, EXIT.badInput);
  }
  try {
    if (statement.params) prepared.bind(statement.params);
  } catch (err) {
    prepared.destroySync();
    throw refused(err);
  }
  return prepared;
}

/**
 * Runs `work` under the question's limits: past the time limit the connection is interrupted,
 * and DuckDB stops a statement that needs more than its memory limit.
 */
async function limited<T>(summary: Summary, work: () => Promise<T>): Promise<T> {
  const { timeoutSeconds, memoryLimit } = summary.limits;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    summary.conn.interrupt();
  }, timeoutSeconds * 1000);
  try {
    return await work();
  } catch (err) {
    if (timedOut)
      throw new CliError(
        `query stopped at its time limit of ${timeoutSeconds} s; ask a narrower question, or raise --timeout (query.timeoutSeconds in the configuration)`,
        EXIT.queryLimit,
      );
    if (/Out of Memory Error/i.test(messageOf(err)))
      throw new CliError(
        `query stopped at its memory limit of ${memoryLimit}; ask a narrower question, or raise --memory-limit (query.memoryLimit in the configuration)`,
        EXIT.queryLimit,
      );
    if (err instanceof CliError) throw err;
    throw refused(err);
  } finally {
    clearTimeout(timer);
  }
}

async function rowsOf(summary: Summary, statement: Statement): Promise<QueryResult> {
  const prepared = await prepareSelect(summary, statement);
  try {
    const reader = await limited(summary, () => prepared.runAndReadAll());
    return { columns: reader.columnNames(), rows: reader.getRowsJS() };
  } finally {
    prepared.destroySync();
  }
}

/** Runs one question against an open summary. */
export async function ask(summary: Summary, opts: QueryOptions): Promise<QueryResult> {
  return rowsOf(summary, await statementFor(summary, opts));
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
  const prepared = await prepareSelect(summary, statement);
  let result: DuckDBMaterializedResult;
  try {
    result = await limited(summary, () => prepared.run());
  } finally {
    prepared.destroySync();
  }
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

/**
 * An answer is never written into the output folder: a file named there could replace what a
 * run published (the summary itself, or the target of `latest`).
 */
function checkOutputPath(output: string, outDir: string): void {
  const real = (path: string): string => {
    try {
      return realpathSync(path);
    } catch {
      return resolve(path);
    }
  };
  const out = real(outDir);
  const target = join(real(dirname(resolve(output))), basename(output));
  if (target === out || target.startsWith(out + sep))
    throw new CliError(
      `--output ${output} is inside the output folder ${out}: write answers somewhere else`,
      EXIT.badInput,
    );
}

/** The `strata query` command. */
export async function runQuery(
  opts: QueryOptions,
  io: QueryIo,
  limits: QueryLimits = configSchema.shape.query.parse(undefined),
): Promise<void> {
  const format = (opts.format ?? 'table') as Format;
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`--format must be one of ${FORMATS.join(', ')}`, EXIT.badInput);
  if (format === 'parquet' && !opts.output)
    throw new CliError('--format parquet needs --output FILE', EXIT.badInput);
  if (opts.output) checkOutputPath(opts.output, opts.out);
  const summary = await openSummary(opts.out, limits);
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
