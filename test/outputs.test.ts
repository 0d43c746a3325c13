// What users receive, checked against the synthetic ground truth: each practice gets its
// own patients and nobody else's; commissioners get disclosure-controlled aggregates that
// reconcile with the patient-level lists and hold no patient identifier.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commissionerAggregates, type GroupCell } from '../src/commissioner-cells.ts';
import { defaultConfig } from '../src/config.ts';
import { queryRows, runSqlFile, setVariables } from '../src/db.ts';
import { roundCount } from '../src/disclosure.ts';
import { silentLogger } from '../src/log.ts';
import { PRACTICE_LIST_COLUMNS } from '../src/practice-lists.ts';
import { formulaStartParam, neutraliseCell, neutraliseSql } from '../src/spreadsheet.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth, type TruthRow } from './support/ground-truth.ts';

const AS_OF = '2026-03-31';
let tmp: string;
let delivery: string;
let runDir: string;
let truth: TruthRow[];
let db: DuckDBInstance;
let conn: DuckDBConnection;

describe('neutraliseCell', () => {
  it.each([
    ['=HYPERLINK("http://x")', `'=HYPERLINK("http://x")`],
    ['+44 116', `'+44 116`],
    ['-12', `'-12`],
    ['@SUM(A1)', `'@SUM(A1)`],
    ['\tcmd', `'\tcmd`],
    ['\rcmd', `'\rcmd`],
    ['asthma;copd', 'asthma;copd'],
    ['a=b', 'a=b'],
    ['', ''],
    ['0.25', '0.25'],
  ])('%j becomes %j', (input, expected) => {
    expect(neutraliseCell(input)).toBe(expected);
  });

  it('is the same rule in SQL as in TypeScript', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const inputs = ['=1+1', '+1', '-1', '@x', '\tx', '\rx', 'x=1', '', "'=already"];
    const rows = await queryRows<{ input: string; cell: string }>(
      conn,
      `select input, ${neutraliseSql('input')} as cell from unnest($inputs) t(input)`,
      { ...formulaStartParam(), inputs: (await import('@duckdb/node-api')).listValue(inputs) },
    );
    for (const r of rows) expect(r.cell).toBe(neutraliseCell(r.input));
    conn.closeSync();
    instance.closeSync();
  });
});

describe('a run on a synthetic delivery', { timeout: 30_000 }, () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'strata-outputs-'));
    delivery = join(tmp, 'delivery');
    await synthesise({ scale: 0.01, seed: 3, practices: 9, out: delivery, asOf: AS_OF });
    const summary = await runPipeline({
      deliveryDir: delivery,
      outDir: join(tmp, 'out'),
      config: defaultConfig,
      log: silentLogger,
      progress: noProgress,
      softwareVersion: 'test',
    });
    runDir = summary.runDir;
    truth = readGroundTruth(delivery);
    db = await DuckDBInstance.create(':memory:');
    conn = await db.connect();
  });

  afterAll(() => {
    conn?.closeSync();
    db?.closeSync();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const practiceDirs = () => readdirSync(join(runDir, 'practices')).sort();
  const readCsv = (path: string): Record<string, string>[] =>
    parse(readFileSync(path), { columns: true, relax_quotes: false });

  function filesUnder(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
    );
  }

  describe('practice lists', () => {
    it('hold exactly the eligible patients registered at that practice on the as-of date', () => {
      const eligible = truth.filter((t) => t.eligible);
      const byId = new Map(eligible.map((t) => [t.pseudo_id, t]));
      const expectedPractices = [...new Set(eligible.map((t) => t.practice_code))].sort();
      expect(practiceDirs()).toEqual(expectedPractices);
      let total = 0;
      for (const practice of practiceDirs()) {
        const rows = readCsv(join(runDir, 'practices', practice, 'risk-list.csv'));
        for (const r of rows) expect(byId.get(r.pseudo_id!)?.practice_code, r.pseudo_id).toBe(practice);
        const ids = new Set(rows.map((r) => r.pseudo_id));
        expect(ids.size).toBe(rows.length);
        expect(rows.length).toBe(eligible.filter((t) => t.practice_code === practice).length);
        total += rows.length;
      }
      expect(total).toBe(eligible.length);
    });

    it('have the declared columns, in risk order with children last, the same in CSV and Parquet', async () => {
      for (const practice of practiceDirs()) {
        const dir = join(runDir, 'practices', practice);
        const csv = readCsv(join(dir, 'risk-list.csv'));
        expect(Object.keys(csv[0]!)).toEqual(PRACTICE_LIST_COLUMNS.map((c) => c.name));
        const parquet = await queryRows<{ pseudo_id: string }>(
          conn,
          `select pseudo_id from read_parquet(${quotedString(join(dir, 'risk-list.parquet'))})`,
        );
        expect(parquet.map((r) => r.pseudo_id)).toEqual(csv.map((r) => r.pseudo_id));
        const firstChild = csv.findIndex((r) => r.age_band === '0-17');
        const adults = firstChild === -1 ? csv : csv.slice(0, firstChild);
        if (firstChild !== -1) expect(csv.slice(firstChild).every((r) => r.age_band === '0-17')).toBe(true);
        expect(adults.every((r) => r.tier !== '')).toBe(true);
        const costs = adults.map((r) => Number(r.predicted_cost_12m));
        for (let i = 1; i < costs.length; i++) expect(costs[i]!).toBeLessThanOrEqual(costs[i - 1]!);
        for (const r of csv) {
          expect(['true', 'false']).toContain(r.frailty);
          expect(r.observed_cost_12m).toMatch(/^'?-?\d+$/);
          expect(r.admission_probability_12m).toMatch(/^(\d+(\.\d{1,3})?)?$/);
        }
      }
    });

    it('come with a legend a GP can read, and are for their owner only', () => {
      for (const practice of practiceDirs()) {
        const dir = join(runDir, 'practices', practice);
        const readme = readFileSync(join(dir, 'README.txt'), 'utf8');
        expect(readme).toContain(practice);
        expect(readme).toContain('NOT the official eFI');
        expect(readme).toContain('do not\nreplace clinical judgement');
        for (const c of PRACTICE_LIST_COLUMNS) expect(readme).toContain(`${c.name}: `);
        for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
      }
    });
  });

  interface Published {
    table: string;
    row: Record<string, unknown>;
  }

  async function publishedRows(): Promise<Published[]> {
    const file = join(runDir, 'commissioner', 'summary.duckdb');
    const ro = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
    const c = await ro.connect();
    const tables = await queryRows<{ table_name: string }>(
      c,
      'select table_name from duckdb_tables() order by 1',
    );
    const out: Published[] = [];
    for (const { table_name } of tables)
      for (const row of await queryRows(c, `select * from "${table_name}"`))
        out.push({ table: table_name, row });
    c.closeSync();
    ro.closeSync();
    return out;
  }

  describe('commissioner summaries', () => {
    it('publish the tables, each also as Parquet and CSV', async () => {
      const dir = join(runDir, 'commissioner');
      const rows = await publishedRows();
      const tables = [...new Set(rows.map((r) => r.table))].sort();
      expect(tables).toEqual([
        'attrition',
        'cohort_by_age_sex',
        'cohort_by_deprivation',
        'cohort_summary',
        'metadata',
        'service_need',
        'tier_summary',
      ]);
      for (const t of tables) {
        const n = rows.filter((r) => r.table === t).length;
        expect(readCsv(join(dir, `${t}.csv`))).toHaveLength(n);
        const parquet = await queryRows<{ n: number }>(
          conn,
          `select count(*) as n from read_parquet(${quotedString(join(dir, `${t}.parquet`))})`,
        );
        expect(parquet[0]!.n).toBe(n);
      }
      const meta = rows.filter((r) => r.table === 'metadata').map((r) => r.row);
      expect(meta.find((m) => m.key === 'as_of')?.value).toBe(AS_OF);
    });

    it('never show a count of 1 to 7, round the rest to 5, and hide costs with their counts', async () => {
      const rows = await publishedRows();
      const counted = rows.filter((r) => 'patients' in r.row);
      expect(counted.length).toBeGreaterThan(1000);
      expect(counted.some((r) => r.row.suppressed === true)).toBe(true);
      for (const { row } of counted) {
        const n = row.patients as number | null;
        if (row.suppressed) {
          expect(n).toBeNull();
          for (const k of ['observed_cost_12m', 'predicted_cost_12m'])
            if (k in row) expect(row[k]).toBeNull();
        } else {
          expect(n).not.toBeNull();
          expect(n! % 5).toBe(0);
          expect(n! === 0 || n! >= 8).toBe(true);
        }
      }
    });

    it('hold no patient identifier in any file', async () => {
      const idSet = new Set(truth.map((t) => t.pseudo_id));
      expect(idSet.size).toBeGreaterThan(500);
      const dir = join(runDir, 'commissioner');
      // Raw bytes catch plain-text leaks; decoded contents catch ones compression would hide.
      const leaks = (text: string) => (text.match(/[0-9a-z]+/gi) ?? []).filter((t) => idSet.has(t));
      for (const file of filesUnder(dir))
        expect(leaks(readFileSync(file).toString('latin1')), file).toEqual([]);
      for (const file of filesUnder(dir).filter((f) => f.endsWith('.parquet'))) {
        const rows = await queryRows(conn, `select * from read_parquet(${quotedString(file)})`);
        expect(leaks(JSON.stringify(rows)), file).toEqual([]);
      }
      expect(leaks(JSON.stringify((await publishedRows()).map((r) => r.row)))).toEqual([]);
      expect(Object.keys((await publishedRows())[0]!.row)).not.toContain('pseudo_id');
    });

    it('reconcile with the practice lists at every level before rounding, and publish their rounded form', async () => {
      // The patient-level facts, from the lists and the ground truth (for deprivation).
      const truthById = new Map(truth.map((t) => [t.pseudo_id, t]));
      const lists = await queryRows<{
        pseudo_id: string;
        practice_code: string;
        age_band: string;
        sex: string;
        tier: string | null;
        multimorbidity_5plus: boolean;
        frailty: boolean;
        high_cost_3x: boolean;
        observed_cost_12m: number | null;
        predicted_cost_12m: number | null;
      }>(
        conn,
        `select *, regexp_extract(filename, 'practices/([^/]+)/', 1) as practice_code
       from read_parquet(${quotedString(join(runDir, 'practices', '*', 'risk-list.parquet'))}, filename = true)`,
      );

      // Naive reference: every cell each adult falls in, counted by hand.
      const expected = new Map<string, { patients: number; observed: number }>();
      const add = (key: string, observed: number) => {
        const e = expected.get(key) ?? { patients: 0, observed: 0 };
        e.patients++;
        e.observed += observed;
        expected.set(key, e);
      };
      for (const p of lists) {
        if (p.age_band === '0-17') continue;
        const t = truthById.get(p.pseudo_id)!;
        const flags = [p.multimorbidity_5plus, p.frailty, p.high_cost_3x];
        const names = ['multimorbidity', 'frailty', 'high cost'];
        const inCohorts = names.filter((_, i) => flags[i]);
        const groups = [
          ...inCohorts,
          ...(inCohorts.length ? ['any cohort'] : []),
          inCohorts.length === 0
            ? 'no cohort'
            : inCohorts.length === 1
              ? `${inCohorts[0]} only`
              : inCohorts.join(' + '),
          p.tier!,
          'all adults',
        ];
        const quintile = Number.isFinite(t.imd_decile) ? String(Math.ceil(t.imd_decile / 2)) : 'unknown';
        const orgs = [
          ['practice', p.practice_code],
          ['pcn', t.pcn_code],
          ['place', t.place],
          ['system', defaultConfig.system.code],
        ];
        for (const [level, org] of orgs)
          for (const g of groups)
            // Breakdowns stop at PCN level.
            for (const b of level === 'practice'
              ? ['all||']
              : ['all||', `age_sex|${p.age_band}|${p.sex}`, `deprivation|${quintile}|`])
              add(`${level}|${org}|${g}|${b}`, p.observed_cost_12m ?? 0);
      }
      const keyOf = (
        c: Pick<
          GroupCell,
          'level' | 'org_code' | 'cohort' | 'breakdown' | 'age_band' | 'sex' | 'imd_quintile'
        >,
      ) =>
        c.breakdown === 'all'
          ? `${c.level}|${c.org_code}|${c.cohort}|all||`
          : c.breakdown === 'age_sex'
            ? `${c.level}|${c.org_code}|${c.cohort}|age_sex|${c.age_band}|${c.sex}`
            : `${c.level}|${c.org_code}|${c.cohort}|deprivation|${c.imd_quintile}|`;

      // The exact aggregate, computed by the pipeline's SQL over the same patients.
      const instance = await DuckDBInstance.create(':memory:');
      const work = await instance.connect();
      await setVariables(work, {
        system_code: defaultConfig.system.code,
        system_name: defaultConfig.system.name,
      });
      await work.run(
        `create table stg_practice as select * from read_csv(${quotedString(join(delivery, 'reference', 'practices.csv'))})`,
      );
      await runSqlFile(work, 'intermediate/organisation.sql');
      await work.run(
        `create table patient_list as
       select l.*, regexp_extract(l.filename, 'practices/([^/]+)/', 1) as practice_code, l.age_band <> '0-17' as adult,
              (g.imd_decile + 1) // 2 as imd_quintile
       from read_parquet(${quotedString(join(runDir, 'practices', '*', 'risk-list.parquet'))}, filename = true) l
       join read_csv(${quotedString(join(delivery, 'ground-truth', 'patients.csv.gz'))}) g using (pseudo_id)`,
      );
      await work.run(
        `create table attrition (level VARCHAR, level_order INTEGER, org_code VARCHAR, org_name VARCHAR, step_order INTEGER, step VARCHAR, same_as VARCHAR, patients BIGINT)`,
      );
      await runSqlFile(work, 'marts/cohort_groups.sql');
      await runSqlFile(work, 'marts/commissioner_cells.sql');
      const agg = await commissionerAggregates(work);
      work.closeSync();
      instance.closeSync();

      let nonZero = 0;
      for (const c of agg.groups) {
        const e = expected.get(keyOf(c)) ?? { patients: 0, observed: 0 };
        expect(c.patients, keyOf(c)).toBe(e.patients);
        expect(c.observed_cost_12m).toBeCloseTo(e.observed, 2);
        if (c.patients) nonZero++;
      }
      expect(nonZero).toBe(expected.size);
      // Places add up to the system, before rounding.
      const all = (level: string) =>
        agg.groups
          .filter((c) => c.level === level && c.breakdown === 'all' && c.cohort === 'any cohort')
          .reduce((s, c) => s + c.patients, 0);
      expect(all('practice')).toBe(all('system'));
      expect(all('place')).toBe(all('system'));

      // What was published is the rounded exact figure, or hidden; small numbers always hidden.
      const published = (await publishedRows()).filter((r) =>
        ['cohort_summary', 'tier_summary', 'cohort_by_age_sex', 'cohort_by_deprivation'].includes(r.table),
      );
      let checked = 0;
      for (const { table, row } of published) {
        const cell = {
          level: row.level as string,
          org_code: row.org_code as string,
          cohort: (row.cohort ?? row.tier) as string,
          breakdown: (table === 'cohort_by_age_sex'
            ? 'age_sex'
            : table === 'cohort_by_deprivation'
              ? 'deprivation'
              : 'all') as GroupCell['breakdown'],
          age_band: (row.age_band ?? null) as string | null,
          sex: (row.sex ?? null) as string | null,
          imd_quintile: (row.imd_quintile ?? null) as string | null,
        };
        const e = expected.get(keyOf(cell)) ?? { patients: 0, observed: 0 };
        if (e.patients >= 1 && e.patients <= 7) expect(row.suppressed, keyOf(cell)).toBe(true);
        if (row.suppressed) continue;
        expect(row.patients, keyOf(cell)).toBe(roundCount(e.patients));
        // The lists carry each cost rounded to the pound; the summaries round the exact sum
        // to the nearest 1,000.
        expect((row.observed_cost_12m as number) % 1000).toBe(0);
        expect(Math.abs((row.observed_cost_12m as number) - e.observed)).toBeLessThanOrEqual(
          500 + e.patients / 2 + 1,
        );
        checked++;
      }
      expect(checked).toBeGreaterThan(100);
      expect(published.filter((r) => r.row.level === 'practice' && r.table.startsWith('cohort_by_'))).toEqual(
        [],
      );
    });

    it('control the attrition table too, consistently with the cohort counts', async () => {
      const rows = await publishedRows();
      const attrition = rows.filter((r) => r.table === 'attrition').map((r) => r.row);
      const summary = rows.filter((r) => r.table === 'cohort_summary').map((r) => r.row);
      expect(new Set(attrition.map((r) => r.level))).toEqual(new Set(['practice', 'pcn', 'place', 'system']));
      const eligible = truth.filter((t) => t.eligible);
      const system = attrition.filter((r) => r.level === 'system');
      expect(system.find((r) => r.step === 'eligible (registered and alive)')?.patients).toBe(
        roundCount(eligible.length),
      );
      // A step counting the same people as a cohort cell publishes the same value.
      for (const a of attrition.filter((r) => r.step === 'adults')) {
        const s = summary.find(
          (r) => r.level === a.level && r.org_code === a.org_code && r.cohort === 'all adults',
        );
        expect(a.patients).toBe(s?.patients);
        expect(a.suppressed).toBe(s?.suppressed);
      }
    });
  });
});
