// Features encoded once, then scored alike in TypeScript and in DuckDB's SQL.
import { describe, it, expect } from 'vitest';
import { fitGlm, predictGlm } from '../src/glm.ts';
import {
  describeFit,
  encode,
  learnEncoding,
  predictColumns,
  predictSql,
  type Columns,
} from '../src/glm-encoding.ts';
import { DuckDBInstance, listValue, quotedIdentifier } from '@duckdb/node-api';
import { mulberry32 } from '../src/synth/random.ts';
import { coef, normal, poisson } from './support/glm-data.ts';

describe('feature encoding', () => {
  function ageBands(): (string | null)[] {
    const out: (string | null)[] = [];
    const add = (level: string | null, count: number) => {
      for (let i = 0; i < count; i++) out.push(level);
    };
    add('45-64', 200);
    add('65-74', 100);
    add('18-44', 50);
    add('85+', 20);
    add('75-84', 15);
    add(null, 3);
    return out;
  }
  const ages = ageBands();
  const n = ages.length; // 388
  const sex = ages.map((_, i) => (i % 4 === 0 ? 'M' : i === 1 ? 'I' : 'F'));
  const imd = Float64Array.from(ages, (_, i) => (i % 10) + 1);
  const flat = new Float64Array(n).fill(3);
  const rows: Columns = { age_band: ages, sex, imd_decile: imd, flat };
  const spec = { numeric: ['imd_decile', 'flat'], categorical: ['age_band', 'sex'] };

  it('pools rare levels into "other", picks the most frequent reference and names columns', () => {
    const enc = learnEncoding(rows, spec);
    const age = enc.categorical[0]!;
    expect(age.reference).toBe('45-64');
    // 85+ (20), 75-84 (15) and missing (3) pool to 38 >= 30, so "other" keeps its own column.
    expect(age.levels).toEqual(['18-44', '65-74', 'other']);
    // "I" alone (1 row) would be a rare "other": it joins the reference instead.
    expect(enc.categorical[1]).toEqual({ name: 'sex', levels: ['M'], reference: 'F' });
    expect(enc.numeric[0]!.mean).toBeCloseTo(5.5, 1);
    expect(enc.numeric[1]).toEqual({ name: 'flat', mean: 3, sd: 0, constant: true });
    const d = encode(rows, enc, n);
    expect(d.names).toEqual([
      'intercept',
      'imd_decile',
      'flat',
      'age_band=18-44',
      'age_band=65-74',
      'age_band=other',
      'sex=M',
    ]);
    const row = (i: number) => Array.from(d.X.subarray(i * d.p, (i + 1) * d.p));
    expect(row(0).slice(3)).toEqual([0, 0, 0, 1]); // 45-64 reference, sex M
    expect(row(301).slice(3)).toEqual([1, 0, 0, 0]); // 18-44, sex F
    expect(row(361).slice(3)).toEqual([0, 0, 1, 0]); // 85+ pooled
    expect(row(387).slice(3)).toEqual([0, 0, 1, 0]); // missing pooled
    expect(row(1).slice(3)).toEqual([0, 0, 0, 0]); // sex I folded into F
    expect(row(0)[1]).toBeCloseTo((1 - enc.numeric[0]!.mean) / enc.numeric[0]!.sd, 12);
  });

  it('scores unseen levels as "other" or the reference without throwing', () => {
    const enc = learnEncoding(rows, spec);
    const scoring: Columns = {
      age_band: ['95+', '45-64', '65-74'],
      sex: ['X', 'M', 'F'],
      imd_decile: [1, 2, 3],
      flat: [3, 3, 4],
    };
    const d = encode(scoring, enc, 3);
    const row = (i: number) => Array.from(d.X.subarray(i * d.p + 3, (i + 1) * d.p));
    expect(row(0)).toEqual([0, 0, 1, 0]);
    expect(row(1)).toEqual([0, 0, 0, 1]);
    expect(row(2)).toEqual([0, 1, 0, 0]);
    expect(() => encode({ ...scoring, imd_decile: [1, Number.NaN, 3] }, enc, 3)).toThrow(/imd_decile/);
    expect(() => encode({ age_band: scoring.age_band! }, enc, 3)).toThrow(/imd_decile/);
  });

  it('describes a fit for the model card, leaving out dropped columns', () => {
    const enc = learnEncoding(rows, spec);
    const d = encode(rows, enc, n);
    const rand = mulberry32(9);
    const y = Float64Array.from(ages, (a) => poisson(rand, a === '65-74' ? 3 : 1));
    const fit = fitGlm(d, y, { family: 'poisson' });
    expect(fit.dropped).toEqual(['flat']);
    const card = describeFit(fit, enc);
    expect(card.map((r) => r.term)).toEqual([
      'intercept',
      'imd_decile',
      'age_band=18-44',
      'age_band=65-74',
      'age_band=other',
      'sex=M',
    ]);
    const older = card.find((r) => r.term === 'age_band=65-74')!;
    expect(older.rate_ratio).toBeCloseTo(Math.exp(older.coefficient), 12);
    expect(older.rate_ratio).toBeGreaterThan(2);
    expect(older.comparison).toBe('vs age_band=45-64');
    expect(card[1]!.comparison).toMatch(/^per 1 SD/);
  });

  it('enters flags as they are: the same model as standardised, described as present vs absent', () => {
    const rand = mulberry32(17);
    const m = 4000;
    const x = Float64Array.from({ length: m }, () => normal(rand));
    const f = Float64Array.from({ length: m }, () => (rand() < 0.05 ? 1 : 0));
    const y = Float64Array.from({ length: m }, (_, i) =>
      poisson(rand, Math.exp(-1 + 0.7 * f[i]! + 0.3 * x[i]!)),
    );
    const cols: Columns = { x, f };
    const asFlag = learnEncoding(cols, { numeric: ['x', 'f'], flags: ['f'], categorical: [] });
    const standardised = learnEncoding(cols, { numeric: ['x', 'f'], categorical: [] });
    const design = encode(cols, asFlag, m);
    // The flag's column is the 0/1 itself; x is still standardised.
    expect(Array.from({ length: m }, (_, i) => design.X[i * design.p + 2])).toEqual(Array.from(f));
    expect(design.X[1]).toBeCloseTo((x[0]! - asFlag.numeric[0]!.mean) / asFlag.numeric[0]!.sd, 12);
    const opts = { family: 'poisson' as const, ridge: 0.01 };
    const flagFit = fitGlm(design, y, opts);
    const stdFit = fitGlm(encode(cols, standardised, m), y, opts);
    // The ridge is scaled by each column's spread, so both reach the same penalised optimum.
    const sdF = standardised.numeric[1]!.sd;
    expect(coef(flagFit, 'f')).toBeCloseTo(coef(stdFit, 'f') / sdF, 6);
    expect(coef(flagFit, 'f')).toBeGreaterThan(0.5);
    expect(coef(flagFit, 'f')).toBeLessThan(0.9);
    const a = predictColumns(flagFit, asFlag, cols, m);
    const b = predictColumns(stdFit, standardised, cols, m);
    for (let i = 0; i < m; i += 97) expect(a[i]! / b[i]!).toBeCloseTo(1, 8);
    const viaDesign = predictGlm(flagFit, design);
    for (let i = 0; i < m; i += 97) expect(a[i]! / viaDesign[i]!).toBeCloseTo(1, 12);
    const card = describeFit(flagFit, asFlag);
    expect(card.find((r) => r.term === 'f')!.comparison).toBe('present vs absent');
    expect(card.find((r) => r.term === 'x')!.comparison).toMatch(/^per 1 SD/);
    expect(() => learnEncoding({ f: [0, 1, 2] }, { numeric: ['f'], flags: ['f'], categorical: [] })).toThrow(
      /flag f on row 2 is 2/,
    );
    expect(() => learnEncoding(cols, { numeric: ['x'], flags: ['f'], categorical: [] })).toThrow(
      /flag f is not a numeric column/,
    );
  });

  it('scores from the raw columns exactly as from the encoded design', () => {
    const enc = learnEncoding(rows, spec);
    const random = mulberry32(5);
    const d = encode(rows, enc, n);
    const y = Float64Array.from({ length: n }, () => Math.floor(random() * 4));
    const yes = Float64Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const scoring: Columns = {
      age_band: ['95+', '45-64', '65-74', null, '18-44'],
      sex: ['X', 'M', 'F', 'I', 'M'],
      imd_decile: [1, 2, 3, 10, 7],
      flat: [3, 3, 4, 3, 3],
    };
    for (const fit of [
      fitGlm(d, y, { family: 'poisson', ridge: 1e-3 }),
      fitGlm(d, yes, { family: 'binomial', ridge: 1e-3 }),
    ]) {
      expect(fit.dropped).toEqual(['flat']);
      const byDesign = predictGlm(fit, encode(scoring, enc, 5));
      const byColumns = predictColumns(fit, enc, scoring, 5);
      byDesign.forEach((p, i) => expect(byColumns[i]).toBeCloseTo(p, 12));
    }
  });

  it('scores in SQL as it does in JavaScript, unseen and missing levels included', async () => {
    const enc = learnEncoding(rows, spec);
    const random = mulberry32(11);
    const d = encode(rows, enc, n);
    const y = Float64Array.from({ length: n }, () => Math.floor(random() * 4));
    const yes = Float64Array.from({ length: n }, () => (random() < 0.3 ? 1 : 0));
    const m = 200;
    const levels = ['95+', '45-64', '65-74', null, '18-44', '85+', '75-84'];
    const scoring = {
      age_band: Array.from({ length: m }, () => levels[Math.floor(random() * levels.length)]!),
      sex: Array.from({ length: m }, () => ['X', 'M', 'F', 'I'][Math.floor(random() * 4)]!),
      imd_decile: Float64Array.from({ length: m }, () => 1 + Math.floor(random() * 10)),
      flat: Float64Array.from({ length: m }, () => 3 + random()),
    };
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run(
        `create table scoring as select unnest($age) as age_band, unnest($sex) as sex,
           unnest($imd) as imd_decile, unnest($flat) as flat, unnest(range(${m})) as i`,
        {
          age: listValue(scoring.age_band),
          sex: listValue(scoring.sex),
          imd: listValue([...scoring.imd_decile]),
          flat: listValue([...scoring.flat]),
        },
      );
      for (const fit of [
        fitGlm(d, y, { family: 'tweedie', tweediePower: 1.5, ridge: 1e-3 }),
        fitGlm(d, yes, { family: 'binomial', ridge: 1e-3 }),
      ]) {
        const inJs = predictColumns(fit, enc, scoring, m);
        const { sql, params } = predictSql(fit, enc, 'c', quotedIdentifier);
        const inSql = (
          await conn.runAndReadAll(`select ${sql} as p from scoring order by i`, params)
        ).getColumnsJS()[0]! as number[];
        expect(inSql).toHaveLength(m);
        inSql.forEach((p, i) => expect(p / inJs[i]!).toBeCloseTo(1, 12));
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
