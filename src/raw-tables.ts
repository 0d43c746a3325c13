// The raw_* tables: one per kind of delivery file, loaded by DuckDB's read_csv with the
// contract's names and types (and the few columns staging needs worked out from each line as
// it is read), either one set-based statement over all the files of a kind or one statement
// per file side by side, every rejected line kept in rejected_line. Staging keeps the loaded
// lines where they are and stores only those it sets aside.
import {
  listValue,
  quotedIdentifier,
  quotedString,
  type DuckDBConnection,
  type DuckDBInstance,
} from '@duckdb/node-api';
import pLimit from 'p-limit';
import { ICD10_PATTERN, type FileContract } from './contract.ts';
import type { IngestedFile } from './stage.ts';

export const RAW_TABLE: Record<string, string> = {
  patients: 'raw_patients',
  observations: 'raw_observations',
  medications: 'raw_medications',
  activity: 'raw_activity',
  practices: 'raw_practices',
  lsoa: 'raw_lsoa',
};

function readCsvCall(contract: FileContract, rejectsTable: string, rejectsScan: string): string {
  const columns = Object.entries(contract.columns)
    .map(([name, c]) => `${quotedString(name)}: ${quotedString(c.sqlType)}`)
    .join(', ');
  // Nothing is guessed: the contract gives names and types; dialect is fixed.
  return `read_csv($files, columns = {${columns}}, header = true, delim = ',', quote = '"', escape = '"',
    auto_detect = false, strict_mode = true, null_padding = false, dateformat = '%Y-%m-%d',
    store_rejects = true, rejects_table = ${quotedString(rejectsTable)}, rejects_scan = ${quotedString(rejectsScan)})`;
}

/**
 * Columns a kind of file gains as its lines are read, so that staging uses the loaded table as
 * it stands and never copies it to add them: a spell's valid ICD-10 diagnoses as a list (a
 * damaged code is removed, not the spell: its cost is real), and how many codes it sent that
 * are not valid (those sent, primary and secondary, less the valid ones).
 */
const DERIVED: Record<string, { columns: string; select: string }> = {
  activity: {
    columns: 'diagnoses VARCHAR[], invalid_diagnoses BIGINT',
    select: `list_filter(list_prepend(primary_diagnosis, coalesce(string_split(secondary_diagnoses, ';'), [])),
        x -> regexp_full_match(x, $icd10)) as diagnoses,
      (primary_diagnosis is not null)::BIGINT + coalesce(len(string_split(secondary_diagnoses, ';')), 0)
        - len(diagnoses) as invalid_diagnoses`,
  },
};

export async function createRawTable(conn: DuckDBConnection, contract: FileContract): Promise<void> {
  const columns = Object.entries(contract.columns)
    .map(([n, c]) => `${quotedIdentifier(n)} ${c.sqlType}`)
    .concat(DERIVED[contract.name]?.columns ?? [])
    .join(', ');
  await conn.run(
    `create or replace table ${quotedIdentifier(RAW_TABLE[contract.name]!)} (file_id INTEGER, ${columns})`,
  );
}

/** Reject tables are temporary and belong to the connection that scanned: copy them out. */
async function keepRejects(conn: DuckDBConnection, rejects: string, scans: string): Promise<void> {
  await conn.run(
    `insert into rejected_line
     select df.file_id, r.line::BIGINT, r.column_name, r.error_type::VARCHAR
     from ${quotedIdentifier(rejects)} r
     join ${quotedIdentifier(scans)} s on s.scan_id = r.scan_id and s.file_id = r.file_id
     join delivery_file df on df.absolute_path = s.file_path`,
  );
}

export type IngestMode = 'set' | 'per-file';

/**
 * Loads the files of one kind: either one set-based statement over all of them (DuckDB
 * parallelises across files), or one statement per file on its own connection, several
 * at once. The benchmark measures both.
 */
export async function loadKind(
  instance: DuckDBInstance,
  conn: DuckDBConnection,
  contract: FileContract,
  files: IngestedFile[],
  mode: IngestMode,
  concurrency: number,
  opts: { append?: boolean } = {},
): Promise<void> {
  if (!opts.append) await createRawTable(conn, contract);
  if (!files.length) return;
  const table = quotedIdentifier(RAW_TABLE[contract.name]!);
  const derived = DERIVED[contract.name];
  const cols = Object.keys(contract.columns)
    .map(quotedIdentifier)
    .concat(derived?.select ?? [])
    .join(', ');
  const params: Record<string, string> = derived ? { icd10: ICD10_PATTERN } : {};
  if (mode === 'set' || files.length === 1) {
    // Named per load: a connection's reject tables keep what earlier scans put in them.
    const rejects = `rejects_${contract.name}_${files[0]!.fileId}`;
    const scans = `rejects_scan_${contract.name}_${files[0]!.fileId}`;
    await conn.run(
      `insert into ${table}
       select list_extract($ids, (file_index + 1)::INTEGER)::INTEGER as file_id, ${cols}
       from ${readCsvCall(contract, rejects, scans)}`,
      {
        files: listValue(files.map((f) => f.file.absolute)),
        ids: listValue(files.map((f) => f.fileId)),
        ...params,
      },
    );
    await keepRejects(conn, rejects, scans);
    return;
  }
  // One connection per concurrent task: DuckDB connections are not shared between tasks.
  const limit = pLimit(concurrency);
  await Promise.all(
    files.map((f) =>
      limit(async () => {
        const own = await instance.connect();
        try {
          const rejects = `rejects_${f.fileId}`;
          const scans = `rejects_scan_${f.fileId}`;
          await own.run(
            `insert into ${table} select $id::INTEGER, ${cols} from ${readCsvCall(contract, rejects, scans)}`,
            {
              files: listValue([f.file.absolute]),
              id: f.fileId,
              ...params,
            },
          );
          await keepRejects(own, rejects, scans);
        } finally {
          own.closeSync();
        }
      }),
    ),
  );
}

/** A quarantined file contributes nothing: its rows leave `tables`, its rejected lines too. */
export async function removeFiles(conn: DuckDBConnection, ids: number[], tables: string[]): Promise<void> {
  if (!ids.length) return;
  for (const table of [...tables, 'rejected_line'])
    await conn.run(`delete from ${quotedIdentifier(table)} where list_contains($ids, file_id)`, {
      ids: listValue(ids),
    });
}
