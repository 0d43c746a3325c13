import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, runStatements } from '../src/db.ts';

describe('running a script', () => {
  let instance: DuckDBInstance;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  });
  afterAll(() => instance.closeSync());

  it('runs every statement in order', async () => {
    const conn = await instance.connect();
    await runStatements(
      conn,
      'create table steps (n INTEGER); insert into steps values (1); insert into steps select n + 1 from steps;',
    );
    expect(await queryRows(conn, 'select n from steps order by n')).toEqual([{ n: 1 }, { n: 2 }]);
    conn.closeSync();
  });

  it('holds no memory for a finished statement', async () => {
    // A materialised CTE read twice, whose rows would stay inside DuckDB's memory limit until
    // the garbage collector found the statement.
    const conn = await instance.connect();
    await runStatements(
      conn,
      `create table big as select range as k, range % 97 as g from range(2000000);
       create table joined as
       with m as materialized (select k, g from big where g < 50)
       select count(*) as n from m join m as again using (k);`,
    );
    const held = await queryRows<{ tag: string; mb: number }>(
      conn,
      `select tag, memory_usage_bytes / 1e6 as mb from duckdb_memory()
       where tag in ('HASH_TABLE', 'COLUMN_DATA') and memory_usage_bytes > 0`,
    );
    expect(held).toEqual([]);
    let kept = 0;
    for (let k = 0; k < 2000000; k++) if (k % 97 < 50) kept++;
    expect(await queryRows(conn, 'select sum(n)::INTEGER as n from joined')).toEqual([{ n: kept }]);
    conn.closeSync();
  });
});
