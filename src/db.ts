// The run's work database: embedded DuckDB, in a file under the output by default (or in
// memory), spilling to a folder beside it. SQL comes from files in sql/; values reach it
// only as bound parameters or DuckDB variables, never spliced into the text.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  listValue,
  quotedIdentifier,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { Config } from './config.ts';
import { projectPath } from './paths.ts';

export interface WorkDbOptions {
  /** A database file (compressed, spills by itself), or in memory when absent. */
  path?: string;
  /** Folders DuckDB may read or write; everything else is refused. */
  allowedDirectories: string[];
  tempDirectory: string;
  memoryLimit: string;
  threads: number;
  /** Off for the work database: order is asked for where it matters. */
  preserveInsertionOrder?: boolean;
}

export async function openWorkDb(opts: WorkDbOptions): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(opts.path ?? ':memory:', {
    threads: String(opts.threads),
    memory_limit: opts.memoryLimit,
    temp_directory: opts.tempDirectory,
    preserve_insertion_order: String(opts.preserveInsertionOrder ?? false),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  // File access is narrowed to the delivery and output folders, then the configuration is
  // locked so that no later statement can widen it.
  const conn = await instance.connect();
  await conn.run('set allowed_directories = $dirs', {
    dirs: listValue(opts.allowedDirectories.map((d) => d.replace(/\/?$/, '/'))),
  });
  await conn.run('set enable_external_access = false');
  await conn.run('set lock_configuration = true');
  conn.closeSync();
  return instance;
}

/** Whether the configuration keeps the working tables in a file (checkpointed after each SQL file). */
export const fileBacked = (resources: Config['resources']): boolean => resources.workDatabase === 'file';

/** The work database the configuration's resources ask for, its file and spill folder in workDir. */
export function openConfiguredWorkDb(
  resources: Config['resources'],
  workDir: string,
  allowedDirectories: string[],
): Promise<DuckDBInstance> {
  return openWorkDb({
    ...(fileBacked(resources) ? { path: join(workDir, 'work.duckdb') } : {}),
    allowedDirectories,
    tempDirectory: workDir,
    memoryLimit: resources.memoryLimit,
    threads: resources.threads ?? availableParallelism(),
  });
}

const sqlText = new Map<string, string>();

/** The text of a file in sql/ (read once per process). */
export function sqlFileText(file: string): string {
  let text = sqlText.get(file);
  if (text === undefined) {
    text = readFileSync(projectPath('sql', file), 'utf8');
    sqlText.set(file, text);
  }
  return text;
}

/**
 * The statements of a file in sql/, as text, in order: for tests that pick one statement out.
 * A rough split (statements end with `;` at a line end); runSqlFile lets DuckDB's own parser
 * split the file instead.
 */
export function sqlStatements(file: string): string[] {
  return sqlFileText(file)
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.replace(/--[^\n]*/g, '').trim().length > 0);
}

/** Runs every statement of a file in sql/, split by DuckDB's parser, in order. */
export async function runSqlFile(conn: DuckDBConnection, file: string): Promise<void> {
  try {
    await runStatements(conn, sqlFileText(file));
  } catch (err) {
    throw new Error(`sql/${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Runs every statement of a script, split by DuckDB's parser, in order. */
export async function runStatements(conn: DuckDBConnection, script: string): Promise<void> {
  const statements = await conn.extractStatements(script);
  for (let i = 0; i < statements.count; i++) {
    const prepared = await statements.prepare(i);
    // Destroyed at once, not left to the garbage collector: until then a statement keeps its
    // hash tables and materialised CTEs, hundreds of MB at scale 1, inside DuckDB's limit.
    try {
      await prepared.run();
    } finally {
      prepared.destroySync();
    }
  }
}

/**
 * Runs SQL files in order. A work database in a file is checkpointed after each: until then
 * the blocks of the tables a file dropped stay held, and a large delivery runs out of memory.
 * In memory a checkpoint would only compress tables, at a cost in time.
 */
export async function runSqlFiles(
  conn: DuckDBConnection,
  files: string[],
  fileBacked: boolean,
): Promise<void> {
  for (const file of files) {
    await runSqlFile(conn, file);
    if (fileBacked) await conn.run('checkpoint');
  }
}

/** Sets DuckDB variables (read in SQL with getvariable('name')) from bound values. */
export async function setVariables(
  conn: DuckDBConnection,
  values: Record<string, DuckDBValue>,
): Promise<void> {
  for (const [name, value] of Object.entries(values)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad variable name ${name}`);
    await conn.run(`set variable ${name} = $value`, { value });
  }
}

export type Row = Record<string, unknown>;

/** Rows as plain objects; BIGINT and HUGEINT become numbers here, deliberately (counts fit in 2^53). */
export async function queryRows<T extends Row = Row>(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql, params);
  return reader.getRowObjectsJS().map((r) => {
    const out: Row = {};
    for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : v;
    return out as T;
  });
}

export type RawColumns = Record<string, unknown[]>;

/**
 * A result as one array per column, read chunk by chunk from the vectors: the reader's generic
 * per-value conversion is a large share of a model fit's time (docs/performance.md). Values
 * come as DuckDB gives them (DOUBLE, INTEGER and VARCHAR as numbers and strings; BIGINT as
 * bigint).
 */
export async function readColumns(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<RawColumns> {
  const result = await conn.run(sql, params);
  const names = result.columnNames();
  const columns: unknown[][] = names.map(() => []);
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const rows = chunk.rowCount;
    for (let c = 0; c < names.length; c++) {
      const vector = chunk.getColumnVector(c);
      const out = columns[c]!;
      for (let i = 0; i < rows; i++) out.push(vector.getItem(i));
    }
  }
  return Object.fromEntries(names.map((name, c) => [name, columns[c]!]));
}

export async function queryValue<T = unknown>(
  conn: DuckDBConnection,
  sql: string,
  params?: Record<string, DuckDBValue>,
): Promise<T> {
  const rows = await queryRows(conn, sql, params);
  const first = rows[0];
  return (first ? Object.values(first)[0] : undefined) as T;
}

export type ColumnType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN';
export type Cell = string | number | bigint | boolean | null | undefined;

/**
 * Creates (or replaces) `table` with these columns and appends the rows, each an object keyed
 * by column name (a missing key is NULL) or an array in column order. For tables built from
 * what TypeScript holds: the declarations, the controlled commissioner figures.
 */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  columns: Record<string, ColumnType>,
  rows: Iterable<Readonly<Record<string, Cell>> | readonly Cell[]>,
): Promise<void> {
  const declared = Object.entries(columns);
  await conn.run(
    `create or replace table ${quotedIdentifier(table)} (${declared.map(([n, t]) => `${quotedIdentifier(n)} ${t}`).join(', ')})`,
  );
  const appender = await conn.createAppender(table);
  for (const row of rows) {
    for (const [i, [name, type]] of declared.entries()) {
      const v = Array.isArray(row)
        ? (row as readonly Cell[])[i]
        : (row as Readonly<Record<string, Cell>>)[name];
      if (v === null || v === undefined) appender.appendNull();
      else if (type === 'VARCHAR') appender.appendVarchar(String(v));
      else if (type === 'INTEGER') appender.appendInteger(Number(v));
      else if (type === 'BIGINT') appender.appendBigInt(BigInt(v));
      else if (type === 'DOUBLE') appender.appendDouble(Number(v));
      else appender.appendBoolean(Boolean(v));
    }
    appender.endRow();
  }
  appender.closeSync();
}
