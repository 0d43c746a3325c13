// The peer's throwaway PostgreSQL cluster: finding the binaries, starting and stopping a server
// as its owner, and running psql scripts and queries against it.
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REQUIRED_BINARIES = ['initdb', 'pg_ctl', 'postgres', 'psql'];
// Servers refuse to run as root; this account owns the cluster when we are root.
export const CLUSTER_OS_USER = 'postgres';
export const DB_SUPERUSER = 'postgres';

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

export interface Runner {
  bin: string;
  asRoot: boolean;
  log: (msg: string) => void;
}

/** Server-side tools run as the cluster's owner; the psql client may run as anyone. */
export function serverCommand(r: Runner, tool: string, args: string[]): [string, string[]] {
  const cmd = join(r.bin, tool);
  return r.asRoot ? ['runuser', ['-u', CLUSTER_OS_USER, '--', cmd, ...args]] : [cmd, args];
}

export function run(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || err.message}`.trim()));
      else resolvePromise(stdout);
    });
  });
}

export function freePort(): Promise<number> {
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

export async function ensureClusterUser(): Promise<{ uid: number; gid: number }> {
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

export interface Cluster {
  dir: string;
  data: string;
  socketDir: string;
  port: number;
}

export async function makeClusterDir(r: Runner, workDir: string): Promise<string> {
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
export async function startCluster(r: Runner, c: Cluster): Promise<void> {
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

export function stopClusterSync(r: Runner, c: Cluster): void {
  try {
    const [cmd, args] = serverCommand(r, 'pg_ctl', ['-D', c.data, '-m', 'immediate', '-w', 'stop']);
    execFileSync(cmd, args, { stdio: 'ignore' });
  } catch {
    // Already stopped, or never fully started; the folder is removed either way.
  }
  rmSync(c.dir, { recursive: true, force: true });
  if (c.socketDir !== c.dir) rmSync(c.socketDir, { recursive: true, force: true });
}

export function psqlArgs(c: Cluster): string[] {
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
export function psqlScript(r: Runner, c: Cluster, name: string, sql: string): Promise<void> {
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

export async function psqlQuery(r: Runner, c: Cluster, sql: string): Promise<string> {
  return (await run(join(r.bin, 'psql'), [...psqlArgs(c), '-A', '-t', '-c', sql])).trim();
}
