// The reasons sql/marts/list_changes.sql gives, read like the rules they follow: a tiny
// compared list and a tiny current list in, what each patient joined or left and why out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { queryRows, runSqlFiles } from '../src/db.ts';

let instance: DuckDBInstance;
let conn: DuckDBConnection;

// pseudo_id, practice, birth, tier, multimorbidity, frailty, high cost, predicted cost, conditions, frailty rules
type Patient = [
  string,
  string,
  string,
  string | null,
  boolean,
  boolean,
  boolean,
  number | null,
  string,
  string,
];

const PREVIOUS: Patient[] = [
  ['gains_condition', 'A1', '1950-01-01', 'low', false, false, false, 900, 'a;b;c;d', ''],
  ['efi_fires', 'A1', '1940-01-01', 'moderate', false, false, false, 2000, '', ''],
  ['cost_rises', 'A1', '1960-01-01', 'moderate', false, false, false, 3000, '', ''],
  ['child', 'A1', '2008-06-01', null, false, false, false, null, '', ''],
  ['resolves', 'A1', '1945-01-01', 'high', true, true, true, 9000, 'a;b;c;d;e', 'efi;hfrs'],
  ['dies', 'A1', '1930-01-01', 'very high', true, false, true, 20000, 'a;b;c;d;e', ''],
  ['moves', 'A1', '1955-01-01', 'moderate', false, true, false, 2500, '', 'coded_frailty'],
  ['unchanged', 'A1', '1950-01-01', 'high', true, false, false, 5000, 'a;b;c;d;e', ''],
];

const CURRENT: Patient[] = [
  ['gains_condition', 'A1', '1950-01-01', 'low', true, false, false, 900, 'a;b;c;d;e', ''],
  ['efi_fires', 'A1', '1940-01-01', 'moderate', false, true, false, 2000, '', 'efi'],
  ['cost_rises', 'A1', '1960-01-01', 'very high', false, false, true, 15000, '', ''],
  ['child', 'A1', '2008-06-01', 'high', true, false, false, 6000, 'a;b;c;d;e', ''],
  ['resolves', 'A1', '1945-01-01', 'high', false, false, true, 9000, 'a;b;c;d', 'efi'],
  ['moves', 'B2', '1955-01-01', 'moderate', false, true, false, 2500, '', 'coded_frailty'],
  ['arrives', 'B2', '1970-01-01', 'low', false, true, false, 1000, '', 'hfrs'],
  ['unchanged', 'A1', '1950-01-01', 'high', true, false, false, 5000, 'a;b;c;d;e', ''],
];

const rows = (patients: Patient[]) =>
  patients
    .map(
      ([id, practice, , tier, mm, fr, hc, cost, conditions, rules]) =>
        `('${id}', '${practice}', ${tier ? `'${tier}'` : 'null'}, ${mm}, ${fr}, ${hc}, ${cost ?? 'null'}, ` +
        `string_split(nullif('${conditions}', ''), ';'), coalesce(string_split(nullif('${rules}', ''), ';'), []))`,
    )
    .join(',\n');

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  const columns = `(pseudo_id VARCHAR, practice_code VARCHAR, tier VARCHAR, multimorbidity_5plus BOOLEAN,
    frailty BOOLEAN, high_cost_3x BOOLEAN, predicted_cost_12m DOUBLE, conditions VARCHAR[], frailty_rules VARCHAR[])`;
  await conn.run(`create table previous_list ${columns}`);
  await conn.run(`insert into previous_list values ${rows(PREVIOUS)}`);
  await conn.run(`update previous_list set conditions = coalesce(conditions, [])`);
  await conn.run(`create table patient_list ${columns}`);
  await conn.run(`insert into patient_list values ${rows(CURRENT)}`);
  await conn.run(`update patient_list set conditions = coalesce(conditions, [])`);
  // Everyone here is an adult now; the child turned 18 since the compared run.
  await conn.run(`alter table patient_list add column adult BOOLEAN default true`);
  const everyone = [...new Map([...PREVIOUS, ...CURRENT].map((p) => [p[0], p])).values()];
  await conn.run(
    `create table stg_patient as select * from (values ${everyone
      .map(([id, , birth]) => `('${id}', '${birth}'::DATE, ${id === 'dies' ? `'2026-05-01'::DATE` : 'null'})`)
      .join(', ')}) t(pseudo_id, birth_date, date_of_death)`,
  );
  await conn.run(`set variable as_of = '2026-09-30'::DATE`);
  await conn.run(`set variable compared_run = 'earlier'`);
  await conn.run(`set variable compared_as_of = '2026-03-31'::DATE`);
  await conn.run(`set variable compare_predictions = true`);
  await runSqlFiles(conn, ['marts/list_changes.sql'], false);
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

describe('why a patient joined or left a cohort or tier', () => {
  it('names what each patient joined, and why', async () => {
    const got = await queryRows<{ pseudo_id: string; new_to: string; because: string }>(
      conn,
      `select pseudo_id, array_to_string(new_to, ';') as new_to, array_to_string(new_because, ';') as because
       from list_change order by pseudo_id`,
    );
    expect(got).toEqual([
      { pseudo_id: 'arrives', new_to: 'frailty', because: 'newly_registered' },
      { pseudo_id: 'child', new_to: 'multimorbidity;tier_high', because: 'turned_18' },
      {
        pseudo_id: 'cost_rises',
        new_to: 'high_cost;tier_very_high',
        because: 'predicted_cost_rose',
      },
      { pseudo_id: 'efi_fires', new_to: 'frailty', because: 'frailty_rule_fired:efi' },
      { pseudo_id: 'gains_condition', new_to: 'multimorbidity', because: 'new_condition' },
      { pseudo_id: 'moves', new_to: 'frailty;tier_moderate', because: 'newly_registered' },
    ]);
  });

  it('names what each patient left at the practice, and why', async () => {
    const got = await queryRows<{ practice_code: string; pseudo_id: string; left: string; because: string }>(
      conn,
      `select practice_code, pseudo_id, array_to_string(left_from, ';') as left,
         array_to_string(left_because, ';') as because, tier_now
       from list_left order by pseudo_id`,
    );
    expect(got).toEqual([
      {
        practice_code: 'A1',
        pseudo_id: 'cost_rises',
        left: 'tier_moderate',
        because: 'predicted_cost_rose',
        tier_now: 'very high',
      },
      {
        practice_code: 'A1',
        pseudo_id: 'dies',
        left: 'multimorbidity;high_cost;tier_very_high',
        because: 'died',
        tier_now: null,
      },
      {
        practice_code: 'A1',
        pseudo_id: 'moves',
        left: 'frailty;tier_moderate',
        because: 'registered_elsewhere',
        tier_now: null,
      },
      {
        practice_code: 'A1',
        pseudo_id: 'resolves',
        left: 'multimorbidity;frailty',
        because: 'condition_resolved;frailty_rule_stopped:hfrs',
        tier_now: 'high',
      },
    ]);
  });
});
