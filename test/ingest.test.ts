// On a synthetic delivery the generator knows exactly how many lines of each file are
// malformed, duplicated, future-dated, damaged or about strangers: ingest and staging
// must find exactly those, file by file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { sqlStatements } from '../src/db.ts';
import type { InputReport } from '../src/data-quality.ts';
import { synthesise, type FileMess } from '../src/synth/index.ts';
import { runStages } from './support/pipeline.ts';

describe('ingest and staging on a synthetic delivery', () => {
  const delivery = mkdtempSync(join(tmpdir(), 'strata-ingest-'));
  let inputs: InputReport[];
  let mess: FileMess[];
  beforeAll(async () => {
    await synthesise({ scale: 0.005, seed: 5, out: delivery, asOf: '2026-03-31' });
    mess = JSON.parse(readFileSync(join(delivery, 'ground-truth', 'mess.json'), 'utf8')).files;
    const run = await runStages(delivery, 'staging');
    inputs = run.ctx.results.dataQuality!.inputs;
    run.close();
  });

  it('gives the same counts when files load one by one on parallel connections', async () => {
    const config = {
      ...defaultConfig,
      resources: { ...defaultConfig.resources, ingestMode: 'per-file' as const },
    };
    const run = await runStages(delivery, 'staging', config);
    const perFile = run.ctx.results.dataQuality!.inputs;
    run.close();
    expect(perFile.map((i) => [i.path, i.loaded, i.rejected, i.dropped])).toEqual(
      inputs.map((i) => [i.path, i.loaded, i.rejected, i.dropped]),
    );
  });

  it('accounts for every line of every file: loaded + rejected = lines', () => {
    expect(inputs.length).toBe(mess.length + 2);
    for (const i of inputs) {
      expect(i.status, i.path).toBe('loaded');
      expect(i.loaded + i.rejected, i.path).toBe(i.lines);
    }
  });

  it('rejects exactly the malformed lines the generator wrote', () => {
    for (const m of mess) {
      const i = inputs.find((x) => x.path === m.path)!;
      expect(i.lines, m.path).toBe(m.lines);
      expect(i.rejected, m.path).toBe(m.malformed);
    }
    expect(mess.reduce((s, m) => s + m.malformed, 0)).toBeGreaterThan(50);
  });

  it('drops exactly the duplicates, resent file, damaged codes, impossible dates and strangers', () => {
    const expectedDrops = (m: FileMess) => {
      const out: Record<string, number> = {};
      const set = (reason: string, n: number) => n && (out[reason] = n);
      set('duplicate row', m.duplicates);
      set('date in the future', m.future_dated);
      set('date before birth', m.before_birth);
      set('SNOMED CT code fails its check digit', m.broken_check_digit);
      set('unknown patient', m.unknown_patient);
      return out;
    };
    for (const m of mess.filter((x) => !x.copy_of && !mess.some((y) => y.copy_of === x.path))) {
      expect(inputs.find((x) => x.path === m.path)!.dropped, m.path).toEqual(expectedDrops(m));
    }
    // Of a file and its resent copy, one is loaded and the other dropped whole.
    for (const copy of mess.filter((x) => x.copy_of)) {
      const pair = [copy.path, copy.copy_of!].map((p) => inputs.find((x) => x.path === p)!);
      const dropped = pair.filter((i) => i.dropped['resent file'] !== undefined);
      expect(dropped, copy.path).toHaveLength(1);
      expect(dropped[0]!.dropped).toEqual({ 'resent file': copy.lines - copy.malformed });
      const kept = pair.find((i) => !dropped.includes(i))!;
      expect(kept.dropped).toEqual(expectedDrops(copy));
    }
  });
});

describe('patient keys', () => {
  // The guard in sql/staging/patients.sql, run on hand-made patients: real hash collisions
  // cannot be produced on demand, so the keys are set by hand.
  const guard = sqlStatements('staging/patients.sql').find((s) => s.includes('error('));

  async function runGuard(keys: bigint[]): Promise<void> {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run('create table stg_patient (pseudo_id VARCHAR, patient_key UBIGINT)');
      for (const [i, key] of keys.entries())
        await conn.run('insert into stg_patient values ($id, $key)', { id: `p${i}`, key });
      await conn.run(guard!);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  }

  it('lets distinct keys through', async () => {
    await expect(runGuard([1n, 2n, 18446744073709551615n])).resolves.toBeUndefined();
  });

  it('stops the run when two patients share a key', async () => {
    await expect(runGuard([1n, 2n, 2n])).rejects.toThrow(/share a patient key/);
  });

  it('is a 64-bit hash of the pseudonym in every staged table', async () => {
    const delivery = mkdtempSync(join(tmpdir(), 'strata-keys-'));
    await synthesise({ scale: 0.002, seed: 11, out: delivery, asOf: '2026-03-31' });
    const run = await runStages(delivery, 'staging');
    try {
      for (const table of ['stg_patient', 'stg_observation', 'stg_medication', 'stg_activity']) {
        const [row] = await run.query<{ rows: bigint; keyed: bigint }>(
          `select count(*) as rows, count_if(patient_key = hash(pseudo_id)) as keyed from ${table}`,
        );
        expect(Number(row!.rows), table).toBeGreaterThan(0);
        expect(row!.keyed, table).toBe(row!.rows);
      }
    } finally {
      run.close();
    }
  });
});
