import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvFiles, rowSchema, type FileContract } from '../src/contract.ts';
import { MESS, synthesise, type FileMess } from '../src/synth/index.ts';
import { readGroundTruth, truthFigures, type TruthRow } from './support/ground-truth.ts';

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}
function digest(dir: string): Map<string, string> {
  return new Map(
    files(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

describe('the synthetic generator', () => {
  const out = mkdtempSync(join(tmpdir(), 'strata-synth-'));
  let truth: TruthRow[];
  let mess: { files: FileMess[] };
  beforeAll(async () => {
    await synthesise({ scale: 0.01, seed: 7, out, asOf: '2026-03-31' });
    truth = readGroundTruth(out);
    mess = JSON.parse(readFileSync(join(out, 'ground-truth', 'mess.json'), 'utf8'));
  });

  it('is deterministic: the same seed gives the same bytes, another seed does not', async () => {
    const a = mkdtempSync(join(tmpdir(), 'strata-synth-a-'));
    const b = mkdtempSync(join(tmpdir(), 'strata-synth-b-'));
    const c = mkdtempSync(join(tmpdir(), 'strata-synth-c-'));
    await synthesise({ scale: 0.002, seed: 11, out: a, asOf: '2026-03-31' });
    await synthesise({ scale: 0.002, seed: 11, out: b, asOf: '2026-03-31' });
    await synthesise({ scale: 0.002, seed: 12, out: c, asOf: '2026-03-31' });
    expect([...digest(a)]).toEqual([...digest(b)]);
    expect(
      digest(a).get('practices/C82001/observations.csv') ??
        digest(a).get('practices/C82001/observations.csv.gz'),
    ).not.toBe(
      digest(c).get('practices/C82001/observations.csv') ??
        digest(c).get('practices/C82001/observations.csv.gz'),
    );
  });

  it('reproduces the LLR geography: 136 practices, about 25 PCNs of 30-50k, three places', () => {
    const f = truthFigures(truth);
    expect(f.practices).toBe(136);
    expect(f.pcns).toBeGreaterThanOrEqual(23);
    expect(f.pcns).toBeLessThanOrEqual(27);
    // 30,000 to 50,000 at full scale, so 300 to 500 at 0.01 (random churn allowed for).
    expect(f.pcnSize.min).toBeGreaterThanOrEqual(300 * 0.95);
    expect(f.pcnSize.max).toBeLessThanOrEqual(500 * 1.05);
    expect(f.eligible).toBeGreaterThan(1_133_842 * 0.01 * 0.98);
    expect(f.eligible).toBeLessThan(1_133_842 * 0.01 * 1.02);
    const byPlace = (place: string) => truth.filter((r) => r.eligible && r.place === place).length;
    expect(byPlace('Leicester City') / f.eligible).toBeCloseTo(415_213 / 1_133_842, 2);
    expect(byPlace('Rutland') / f.eligible).toBeCloseTo(40_000 / 1_133_842, 2);
  });

  it('gives the City its youth and deprivation and Rutland its age', () => {
    const f = truthFigures(truth);
    expect(f.over65ByPlace['Leicester City']).toBeCloseTo(0.12, 1);
    expect(f.over65ByPlace['Leicestershire County']).toBeCloseTo(0.21, 1);
    expect(Math.abs(f.over65ByPlace['Rutland']! - 0.24)).toBeLessThan(0.05);
    const city = truth.filter((r) => r.eligible && r.place === 'Leicester City');
    const mostDeprived = city.filter((r) => r.imd_decile <= 2).length / city.length;
    expect(Math.abs(mostDeprived - 0.44)).toBeLessThan(0.1);
    const rutland = truth.filter((r) => r.eligible && r.place === 'Rutland');
    expect(rutland.filter((r) => r.imd_decile <= 2).length).toBe(0);
  });

  it('has multimorbidity rare in the young and common in the old (Barnett 2012)', () => {
    const f = truthFigures(truth);
    expect(Math.abs(f.multimorbidity2plus - 0.23)).toBeLessThan(0.05);
    expect(Math.abs(f.multimorbidity5plusOver75 - 0.25)).toBeLessThan(0.07);
    const young = truth.filter((r) => r.eligible && r.age >= 18 && r.age < 45);
    expect(young.filter((r) => r.condition_count >= 5).length / young.length).toBeLessThan(0.02);
  });

  it('has an eFI-style distribution among 65+ like the published one (50/35/12/3%)', () => {
    const { efiOver65 } = truthFigures(truth);
    expect(Math.abs(efiOver65.fit! - 0.5)).toBeLessThan(0.05);
    expect(Math.abs(efiOver65.mild! - 0.35)).toBeLessThan(0.05);
    expect(Math.abs(efiOver65.moderate! - 0.12)).toBeLessThan(0.04);
    expect(Math.abs(efiOver65.severe! - 0.03)).toBeLessThan(0.02);
  });

  it('admits about 9% of adults as emergencies in a year; the top 5% carry 40-60% of cost', () => {
    const f = truthFigures(truth);
    expect(Math.abs(f.emergencyAdmissionAdults - 0.09)).toBeLessThan(0.02);
    expect(f.top5CostShare).toBeGreaterThan(0.4);
    expect(f.top5CostShare).toBeLessThan(0.6);
  });

  it('changes expected cost from one year to the next about as a population ages, not by a third', () => {
    // The models are fitted a year back and applied today, so the year-on-year change is what the
    // backtest cannot see. Ageing and new diagnoses move it a little; a condition counted only by
    // its last year's records must not appear, risk and all, in the final year.
    const adults = truth.filter((r) => r.eligible && r.age >= 18);
    const mean = (f: (r: TruthRow) => number) => adults.reduce((s, r) => s + f(r), 0) / adults.length;
    const growth = mean((r) => r.expected_cost_next_12m) / mean((r) => r.expected_cost_prev_12m);
    expect(growth).toBeGreaterThan(1);
    expect(growth).toBeLessThan(1.15);
    // No one's risk runs away: the costliest adult's expected cost is within a few hundred
    // times the mean (unbounded condition effects put it at a thousand).
    const top = Math.max(...adults.map((r) => r.expected_cost_next_12m));
    expect(top / mean((r) => r.expected_cost_next_12m)).toBeLessThan(200);
  });

  it('writes 3 years of history plus the year before, movers at two practices, deaths and leavers', () => {
    expect(truth.some((r) => r.mover)).toBe(true);
    expect(truth.filter((r) => !r.eligible).length / truth.length).toBeGreaterThan(0.05);
    const obs = readRows(out, 'practices/C82001/observations.csv');
    const dates = obs
      .map((r) => r.recorded_date!)
      .filter((d) => d >= '2022-01-01')
      .sort();
    expect(dates[0]! <= '2022-04-30').toBe(true);
    const mover = truth.find((r) => r.mover)!;
    const holding = readdirSync(join(out, 'practices')).filter((code) =>
      readRows(out, `practices/${code}/patients.csv`).some((r) => r.pseudo_id === mover.pseudo_id),
    );
    expect(holding.length).toBe(2);
  });

  it('puts malformed lines in the files at the stated rate, and says exactly how many', () => {
    let lines = 0;
    let malformed = 0;
    for (const f of mess.files.filter((m) => m.path.includes('observations') && !m.copy_of)) {
      const counted = countMalformed(
        out,
        f.path,
        csvFiles.find((c) => c.name === 'observations')!,
      );
      expect(counted.malformed, f.path).toBe(f.malformed);
      expect(counted.lines, f.path).toBe(f.lines);
      lines += counted.lines;
      malformed += counted.malformed;
    }
    expect(malformed / lines).toBeGreaterThan(MESS.malformed.observations * 0.5);
    expect(malformed / lines).toBeLessThan(MESS.malformed.observations * 2 + 0.001);
    const activity = mess.files.find((m) => m.path.startsWith('secondary-care/') && !m.copy_of)!;
    expect(
      countMalformed(
        out,
        activity.path,
        csvFiles.find((c) => c.name === 'activity')!,
      ).malformed,
    ).toBe(activity.malformed);
    expect(mess.files.some((m) => m.copy_of)).toBe(true);
    expect(mess.files.some((m) => m.path.endsWith('.gz'))).toBe(true);
  });
});

function read(dir: string, path: string): Buffer {
  const full = join(dir, path);
  const candidates = [full, `${full}.gz`];
  for (const c of candidates) {
    try {
      const data = readFileSync(c);
      return c.endsWith('.gz') ? gunzipSync(data) : data;
    } catch {
      // try the next
    }
  }
  throw new Error(`no ${relative(dir, full)}`);
}

function readRows(dir: string, path: string): Record<string, string>[] {
  return parse(read(dir, path.replace(/\.gz$/, '')), { columns: true, relax_column_count: true });
}

/** Counts lines that break the contract, independently of the generator's own bookkeeping. */
function countMalformed(dir: string, path: string, contract: FileContract) {
  const rows: string[][] = parse(read(dir, path.replace(/\.gz$/, '')), {
    relax_column_count: true,
    from_line: 2,
  });
  const schema = rowSchema(contract);
  const names = Object.keys(contract.columns);
  let malformed = 0;
  for (const cells of rows) {
    if (cells.length !== names.length) {
      malformed++;
      continue;
    }
    const row = Object.fromEntries(names.map((n, i) => [n, cells[i] === '' ? null : cells[i]]));
    const ok =
      schema.safeParse(row).success &&
      names.every((n, i) => contract.columns[n]!.sqlType !== 'DATE' || !cells[i] || realDate(cells[i]!));
    if (!ok) malformed++;
  }
  return { lines: rows.length, malformed };
}

function realDate(iso: string): boolean {
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso;
}

describe('the bundled sample delivery', () => {
  it('is exactly what `npm run sample-data` makes, and small', async () => {
    const script = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).scripts[
      'sample-data'
    ] as string;
    const arg = (name: string) => script.match(new RegExp(`--${name} (\\S+)`))![1]!;
    const out = mkdtempSync(join(tmpdir(), 'strata-sample-'));
    await synthesise({
      scale: Number(arg('scale')),
      seed: Number(arg('seed')),
      practices: Number(arg('practices')),
      asOf: arg('as-of'),
      out,
    });
    const bundled = join(import.meta.dirname, '..', 'sample-data', 'delivery');
    expect([...digest(out)]).toEqual([...digest(bundled)]);
    const bytes = files(bundled).reduce((s, f) => s + statSync(join(bundled, f)).size, 0);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const truth = readGroundTruth(bundled);
    const places = new Set(truth.map((r) => r.place));
    expect(places.size).toBe(3);
    expect(new Set(truth.map((r) => r.pcn_code)).size).toBeGreaterThanOrEqual(3);
    expect(new Set(truth.map((r) => r.practice_code)).size).toBeGreaterThanOrEqual(6);
  });
});
