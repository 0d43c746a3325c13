// The PostgreSQL peer of the benchmark: the same delivery and the same cohorts, done the
// way a careful analyst would do them in PostgreSQL 15, so the bench can say what an
// analyst without strata would wait. Malformed lines are dropped rather than allowed to
// abort a load, because a peer that fails on real deliveries measures nothing.
//
// Timings exclude starting and stopping the throwaway cluster: an analyst already has a
// server running. Ingest covers hashing, loading, validating casts, deduplication,
// indexes and ANALYZE; cohorts covers loading the codelists and rules and every step up
// to the final counts.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ODS_PRACTICE,
  activityFile,
  lsoaFile,
  medicationsFile,
  observationsFile,
  patientsFile,
  practicesFile,
  type FileContract,
} from '../../src/contract.ts';
import { cohortSql, insertRows } from './cohort-sql.ts';
import {
  makeClusterDir,
  postgresAvailable,
  psqlQuery,
  psqlScript,
  startCluster,
  stopClusterSync,
  type Cluster,
  type Runner,
} from './cluster.ts';
import { catProgram, lit, pgPattern } from './sql-text.ts';

export { postgresAvailable };

export interface PostgresPeerOptions {
  delivery: string;
  /** YYYY-MM-DD */
  asOf: string;
  /** The throwaway cluster lives in a temporary folder under it. */
  workDir: string;
  log?: (msg: string) => void;
}

export interface PostgresPeerResult {
  ingest_s: number;
  cohorts_s: number;
  total_s: number;
  counts: { eligible: number; multimorbidity_5plus: number; frailty: number };
}

// ---------------------------------------------------------------- SQL helpers

function pgType(sqlType: string): string {
  if (sqlType === 'DATE') return 'date';
  if (sqlType === 'DOUBLE') return 'double precision';
  if (sqlType === 'TINYINT') return 'smallint';
  return 'text';
}

/**
 * Guard and cast of each contract column, given the SQL text of each raw value. A row is
 * dropped only for what typed columns would refuse (a value that does not cast, a missing
 * required value), as strata's loader does; a malformed code inside a text column is
 * left for the step that uses it, so one bad secondary diagnosis does not hide a spell.
 */
function typedColumns(
  contract: FileContract,
  raw: (i: number) => string,
): { guards: string[]; casts: string[] } {
  const guards: string[] = [];
  const casts: string[] = [];
  Object.entries(contract.columns).forEach(([name, col], i) => {
    const x = raw(i);
    const type = pgType(col.sqlType);
    const checks: string[] = [];
    if (type !== 'text' || col.sqlType.startsWith('ENUM'))
      checks.push(`${x} ~ ${lit(pgPattern(col.pattern))}`);
    if (type === 'date') checks.push(`is_real_date(${x})`);
    // Age arithmetic later casts it to a first-of-month date.
    if (name === 'birth_month') checks.push(`is_real_date(${x} || '-01')`);
    if (!col.nullable) checks.push(`${x} <> ''`);
    const ok = checks.join(' and ');
    if (checks.length) guards.push(col.nullable ? `(nullif(${x}, '') is null or (${ok}))` : `(${ok})`);
    const value = col.nullable ? `nullif(${x}, '')` : x;
    casts.push(`${type === 'text' ? value : `${value}::${type}`} as ${name}`);
  });
  return { guards, casts };
}

const SETUP_SQL = `
-- Calendar-valid YYYY-MM-DD without raising: a cast that raises would abort the whole load.
create function is_real_date(t text) returns boolean language sql immutable parallel safe
return case when t ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' and substr(t, 1, 4)::int >= 1 then
  substr(t, 9, 2)::int <= case substr(t, 6, 2)::int
    when 2 then case when substr(t, 1, 4)::int % 4 = 0
                      and (substr(t, 1, 4)::int % 100 <> 0 or substr(t, 1, 4)::int % 400 = 0) then 29 else 28 end
    when 4 then 30 when 6 then 30 when 9 then 30 when 11 then 30 else 31 end
  else false end;
create table delivery_file (file_id int primary key, kind text, practice_code text, path text);
`;

/** Loads reference files with the CSV parser (their names are quoted), then validates. */
function referenceSql(contract: FileContract, path: string): string {
  const names = Object.keys(contract.columns);
  const { guards, casts } = typedColumns(contract, (i) => names[i]!);
  return `
create unlogged table stg_${contract.name} (${names.map((n) => `${n} text`).join(', ')});
\\copy stg_${contract.name} from program '${catProgram(path)}' with (format csv, header true)
create table ${contract.name} as select distinct ${casts.join(', ')} from stg_${contract.name} where ${guards.join(' and ')};
drop table stg_${contract.name};
`;
}

interface DataFile {
  fileId: number;
  contract: FileContract;
  practiceCode: string | null;
  path: string;
}

/**
 * Each line arrives as one text value (a delimiter and quote that never occur), so a line
 * with the wrong number of fields is a row to drop, not an error that stops COPY.
 */
function kindSql(contract: FileContract, files: DataFile[], asOf: string): string {
  const t = contract.name;
  const n = Object.keys(contract.columns).length;
  const { guards, casts } = typedColumns(contract, (i) => `f[${i + 1}]`);
  const out: string[] = [
    `\\echo load ${t}: ${files.length} files`,
    `create unlogged table stg_${t} (file_id int default current_setting('peer.file_id')::int, line text);`,
  ];
  for (const f of files) {
    out.push(`set peer.file_id = '${f.fileId}';`);
    out.push(
      `\\copy stg_${t}(line) from program '${catProgram(f.path)}' with (format csv, header true, delimiter E'\\x01', quote E'\\x02')`,
    );
  }
  // Without statistics the planner guesses a handful of rows and picks nested loops.
  out.push(`analyze stg_${t};`);
  // Only registrations need the practice, which the folder rather than the file names.
  const practice = contract === patientsFile ? 'df.practice_code, ' : '';
  const join = contract === patientsFile ? 'join delivery_file df using (file_id)' : '';
  // Codes dated after the as-of date are not yet known on it. Compared as text, which
  // orders ISO dates correctly, because a cast here could run before the guards do.
  const dated = Object.keys(contract.columns).findIndex((c) => c === 'recorded_date' || c === 'issue_date');
  const notFuture = dated >= 0 ? ` and f[${dated + 1}] <= ${lit(asOf)}` : '';
  out.push(`\\echo cast ${t}`);
  out.push(`create table ${t} as
select distinct ${practice}${casts.join(', ')}
from (select file_id, string_to_array(line, ',') as f from stg_${t} offset 0) s ${join}
where cardinality(f) = ${n} and ${guards.join(' and ')}${notFuture};`);
  out.push(`drop table stg_${t};`);
  out.push(`\\echo index ${t}`);
  out.push(`create index on ${t} (pseudo_id);`);
  if (contract === observationsFile) out.push(`create index on ${t} (snomed_code);`);
  if (contract === patientsFile) out.push(`create index on ${t} (practice_code);`);
  out.push(`analyze ${t};`);
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------- delivery

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function findFile(dir: string, stem: string): string | null {
  for (const name of [`${stem}.csv`, `${stem}.csv.gz`])
    if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

async function deliveryFiles(
  delivery: string,
): Promise<{ practices: string; lsoa: string; data: DataFile[] }> {
  const practices = join(delivery, 'reference', 'practices.csv');
  const lsoa = join(delivery, 'reference', 'lsoa.csv');
  if (!existsSync(practices) || !existsSync(lsoa)) throw new Error(`${delivery}: reference files missing`);
  // Only folders of listed practices are read, as strata does.
  const listed = new Set(
    readFileSync(practices, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[0]!.trim())
      .filter((c) => ODS_PRACTICE.test(c)),
  );
  const data: DataFile[] = [];
  const practiceRoot = join(delivery, 'practices');
  const folders = existsSync(practiceRoot) ? readdirSync(practiceRoot).sort() : [];
  for (const code of folders) {
    if (!listed.has(code)) continue;
    for (const contract of [patientsFile, observationsFile, medicationsFile]) {
      const path = findFile(join(practiceRoot, code), contract.name);
      if (path) data.push({ fileId: 0, contract, practiceCode: code, path });
    }
  }
  const secondary = join(delivery, 'secondary-care');
  if (existsSync(secondary)) {
    for (const name of readdirSync(secondary).sort()) {
      if (/\.csv(\.gz)?$/.test(name))
        data.push({ fileId: 0, contract: activityFile, practiceCode: null, path: join(secondary, name) });
    }
  }
  // A file resent with the same bytes is loaded once.
  const seen = new Set<string>();
  const hashes = await Promise.all(data.map((f) => sha256(f.path)));
  const unique = data.filter((f, i) => {
    const key = `${f.contract.name}:${hashes[i]}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.forEach((f, i) => (f.fileId = i + 1));
  return { practices, lsoa, data: unique };
}

// ---------------------------------------------------------------- entry point

export async function runPostgresPeer(opts: PostgresPeerOptions): Promise<PostgresPeerResult> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.asOf)) throw new Error(`as-of must be YYYY-MM-DD, got ${opts.asOf}`);
  const bin = await postgresAvailable();
  if (!bin) throw new Error('PostgreSQL binaries not found');
  const log = opts.log ?? (() => undefined);
  const r: Runner = { bin, asRoot: process.getuid?.() === 0, log };
  const delivery = resolve(opts.delivery);

  const dir = await makeClusterDir(r, opts.workDir);
  const cluster: Cluster = { dir, data: join(dir, 'data'), socketDir: dir, port: 0 };
  // An exit mid-run (process.exit, an uncaught error) must not leave a server behind.
  const onExit = () => stopClusterSync(r, cluster);
  process.once('exit', onExit);
  try {
    const startedAt = Date.now();
    await startCluster(r, cluster);
    log(
      `postgres ${bin} cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (port ${cluster.port})`,
    );

    const t0 = performance.now();
    const files = await deliveryFiles(delivery);
    const registry = files.data.map((f) => [f.fileId, f.contract.name, f.practiceCode, f.path]);
    await psqlScript(
      r,
      cluster,
      'setup',
      `${SETUP_SQL}
${insertRows('delivery_file', registry)}
${referenceSql(practicesFile, files.practices)}
${referenceSql(lsoaFile, files.lsoa)}
`,
    );
    // One session per file kind, as an analyst running the four loads side by side would.
    const kinds = [observationsFile, medicationsFile, activityFile, patientsFile];
    const sessions = Math.max(1, Math.min(kinds.length, availableParallelism()));
    const queue = [...kinds];
    await Promise.all(
      Array.from({ length: sessions }, async () => {
        for (let k = queue.shift(); k; k = queue.shift()) {
          const kind = k;
          await psqlScript(
            r,
            cluster,
            `load-${kind.name}`,
            kindSql(
              kind,
              files.data.filter((f) => f.contract === kind),
              opts.asOf,
            ),
          );
        }
      }),
    );
    const t1 = performance.now();
    log(`ingest ${((t1 - t0) / 1000).toFixed(2)} s`);

    await psqlScript(r, cluster, 'cohorts', cohortSql(opts.asOf));
    const line = await psqlQuery(
      r,
      cluster,
      'select eligible, multimorbidity_5plus, frailty from peer_counts',
    );
    const t2 = performance.now();
    log(`cohorts ${((t2 - t1) / 1000).toFixed(2)} s`);

    const [eligible, multimorbidity, frailty] = line.split('|').map(Number);
    return {
      ingest_s: round((t1 - t0) / 1000),
      cohorts_s: round((t2 - t1) / 1000),
      total_s: round((t2 - t0) / 1000),
      counts: { eligible: eligible!, multimorbidity_5plus: multimorbidity!, frailty: frailty! },
    };
  } finally {
    process.removeListener('exit', onExit);
    stopClusterSync(r, cluster);
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
