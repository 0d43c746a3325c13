// The PostgreSQL peer of the benchmark: the same delivery and the same cohorts, done the
// way a careful analyst would do them in PostgreSQL 15, so the bench can say what an
// analyst without strata would wait. Malformed lines are dropped rather than allowed to
// abort a load, because a peer that fails on real deliveries measures nothing.
//
// Timings exclude starting and stopping the throwaway cluster: an analyst already has a
// server running. Ingest covers hashing, loading, validating casts, deduplication,
// indexes and ANALYZE; cohorts covers loading the codelists and rules and every step up
// to the final counts.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conditions } from '../../pipeline/conditions.ts';
import { CODED_FRAILTY, HFRS, deficits, efiCategories } from '../../pipeline/frailty.ts';
import {
  ICD10,
  ODS_PRACTICE,
  activityFile,
  lsoaFile,
  medicationsFile,
  observationsFile,
  patientsFile,
  practicesFile,
  type FileContract,
} from '../../src/contract.ts';

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

const PIPELINE = fileURLToPath(new URL('../../pipeline/', import.meta.url));
const REQUIRED_BINARIES = ['initdb', 'pg_ctl', 'postgres', 'psql'];
// Servers refuse to run as root; this account owns the cluster when we are root.
const CLUSTER_OS_USER = 'postgres';
const DB_SUPERUSER = 'postgres';

/** The bin directory of a usable PostgreSQL (15 preferred), or null. */
export async function postgresAvailable(): Promise<string | null> {
  const candidates: string[] = [];
  if (process.env.STRATA_PG_BIN) candidates.push(process.env.STRATA_PG_BIN);
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => (a === '15' ? -1 : b === '15' ? 1 : Number(b) - Number(a)));
    for (const v of versions) candidates.push(join(base, v, 'bin'));
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir);
  for (const dir of candidates) {
    if (REQUIRED_BINARIES.every((b) => existsSync(join(dir, b)))) return dir;
  }
  return null;
}

// ---------------------------------------------------------------- process helpers

interface Runner {
  bin: string;
  asRoot: boolean;
  log: (msg: string) => void;
}

/** Server-side tools run as the cluster's owner; the psql client may run as anyone. */
function serverCommand(r: Runner, tool: string, args: string[]): [string, string[]] {
  const cmd = join(r.bin, tool);
  return r.asRoot ? ['runuser', ['-u', CLUSTER_OS_USER, '--', cmd, ...args]] : [cmd, args];
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`.trim()));
      else resolvePromise(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

async function ensureClusterUser(): Promise<{ uid: number; gid: number }> {
  const ids = async () => {
    const uid = Number((await run('id', ['-u', CLUSTER_OS_USER])).trim());
    const gid = Number((await run('id', ['-g', CLUSTER_OS_USER])).trim());
    return { uid, gid };
  };
  try {
    return await ids();
  } catch {
    await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', CLUSTER_OS_USER]);
    return ids();
  }
}

interface Cluster {
  dir: string;
  data: string;
  socketDir: string;
  port: number;
}

async function makeClusterDir(r: Runner, workDir: string): Promise<string> {
  mkdirSync(workDir, { recursive: true });
  const tryDir = async (parent: string): Promise<string | null> => {
    const dir = mkdtempSync(join(resolve(parent), 'pg-peer-'));
    if (!r.asRoot) return dir;
    const { uid, gid } = await ensureClusterUser();
    chownSync(dir, uid, gid);
    // The cluster's owner must be able to reach the folder through every parent.
    const reachable = await run('runuser', ['-u', CLUSTER_OS_USER, '--', 'test', '-w', dir]).then(
      () => true,
      () => false,
    );
    if (reachable) return dir;
    rmSync(dir, { recursive: true, force: true });
    return null;
  };
  const dir = (await tryDir(workDir)) ?? (await tryDir(tmpdir()));
  if (!dir) throw new Error(`no folder under ${workDir} or ${tmpdir()} is writable by ${CLUSTER_OS_USER}`);
  return dir;
}

/** Fills in `c` as it goes, so a failed start is still cleaned up by the caller. */
async function startCluster(r: Runner, c: Cluster): Promise<void> {
  const { dir, data } = c;
  // Unix sockets have a ~107-byte path limit; a deep workDir needs a short side folder.
  if (join(dir, '.s.PGSQL.65535.lock').length > 100) {
    c.socketDir = mkdtempSync('/tmp/pgs-');
    if (r.asRoot) {
      const { uid, gid } = await ensureClusterUser();
      chownSync(c.socketDir, uid, gid);
    }
  }
  const socketDir = c.socketDir;
  c.port = await freePort();
  const port = c.port;
  await run(
    ...serverCommand(r, 'initdb', [
      '-D',
      data,
      '-U',
      DB_SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]),
  );
  // Durability is off because the strata side is in-memory; the rest is ordinary tuning
  // an analyst would give a single-user analytic server.
  const conf = [
    `port = ${port}`,
    `listen_addresses = ''`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    'wal_level = minimal',
    'max_wal_senders = 0',
    'max_wal_size = 8GB',
    'checkpoint_timeout = 30min',
    'shared_buffers = 1GB',
    'work_mem = 256MB',
    'maintenance_work_mem = 1GB',
    'max_parallel_workers_per_gather = 2',
    'max_parallel_maintenance_workers = 2',
    'jit = off',
  ];
  appendFileSync(join(data, 'postgresql.conf'), `\n# strata bench peer\n${conf.join('\n')}\n`);
  await run(
    ...serverCommand(r, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '120', 'start']),
  );
}

function stopClusterSync(r: Runner, c: Cluster): void {
  try {
    const [cmd, args] = serverCommand(r, 'pg_ctl', ['-D', c.data, '-m', 'immediate', '-w', 'stop']);
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // Already stopped, or never fully started; the folder is removed either way.
  }
  rmSync(c.dir, { recursive: true, force: true });
  if (c.socketDir !== c.dir) rmSync(c.socketDir, { recursive: true, force: true });
}

function psqlArgs(c: Cluster): string[] {
  return [
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-h',
    c.socketDir,
    '-p',
    String(c.port),
    '-U',
    DB_SUPERUSER,
    '-d',
    'postgres',
  ];
}

/**
 * Runs one script in one session. Each `\\echo` names a step; the `\\timing` lines that
 * follow are summed into it, so the log shows one line per step rather than per COPY.
 */
function psqlScript(r: Runner, c: Cluster, name: string, sql: string): Promise<void> {
  const file = join(c.dir, `${name}.sql`);
  writeFileSync(file, `\\timing on\n${sql}`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(r.bin, 'psql'), [...psqlArgs(c), '-f', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let pending = '';
    let step: string | null = null;
    let ms = 0;
    const flush = () => {
      if (step) r.log(`[${name}] ${step}: ${(ms / 1000).toFixed(3)} s`);
      step = null;
      ms = 0;
    };
    const onLine = (line: string) => {
      const time = /^Time: ([\d.]+) ms/.exec(line);
      if (time) ms += Number(time[1]);
      else if (line.trim()) {
        flush();
        step = line.trim();
      }
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      onLine(pending);
      flush();
      if (code === 0) resolvePromise();
      else reject(new Error(`psql ${name} exited with ${code}: ${stderr.trim().slice(-2000)}`));
    });
  });
}

async function psqlQuery(r: Runner, c: Cluster, sql: string): Promise<string> {
  return (await run(join(r.bin, 'psql'), [...psqlArgs(c), '-A', '-t', '-c', sql])).trim();
}

// ---------------------------------------------------------------- SQL helpers

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The program \copy runs; psql hands it to the shell, so the path must need no escaping. */
function catProgram(path: string): string {
  if (/["'`$\\\n]/.test(path)) throw new Error(`path not supported by the PostgreSQL peer: ${path}`);
  return `zcat -f "${path}"`;
}

/** A JavaScript regex source from the contract as a PostgreSQL ARE (NUL cannot occur in text). */
function pgPattern(jsPattern: string): string {
  return `^(${jsPattern.replace(/\\x00/g, '\\x01')})$`;
}

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

// ---------------------------------------------------------------- cohorts

function codelistFiles(): { id: string; path: string }[] {
  const dir = join(PIPELINE, 'codelists');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.csv') && n !== 'index.csv')
    .sort()
    .map((n) => ({ id: n.replace(/\.csv$/, ''), path: join(dir, n) }));
}

/** An INSERT of literal rows; nothing when there are none, which VALUES cannot express. */
function insertRows(table: string, rows: (string | number | null)[][]): string {
  if (!rows.length) return '';
  const literal = (v: string | number | null) =>
    v === null ? 'null' : typeof v === 'number' ? String(v) : lit(v);
  return `insert into ${table} values\n  ${rows.map((r) => `(${r.map(literal).join(', ')})`).join(',\n  ')};`;
}

function cohortSql(asOf: string): string {
  const d = `date ${lit(asOf)}`;
  const months = (m: string | number) => `make_interval(months => ${m})`;
  const criteria = conditions.flatMap((c) =>
    c.criteria.map((k) => [
      c.id,
      k.kind,
      'codelist' in k ? k.codelist : null,
      'medication' in k ? k.medication : null,
      k.withinMonths ?? null,
      k.kind === 'diagnosis' ? (k.firstWithinMonths ?? null) : null,
      k.kind === 'prescriptions' ? k.minIssues : null,
    ]),
  );
  const resolved = conditions.filter((c) => c.resolved).map((c) => [c.id, c.resolved!]);
  const deficitRows = deficits.filter((x) => x.codelist).map((x) => [x.id, x.codelist!]);
  const poly = deficits.find((x) => x.distinctDrugs);
  const medWindow = Math.max(
    ...conditions.flatMap((c) => c.criteria.map((k) => (k.kind === 'diagnosis' ? 0 : k.withinMonths))),
  );
  const severities = Object.entries(CODED_FRAILTY.codelists).map(([severity, codelist], rank) => [
    severity,
    codelist,
    rank,
  ]);
  // Moderate starts above the mild cut-off; compared as counts, as strata does.
  const mild = efiCategories.find((c) => c.category === 'mild')!.upTo;
  const efiModerateAt = Math.floor(mild * deficits.length + 1e-9) + 1;
  const markers = CODED_FRAILTY.markerAt.map(lit).join(', ');

  const s: string[] = [];
  const step = (name: string, sql: string) => s.push(`\\echo ${name}\n${sql.trim()};`);

  step(
    'codelists',
    `create unlogged table codelist_stage (code text, term text, codelist text default current_setting('peer.codelist'))`,
  );
  for (const cl of codelistFiles()) {
    s.push(`set peer.codelist = ${lit(cl.id)};`);
    s.push(
      `\\copy codelist_stage(code, term) from program '${catProgram(cl.path)}' with (format csv, header true)`,
    );
  }
  step(
    'codelist',
    `create table codelist as select distinct codelist, trim(code) as code from codelist_stage where trim(code) <> ''`,
  );
  step('codelist index', `create index on codelist (code)`);
  step(
    'hfrs points',
    `create table hfrs_points (icd10_code text primary key, points numeric, description text)`,
  );
  s.push(
    `\\copy hfrs_points from program '${catProgram(join(PIPELINE, 'reference', 'hfrs_points.csv'))}' with (format csv, header true)`,
  );
  step(
    'rules',
    `create table criterion (condition_id text, kind text, codelist text, medication text, within_months int, first_within_months int, min_issues int);
${insertRows('criterion', criteria)}
create table resolved_rule (condition_id text, codelist text);
${insertRows('resolved_rule', resolved)}
create table deficit (deficit_id text, codelist text);
${insertRows('deficit', deficitRows)}
create table frailty_severity (severity text, codelist text, rank int);
${insertRows('frailty_severity', severities)}`,
  );
  step('analyze rules', 'analyze codelist, criterion, resolved_rule, deficit, frailty_severity, hfrs_points');

  step(
    'eligible',
    `create table eligible as
select distinct on (p.pseudo_id) p.pseudo_id, p.practice_code,
  extract(year from age(${d}, (p.birth_month || '-01')::date))::int as age
from patients p join practices r using (practice_code)
where p.registered_from <= ${d}
  and (p.registered_to is null or p.registered_to > ${d})
  and (p.date_of_death is null or p.date_of_death > ${d})
order by p.pseudo_id, p.registered_from desc`,
  );
  step('eligible key', 'alter table eligible add primary key (pseudo_id); analyze eligible');
  step(
    'patient codes',
    `create table patient_code as
select o.pseudo_id, c.codelist, min(o.recorded_date) as first_date, max(o.recorded_date) as last_date
from observations o
join codelist c on c.code = o.snomed_code
join eligible e on e.pseudo_id = o.pseudo_id
where o.recorded_date <= ${d}
group by o.pseudo_id, c.codelist`,
  );
  step('patient codes index', 'create index on patient_code (codelist, pseudo_id); analyze patient_code');
  step(
    'medication issues',
    `create table medication_issue as
select m.pseudo_id, c.codelist, m.issue_date
from medications m
join codelist c on c.code = left(m.bnf_code, 9)
join eligible e on e.pseudo_id = m.pseudo_id
where m.issue_date <= ${d} and m.issue_date > ${d} - ${months(medWindow)}`,
  );
  step(
    'medication issues index',
    'create index on medication_issue (codelist, pseudo_id); analyze medication_issue',
  );
  step(
    'condition criteria',
    `create table condition_hit as
select pc.pseudo_id, k.condition_id, pc.last_date as dx_date
from criterion k join patient_code pc on pc.codelist = k.codelist
where k.kind = 'diagnosis'
  and (k.within_months is null or pc.last_date > ${d} - ${months('k.within_months')})
  and (k.first_within_months is null or pc.first_date > ${d} - ${months('k.first_within_months')})
union all
select pc.pseudo_id, k.condition_id, pc.last_date
from criterion k join patient_code pc on pc.codelist = k.codelist
where k.kind = 'treated'
  and exists (select 1 from medication_issue mi
              where mi.pseudo_id = pc.pseudo_id and mi.codelist = k.medication
                and mi.issue_date > ${d} - ${months('k.within_months')})
union all
select mi.pseudo_id, k.condition_id, null
from criterion k join medication_issue mi on mi.codelist = k.medication
where k.kind = 'prescriptions' and mi.issue_date > ${d} - ${months('k.within_months')}
group by mi.pseudo_id, k.condition_id, k.min_issues
having count(*) >= k.min_issues`,
  );
  step(
    'conditions',
    `create table patient_condition as
select h.pseudo_id, h.condition_id
from condition_hit h
left join resolved_rule r on r.condition_id = h.condition_id
left join patient_code rc on rc.pseudo_id = h.pseudo_id and rc.codelist = r.codelist
group by h.pseudo_id, h.condition_id
having not coalesce(max(rc.last_date) > max(h.dx_date), false)`,
  );
  step(
    'multimorbidity',
    `create table multimorbidity as
select e.pseudo_id, e.age, count(pc.condition_id)::int as condition_count
from eligible e left join patient_condition pc on pc.pseudo_id = e.pseudo_id
group by e.pseudo_id, e.age`,
  );
  step(
    'efi deficits',
    `create table efi_deficit as
select distinct pc.pseudo_id, x.deficit_id
from deficit x join patient_code pc on pc.codelist = x.codelist
union
select m.pseudo_id, ${lit(poly?.id ?? 'polypharmacy')}
from medications m join eligible e on e.pseudo_id = m.pseudo_id
where m.issue_date <= ${d} and m.issue_date > ${d} - ${months(poly?.distinctDrugs?.withinMonths ?? 12)}
group by m.pseudo_id
having count(distinct left(m.bnf_code, 9)) >= ${poly?.distinctDrugs?.min ?? 5}`,
  );
  step(
    'efi',
    `create table efi as
select pseudo_id, count(*)::int as deficit_count, round(count(*)::numeric / ${deficits.length}, 4) as score
from efi_deficit group by pseudo_id`,
  );
  step(
    'coded frailty',
    `create table coded_frailty as
select distinct on (pc.pseudo_id) pc.pseudo_id, f.severity
from patient_code pc join frailty_severity f on f.codelist = pc.codelist
where pc.last_date > ${d} - ${months(CODED_FRAILTY.withinMonths)}
order by pc.pseudo_id, pc.last_date desc, f.rank desc`,
  );
  step(
    'hfrs',
    `create table hfrs as
select dx.pseudo_id, sum(h.points) as score
from (
  select distinct a.pseudo_id, left(code, 3) as prefix
  from activity a
  join eligible e on e.pseudo_id = a.pseudo_id
  cross join lateral unnest(array[a.primary_diagnosis] || string_to_array(a.secondary_diagnoses, ';')) as code
  where a.start_date <= ${d} and a.start_date > ${d} - ${months(HFRS.withinMonths)}
    and code ~ ${lit(pgPattern(ICD10.source.replace(/^\^|\$$/g, '')))}
) dx join hfrs_points h on h.icd10_code = dx.prefix
group by dx.pseudo_id`,
  );
  step(
    'frailty',
    `create table frailty as
select e.pseudo_id
from eligible e
left join coded_frailty cf on cf.pseudo_id = e.pseudo_id
left join efi on efi.pseudo_id = e.pseudo_id
left join hfrs on hfrs.pseudo_id = e.pseudo_id
where e.age >= 18
  and (cf.severity in (${markers}) or efi.deficit_count >= ${efiModerateAt} or hfrs.score >= ${HFRS.markerAtLeast})`,
  );
  step(
    'counts',
    `create table peer_counts as
select (select count(*) from eligible)::int as eligible,
  (select count(*) from multimorbidity where age >= 18 and condition_count >= 5)::int as multimorbidity_5plus,
  (select count(*) from frailty)::int as frailty`,
  );
  return `${s.join('\n')}\n`;
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
