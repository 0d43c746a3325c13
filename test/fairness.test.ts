// Fairness figures by group, checked against a hand-worked table and against DuckDB's own
// aggregates (avg, stddev_samp) over a larger random population.
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { fairnessByGroup, FAIRNESS_DIMENSIONS, type FairnessDimension } from '../src/fairness.ts';
import { Rng } from '../src/synth/random.ts';

describe('fairnessByGroup', () => {
  it('works out a small table as by hand', () => {
    // Women: predicted 100 each, observed 0, 100, 200 -> ratio 1, sd 100, se 100 / sqrt(3) / 100.
    // Men: predicted 200 and 400 (mean 300), observed 600 and 0 -> ratio 1, sd 424.26, se 424.26 / sqrt(2) / 300.
    const predicted = [100, 100, 100, 200, 400];
    const observed = [0, 100, 200, 600, 0];
    const flagged = [0, 0, 0, 0, 1];
    const high = [0, 0, 0, 1, 0];
    const one = (v: string) => predicted.map(() => v);
    const groups = {
      sex: ['F', 'F', 'F', 'M', 'M'],
      'age band': one('18-44'),
      'deprivation quintile': one('1'),
      place: one('Rutland'),
    };
    const rows = fairnessByGroup(predicted, observed, flagged, high, groups);
    expect(rows.map((r) => `${r.dimension}:${r.group}`)).toEqual([
      'sex:F',
      'sex:M',
      'age band:18-44',
      'deprivation quintile:1',
      'place:Rutland',
    ]);
    const [women, men, all] = rows;
    expect(women!.patients).toBe(3);
    expect(women!.ratio).toBeCloseTo(1, 12);
    expect(women!.ratio_standard_error).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(women!.share_flagged).toBe(0);
    expect(men!.ratio).toBeCloseTo(1, 12);
    expect(men!.ratio_standard_error).toBeCloseTo(Math.sqrt(180_000) / Math.sqrt(2) / 300, 12);
    expect(men!.share_flagged).toBe(0.5);
    expect(men!.share_flagged_standard_error).toBeCloseTo(Math.sqrt(0.25 / 2), 12);
    expect(men!.share_observed_high_cost).toBe(0.5);
    // Everyone: predicted 180 on average, observed 180 -> ratio 1; within target.
    expect(all!.mean_predicted).toBe(180);
    expect(all!.ratio).toBeCloseTo(1, 12);
    expect(all!.within_target).toBe(true);
  });

  it('holds a group to its 95% interval plus 10%', () => {
    // 400 adults each predicted 100, observed 130 or 110 alternately: ratio 1.2, se 10 / sqrt(400)
    // / 100 = 0.005 (sample sd 10.01): 1.2 is outside 1 +/- (1.96 x 0.005 + 0.1).
    const n = 400;
    const predicted = Array.from({ length: n }, () => 100);
    const observed = Array.from({ length: n }, (_, i) => (i % 2 ? 130 : 110));
    const zeros = predicted.map(() => 0);
    const one = predicted.map(() => 'a');
    const rows = fairnessByGroup(predicted, observed, zeros, zeros, {
      sex: one,
      'age band': one,
      'deprivation quintile': one,
      place: one,
    });
    expect(rows[0]!.ratio).toBeCloseTo(1.2, 12);
    expect(rows[0]!.within_target).toBe(false);
    // The same mean with a wide spread (0 or 240): the interval covers it.
    const spread = Array.from({ length: n }, (_, i) => (i % 2 ? 240 : 0));
    const wide = fairnessByGroup(predicted, spread, zeros, zeros, {
      sex: one,
      'age band': one,
      'deprivation quintile': one,
      place: one,
    });
    expect(wide[0]!.ratio).toBeCloseTo(1.2, 12);
    expect(wide[0]!.within_target).toBe(true);
  });

  it('agrees with the same figures worked out by DuckDB', async () => {
    const rng = new Rng(2026, 12);
    const n = 5000;
    const rows = Array.from({ length: n }, () => {
      const predicted = 50 + 2000 * rng.next() ** 3;
      return {
        predicted,
        observed: rng.chance(0.6) ? 0 : predicted * 2.5 * rng.lognormalUnitMean(1),
        flagged: rng.chance(0.05) ? 1 : 0,
        high: rng.chance(0.04) ? 1 : 0,
        sex: rng.pick(['F', 'M', 'U']),
        age: rng.pick(['18-44', '45-64', '65-74', '75-84', '85+']),
        quintile: rng.pick(['1', '2', '3', '4', '5', 'unknown']),
        place: rng.pick(['Leicester City', 'Leicestershire County', 'Rutland']),
      };
    });
    const got = fairnessByGroup(
      rows.map((r) => r.predicted),
      rows.map((r) => r.observed),
      rows.map((r) => r.flagged),
      rows.map((r) => r.high),
      {
        sex: rows.map((r) => r.sex),
        'age band': rows.map((r) => r.age),
        'deprivation quintile': rows.map((r) => r.quintile),
        place: rows.map((r) => r.place),
      },
    );

    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run(
        `create table t (predicted DOUBLE, observed DOUBLE, flagged DOUBLE, high DOUBLE,
                         sex VARCHAR, age VARCHAR, quintile VARCHAR, place VARCHAR)`,
      );
      const appender = await conn.createAppender('t');
      for (const r of rows) {
        appender.appendDouble(r.predicted);
        appender.appendDouble(r.observed);
        appender.appendDouble(r.flagged);
        appender.appendDouble(r.high);
        appender.appendVarchar(r.sex);
        appender.appendVarchar(r.age);
        appender.appendVarchar(r.quintile);
        appender.appendVarchar(r.place);
        appender.endRow();
      }
      appender.closeSync();
      const column: Record<FairnessDimension, string> = {
        sex: 'sex',
        'age band': 'age',
        'deprivation quintile': 'quintile',
        place: 'place',
      };
      const want: Record<string, number | string>[] = [];
      for (const dimension of FAIRNESS_DIMENSIONS) {
        const reader = await conn.runAndReadAll(
          `select ${column[dimension]} as grp, count(*)::INTEGER as n,
                  avg(observed) / avg(predicted) as ratio,
                  stddev_samp(observed) / sqrt(count(*)) / avg(predicted) as se,
                  avg(flagged) as share_flagged, avg(high) as share_high
           from t group by grp order by grp`,
        );
        for (const r of reader.getRowObjectsJS())
          want.push({ dimension, ...(r as Record<string, number | string>) });
      }
      expect(got.length).toBe(want.length);
      got.forEach((g, k) => {
        const w = want[k]!;
        expect(`${g.dimension}:${g.group}`).toBe(`${w.dimension}:${w.grp}`);
        expect(g.patients).toBe(w.n);
        expect(g.ratio!).toBeCloseTo(w.ratio as number, 10);
        expect(g.ratio_standard_error!).toBeCloseTo(w.se as number, 10);
        expect(g.share_flagged).toBeCloseTo(w.share_flagged as number, 12);
        expect(g.share_observed_high_cost).toBeCloseTo(w.share_high as number, 12);
        const p = w.share_flagged as number;
        expect(g.share_flagged_standard_error).toBeCloseTo(Math.sqrt((p * (1 - p)) / (w.n as number)), 12);
        expect(g.within_target).toBe(Math.abs((w.ratio as number) - 1) <= 1.959964 * (w.se as number) + 0.1);
      });
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });
});
