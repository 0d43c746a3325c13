// Dashboard feeds and their history: the columns dashboards are built against (a golden file
// updated only by `npm run golden`), the same rows in Parquet and Arrow, figures that are
// exactly the disclosure-controlled commissioner ones, and a history partition per as-of date
// that a re-run replaces rather than adds to.
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { arrowSchema, feedSchemas } from '../src/dashboard.ts';
import { FEEDS } from '../src/feeds.ts';
import { queryRows } from '../src/db.ts';
import { historyGlob, updateHistory } from '../src/history.ts';
import { silentLogger } from '../src/log.ts';
import { projectPath } from '../src/paths.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { SAMPLE_DELIVERY } from './support/cli.ts';

const AS_OF = '2026-03-31';
let tmp: string;
let out: string;
let firstRun: { runId: string; runDir: string };
let secondRun: { runId: string; runDir: string };
let db: DuckDBInstance;
let conn: DuckDBConnection;

const run = () =>
  runPipeline({
    deliveryDir: SAMPLE_DELIVERY,
    outDir: out,
    asOf: AS_OF,
    config: defaultConfig,
    log: silentLogger,
    progress: noProgress,
    softwareVersion: 'test',
  });

const parquet = (path: string) => `read_parquet(${quotedString(path)})`;

describe('the feed schemas', () => {
  it('match the golden file (after a deliberate change, run `npm run golden`)', () => {
    const golden = JSON.parse(readFileSync(projectPath('test', 'golden', 'dashboard-schemas.json'), 'utf8'));
    expect(feedSchemas(), 'feed columns changed: run `npm run golden` and raise FEED_SCHEMA_VERSION').toEqual(
      golden,
    );
  });

  it('are made only from the commissioner tables and the line counts, never from patient-level tables', () => {
    const sql = readFileSync(projectPath('sql', 'marts', 'dashboard_feeds.sql'), 'utf8').replace(
      /--[^\n]*/g,
      '',
    );
    const sources = [...sql.matchAll(/\b(?:from|join)\s+([a-z_][\w.]*)/gi)].map((m) => m[1]!.toLowerCase());
    const ctes = new Set([...sql.matchAll(/\b([a-z_]\w*)\s+as\s*\(/gi)].map((m) => m[1]!.toLowerCase()));
    const external = sources.filter((s) => !ctes.has(s));
    expect(external.length).toBeGreaterThan(0);
    for (const s of external) expect(s).toMatch(/^(commissioner\.\w+|data_quality_by_practice)$/);
  });
});

describe('dashboard feeds from a run on the sample delivery', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'strata-dashboard-'));
    out = join(tmp, 'out');
    const first = await run();
    firstRun = { runId: first.runId, runDir: first.runDir };
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
  });

  afterAll(() => {
    conn?.closeSync();
    db?.closeSync();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const feedFile = (feed: string, ext: string) => join(firstRun.runDir, 'dashboard', `${feed}.${ext}`);

  it.each(FEEDS.map((f) => [f.name, f] as const))(
    '%s has its declared columns in Parquet and Arrow',
    async (_, feed) => {
      const described = await queryRows<{ column_name: string; column_type: string }>(
        conn,
        `describe select * from ${parquet(feedFile(feed.name, 'parquet'))}`,
      );
      expect(described.map((c) => `${c.column_name} ${c.column_type}`)).toEqual(
        feed.columns.map((c) => `${c.name} ${c.type}`),
      );
      const arrow = tableFromIPC(readFileSync(feedFile(feed.name, 'arrow')));
      expect(arrow.schema.fields.map((f) => `${f.name} ${f.type} ${f.nullable}`)).toEqual(
        arrowSchema(feed).fields.map((f) => `${f.name} ${f.type} ${f.nullable}`),
      );
      const rows = await queryRows(
        conn,
        `select * replace (strftime(as_of, '%Y-%m-%d') as as_of) from ${parquet(feedFile(feed.name, 'parquet'))}`,
      );
      expect(arrow.numRows).toBe(rows.length);
      expect(rows.length).toBeGreaterThan(0);
      // The same values, row by row, in both files.
      const fromArrow = arrow.toArray().map((r) => {
        const o = r.toJSON() as Record<string, unknown>;
        for (const [k, v] of Object.entries(o)) {
          if (typeof v === 'bigint') o[k] = Number(v);
          if (k === 'as_of') o[k] = new Date(v as number).toISOString().slice(0, 10);
        }
        return o;
      });
      expect(fromArrow).toEqual(rows);
      for (const r of rows) {
        expect(r.schema_version).toBe(1);
        expect(r.run_id).toBe(firstRun.runId);
      }
    },
  );

  it('show suppressed counts as empty, never as a number, and other counts rounded', async () => {
    for (const feed of FEEDS.filter((f) => f.columns.some((c) => c.name === 'suppressed'))) {
      const measures = feed.columns
        .filter((c) =>
          [
            'patients',
            'observed_cost_12m',
            'predicted_cost_12m',
            // service_need: sums of rounded counts, and what follows from them.
            'cohort_patients',
            'people_needing',
            'wte',
          ].includes(c.name),
        )
        .map((c) => c.name);
      const people = measures.includes('patients') ? 'patients' : 'cohort_patients';
      const rows = await queryRows(conn, `select * from ${parquet(feedFile(feed.name, 'parquet'))}`);
      for (const r of rows) {
        if (r.suppressed) for (const m of measures) expect(r[m], `${feed.name}.${m}`).toBeNull();
        else expect(Number(r[people]) % 5, feed.name).toBe(0);
      }
      expect(rows.some((r) => r.suppressed)).toBe(true);
    }
  });

  it('carry exactly the figures of the commissioner tables', async () => {
    const commissioner = join(firstRun.runDir, 'commissioner');
    const diff = await queryRows(
      conn,
      `select level, org_code, cohort, patients, observed_cost_12m, predicted_cost_12m, suppressed
       from ${parquet(join(commissioner, 'cohort_summary.parquet'))}
       except
       select level, org_code, cohort, patients, observed_cost_12m, predicted_cost_12m, suppressed
       from ${parquet(feedFile('cohorts_by_org', 'parquet'))}`,
    );
    expect(diff).toEqual([]);
    const tiers = await queryRows(
      conn,
      `select level, org_code, tier, patients, predicted_cost_12m, suppressed
       from ${parquet(join(commissioner, 'tier_summary.parquet'))} where group_type = 'tier'
       except
       select level, org_code, tier, patients, predicted_cost_12m, suppressed
       from ${parquet(feedFile('tier_pyramid', 'parquet'))}`,
    );
    expect(tiers).toEqual([]);
  });

  it('count lines per practice from the manifest, with no patient rows', async () => {
    const manifest = JSON.parse(readFileSync(join(firstRun.runDir, 'manifest.json'), 'utf8'));
    const practices = manifest.data_quality.practices as {
      practice_code: string;
      lines: number;
      kept: number;
    }[];
    const rows = await queryRows<{ practice_code: string; lines: number; kept: number }>(
      conn,
      `select practice_code, lines, kept from ${parquet(feedFile('data_quality_by_practice', 'parquet'))} order by 1`,
    );
    expect(rows).toEqual(
      practices
        .map((p) => ({ practice_code: p.practice_code, lines: p.lines, kept: p.kept }))
        .sort((a, b) => a.practice_code.localeCompare(b.practice_code)),
    );
  });

  it('are documented column by column in dashboard/README.md and listed in the manifest', () => {
    const readme = readFileSync(join(firstRun.runDir, 'dashboard', 'README.md'), 'utf8');
    const manifest = JSON.parse(readFileSync(join(firstRun.runDir, 'manifest.json'), 'utf8'));
    for (const feed of FEEDS) {
      expect(readme).toContain(`## ${feed.name}`);
      const section = readme.split(`## ${feed.name}\n`)[1]!.split('\n## ')[0]!;
      for (const c of feed.columns) expect(section).toContain(`\`${c.name}\` ${c.type}`);
      expect(manifest.outputs).toHaveProperty(`dashboard/${feed.name}.parquet`);
      expect(manifest.outputs).toHaveProperty(`dashboard/${feed.name}.arrow`);
    }
    expect(manifest.outputs).toHaveProperty('report.html');
  });

  it('go into the history after publishing; a re-run for the same as-of date replaces its rows', async () => {
    const rowsOf = async (feed: string) =>
      queryRows<{ run_id: string; as_of: unknown; n: number }>(
        conn,
        `select run_id, strftime(as_of, '%Y-%m-%d') as as_of, count(*)::integer as n
         from read_parquet(${quotedString(historyGlob(out, feed))}, hive_partitioning = true) group by all`,
      );
    const feedRows = async (runDir: string, feed: string) =>
      (
        await queryRows<{ n: number }>(
          conn,
          `select count(*)::integer as n from ${parquet(join(runDir, 'dashboard', `${feed}.parquet`))}`,
        )
      )[0]!.n;

    expect(await rowsOf('cohorts_by_org')).toEqual([
      { run_id: firstRun.runId, as_of: AS_OF, n: await feedRows(firstRun.runDir, 'cohorts_by_org') },
    ]);
    const second = await run();
    secondRun = { runId: second.runId, runDir: second.runDir };
    for (const feed of FEEDS)
      expect(await rowsOf(feed.name), feed.name).toEqual([
        { run_id: secondRun.runId, as_of: AS_OF, n: await feedRows(secondRun.runDir, feed.name) },
      ]);
    const history = join(out, 'history');
    expect(readdirSync(history).filter((n) => !n.startsWith('.'))).toEqual([`as_of=${AS_OF}`]);
    expect(lstatSync(join(history, `as_of=${AS_OF}`)).isSymbolicLink()).toBe(true);
    // The replaced partition is gone, not kept beside the new one.
    expect(readdirSync(join(history, '.partitions'))).toEqual([`${AS_OF}.${secondRun.runId}`]);
  });
});

describe('updateHistory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-history-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function fakeRun(runId: string): string {
    const runDir = join(dir, 'runs', runId);
    mkdirSync(join(runDir, 'dashboard'), { recursive: true });
    for (const f of FEEDS) writeFileSync(join(runDir, 'dashboard', `${f.name}.parquet`), runId);
    return runDir;
  }

  it('clears what an interrupted update left and replaces a partition written by hand', () => {
    const history = join(dir, 'history');
    mkdirSync(join(history, '.partitions', '2026-01-31.crashed'), { recursive: true });
    mkdirSync(join(history, 'as_of=2026-01-31'), { recursive: true });
    writeFileSync(join(history, 'as_of=2026-01-31', 'cohorts_by_org.parquet'), 'by hand');
    updateHistory({ outDir: dir, runDir: fakeRun('r1'), runId: 'r1', asOf: '2026-01-31' });
    expect(readdirSync(join(history, '.partitions'))).toEqual(['2026-01-31.r1']);
    expect(readFileSync(join(history, 'as_of=2026-01-31', 'cohorts_by_org.parquet'), 'utf8')).toBe('r1');
    updateHistory({ outDir: dir, runDir: fakeRun('r2'), runId: 'r2', asOf: '2026-02-28' });
    updateHistory({ outDir: dir, runDir: fakeRun('r3'), runId: 'r3', asOf: '2026-01-31' });
    expect(readdirSync(join(history, '.partitions')).sort()).toEqual(['2026-01-31.r3', '2026-02-28.r2']);
    expect(readFileSync(join(history, 'as_of=2026-01-31', 'cohorts_by_org.parquet'), 'utf8')).toBe('r3');
    expect(existsSync(join(history, 'as_of=2026-02-28', 'attrition.parquet'))).toBe(true);
    expect(lstatSync(join(history, '.partitions')).mode & 0o777).toBe(0o700);
  });
});
