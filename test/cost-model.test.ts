// The cost and admission models against the synthetic generator's ground truth: the generator
// states each patient's expected next-year cost, so a model that learned the wrong thing
// (or nothing) shows up as a weak correlation with it, whatever its own backtest says.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitModels } from '../src/cost-model.ts';
import { modelCardStep } from '../src/outputs.ts';
import { queryRows } from '../src/db.ts';
import { auroc, rSquared } from '../src/model-metrics.ts';
import { projectPath } from '../src/paths.ts';
import type { RunContext } from '../src/stage.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth, type TruthRow } from './support/ground-truth.ts';
import { runStages, type StagedRun } from './support/pipeline.ts';

/** The fitted models of a run that had enough outcome data to fit them. */
function fitted(ctx: RunContext) {
  const models = ctx.results.models;
  if (!models?.available) throw new Error('the run fitted no models');
  return models;
}

type Prediction = {
  pseudo_id: string;
  predicted_cost_12m: number;
  admission_probability_12m: number;
};

function ranks(xs: number[]): Float64Array {
  const order = xs.map((_, i) => i).sort((a, b) => xs[a]! - xs[b]! || a - b);
  const out = new Float64Array(xs.length);
  order.forEach((row, k) => (out[row] = k));
  return out;
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

const spearman = (a: number[], b: number[]): number => pearson(ranks(a), ranks(b));

describe('cost and admission models on a synthetic delivery', () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-cost-model-'));
  const delivery = join(root, 'delivery');
  let run: StagedRun;
  let ctx: RunContext;
  let predictions: Prediction[];
  let adults: TruthRow[];
  let featureAdults: number;

  beforeAll(async () => {
    await synthesise({ scale: 0.01, seed: 11, out: delivery, asOf: '2026-03-31' });
    // The stages up to the models, as runPipeline walks them, without the outputs and publishing.
    run = await runStages(delivery, 'cost model');
    ctx = run.ctx;
    const conn = ctx.conn;
    predictions = await queryRows<Prediction>(conn, 'select * from patient_prediction order by pseudo_id');
    featureAdults = Number(
      (
        await queryRows<{ n: number }>(
          conn,
          `select count(*) as n from patient_features where ref = 'current'`,
        )
      )[0]!.n,
    );
    adults = readGroundTruth(delivery).filter((r) => r.eligible && r.age >= 18);
  });

  afterAll(() => {
    run?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('scores every adult once, with a positive cost and a probability', () => {
    expect(predictions.length).toBe(featureAdults);
    expect(new Set(predictions.map((p) => p.pseudo_id)).size).toBe(predictions.length);
    for (const p of predictions) {
      expect(p.predicted_cost_12m).toBeGreaterThan(0);
      expect(Number.isFinite(p.predicted_cost_12m)).toBe(true);
      expect(p.admission_probability_12m).toBeGreaterThan(0);
      expect(p.admission_probability_12m).toBeLessThan(1);
    }
  });

  it('ranks adults by cost and admission risk as the generating model does', () => {
    const byId = new Map(predictions.map((p) => [p.pseudo_id, p]));
    const matched = adults.filter((r) => byId.has(r.pseudo_id));
    expect(matched.length).toBeGreaterThan(0.98 * adults.length);
    // At scale 0.1 the rank correlation with the true expected cost is about 0.89; last year's
    // cost alone (the naive predictor) reaches about 0.63, so 0.75 separates a model that
    // learned the conditions, frailty and history from one that only carries cost forward.
    const costRho = spearman(
      matched.map((r) => byId.get(r.pseudo_id)!.predicted_cost_12m),
      matched.map((r) => r.expected_cost_next_12m),
    );
    expect(costRho).toBeGreaterThan(0.75);
    const admissionRho = spearman(
      matched.map((r) => byId.get(r.pseudo_id)!.admission_probability_12m),
      matched.map((r) => r.p_admission_next_12m),
    );
    expect(admissionRho).toBeGreaterThan(0.75);
  });

  it('backtests out of time close to what knowing the true expected cost would give', () => {
    const models = fitted(ctx).summary;
    const v = models.backtest.validation;
    const realised = Float64Array.from(adults.map((r) => r.realised_cost_prev_12m));
    const oracleR2 = rSquared(realised, Float64Array.from(adults.map((r) => r.expected_cost_prev_12m)));
    const oracleAdmission = auroc(
      Float64Array.from(adults.map((r) => r.p_admission_prev_12m)),
      adults.map((r) => r.admitted_prev_12m),
    );
    // The whole backtest includes those who died or left in the outcome year, whose year was
    // cut short: at this scale one such patient moves R² by a fifth (R² from 0.31 to 0.55 across
    // seeds 7, 8, 9 and 12, with this model and the one before it), so only a loose floor is held
    // here; the like-for-like figure below is held to the target.
    expect(v.cost.r_squared).toBeGreaterThan(0.4 * oracleR2);
    // The oracle exists only for adults registered today, so the like-for-like figure is the
    // backtest on those still registered when the outcome year ended: every one of them is in the
    // ground truth, and all but the year's newcomers and new adults are among them.
    const stayed = v.still_registered;
    expect(stayed.patients).toBeLessThanOrEqual(adults.length);
    expect(stayed.patients).toBeGreaterThan(0.9 * adults.length);
    expect(stayed.patients).toBeLessThan(v.patients);
    // At this scale (some 9,000 adults, costs heavy-tailed) it moves a good deal with the seed;
    // the oracle knows each patient's person and transient effects, which no record shows, so
    // the model reaches 0.70 of it here (seed 11). The bench's target (0.85, npm run bench:models)
    // is held at scale 0.1, where chance moves it less.
    expect(stayed.cost.r_squared).toBeGreaterThan(0.6 * oracleR2);
    expect(stayed.admission_auroc).toBeGreaterThan(0.93 * oracleAdmission);
    expect(v.admission.auroc).toBeGreaterThan(0.93 * oracleAdmission);
    expect(v.high_cost.auroc).toBeGreaterThan(0.75);
    // Calibrated in the large against what happened (the generator's expected cost is not the
    // yardstick here: it ignores deaths and departures within the year, which the outcome counts).
    expect(v.cost.mean_predicted / v.cost.mean_observed).toBeGreaterThan(0.9);
    expect(v.cost.mean_predicted / v.cost.mean_observed).toBeLessThan(1.1);
    expect(v.cost.calibration_by_decile).toHaveLength(10);
    for (const d of v.cost.calibration_by_decile) {
      expect(d.ratio).toBeGreaterThan(0.7);
      expect(d.ratio).toBeLessThan(1.3);
    }
    // The very high and high tiers (5% of adults) carry far more than 5% of next-year cost.
    const top = v.tiers.filter((t) => t.group === 'very high' || t.group === 'high');
    expect(top.reduce((s, t) => s + (t.share ?? 0), 0)).toBeGreaterThan(0.3);
  });

  it('fits on the adults still registered when the outcome year ended, and on no others', async () => {
    const models = fitted(ctx).summary;
    // Today's model is fitted a year back, on the year the backtest scores: at this scale the
    // sample (at most 120,000) holds every eligible adult, so it is exactly the backtest's
    // still-registered population, which the validation finds by its own join on pseudo_id.
    const v = models.backtest.validation;
    expect(models.applied.sample_rows).toBe(v.still_registered.patients);
    expect(models.applied.sample_rows).toBeLessThan(v.patients);
    // The backtest's model, two years back: its adults who were still registered a year later.
    const [counts] = await queryRows<{ with_outcome: number; stayed: number }>(
      ctx.conn,
      `select
           count(*) as with_outcome,
           count(*) filter (where pseudo_id in (select pseudo_id from population where ref = 'train')) as stayed
       from patient_features
       where ref = 'backtest' and next_cost_12m is not null`,
    );
    expect(models.backtest.sample_rows).toBe(Number(counts!.stayed));
    expect(Number(counts!.stayed)).toBeLessThan(Number(counts!.with_outcome));
  });

  it("reads each date's experience over the history the delivery holds before it", async () => {
    // The generator writes four years of secondary care up to the as-of date, so the history
    // is four years today, three a year back (training) and two at the backtest's date.
    const rows = await queryRows<{ ref: string; shortest: number; longest: number }>(
      ctx.conn,
      `select ref, min(history_years) as shortest, max(history_years) as longest
       from patient_features group by ref order by ref`,
    );
    const years = Object.fromEntries(rows.map((r) => [r.ref, [r.shortest, r.longest]]));
    expect(years.current![0]).toBeCloseTo(4, 2);
    expect(years.current![1]).toBeCloseTo(4, 2);
    expect(years.train![0]).toBeCloseTo(3, 2);
    expect(years.backtest![0]).toBeCloseTo(2, 2);
    // Every event of an adult in those years is counted, at every date.
    const [check] = await queryRows<{ mismatched: number }>(
      ctx.conn,
      `select count(*) filter (where f.history_events <> coalesce(a.events, 0)) as mismatched
       from patient_features f
       join reference_date r using (ref)
       left join (
           select r.ref, s.pseudo_id, count(*) as events
           from stg_activity s join reference_date r
             on s.start_date <= r.ref_date and s.start_date > r.ref_date - to_months(48)
           group by all
       ) a on a.ref = f.ref and a.pseudo_id = f.pseudo_id`,
    );
    expect(check!.mismatched).toBe(0);
  });

  it('keeps a reference date a year apart for every history year the secondary care covers', async () => {
    // As of 2026-03-31 the generator writes secondary care from 2022-04-01: the clinical record
    // is needed at the start of each of those four years, and not before.
    const rows = await queryRows<{ ref: string; ref_date: string; years_back: number }>(
      ctx.conn,
      `select ref, strftime(ref_date, '%Y-%m-%d') as ref_date, years_back from reference_date order by years_back`,
    );
    expect(rows.map((r) => [r.ref, r.ref_date, r.years_back])).toEqual([
      ['current', '2026-03-31', 0],
      ['train', '2025-03-31', 1],
      ['backtest', '2024-03-31', 2],
      ['history_3y', '2023-03-31', 3],
      ['history_4y', '2022-03-31', 4],
    ]);
  });

  it("counts each patient's events in the year after every date where the delivery covers that year", async () => {
    const [check] = await queryRows<{ rows: number; known: number; mismatched: number }>(
      ctx.conn,
      `select
           count(*) as rows,
           count(f.next_events) as known,
           count(*) filter (
               where f.next_events is distinct from (case when r.years_back > 0 then coalesce(a.events, 0) end)
           ) as mismatched
       from patient_record f
       join reference_date r using (ref)
       left join (
           select r.ref, s.pseudo_id, count(*) as events
           from stg_activity s join reference_date r
             on s.start_date > r.ref_date and s.start_date <= r.ref_date + to_months(12)
           group by all
       ) a on a.ref = f.ref and a.pseudo_id = f.pseudo_id`,
    );
    // Four of the five dates have a whole year after them in the delivery.
    expect(check!.known).toBeGreaterThan(0.7 * check!.rows);
    expect(check!.known).toBeLessThan(0.85 * check!.rows);
    expect(check!.mismatched).toBe(0);
  });

  it('expects history events year by year, from the record as it stood when each year began', async () => {
    // Today's history is four years (records at the four earlier dates), a year back it is three
    // (the three before that). Where a patient's record is the same on all five dates, every
    // year's rate is the same, so today's expectation is exactly 4/3 of last year's; where the
    // record changed, it is not.
    const rows = await queryRows<{ unchanged: boolean; n: number; off: number }>(
      ctx.conn,
      `with record as (
           select pseudo_id, patient_key,
                  count(*) as dates,
                  count(distinct (age_band_sex, imd_decile, condition_bits, efi_score, coded_frailty, distinct_drugs_12m)) as versions
           from patient_record
           group by all
       ),
       today as (select patient_key, expected_events from expected_history_events where ref = 'current'),
       year_back as (select patient_key, expected_events from expected_history_events where ref = 'train')
       select r.versions = 1 as unchanged, count(*) as n,
              count(*) filter (where abs(t.expected_events / y.expected_events - 4 / 3) > 1e-9) as off
       from record r
       join today t using (patient_key)
       join year_back y using (patient_key)
       where r.dates = 5
       group by all`,
    );
    const unchanged = rows.find((r) => r.unchanged)!;
    const changed = rows.find((r) => !r.unchanged)!;
    expect(unchanged.n).toBeGreaterThan(100);
    expect(unchanged.off).toBe(0);
    expect(changed.n).toBeGreaterThan(100);
    expect(changed.off).toBeGreaterThan(0.9 * changed.n);
    // The first stage is a Poisson model with an intercept, fitted on the years before the
    // backtest's date: over the adults a year back, expected and observed history agree.
    const [sum] = await queryRows<{ expected: number; observed: number }>(
      ctx.conn,
      `select sum(e.expected_events) as expected, sum(f.history_events) as observed
       from expected_history_events e
       join patient_features f using (ref, patient_key)
       where ref = 'train'`,
    );
    expect(sum!.expected / sum!.observed).toBeGreaterThan(0.95);
    expect(sum!.expected / sum!.observed).toBeLessThan(1.05);
  });

  it('writes a model card and gives the same coefficients and card when refitted', async () => {
    await modelCardStep(ctx);
    const card = readFileSync(join(ctx.runDir, 'model-card.md'), 'utf8');
    expect(card).toContain('Not for individual clinical decisions');
    expect(card).toContain('R² on cost');
    expect(card).toContain('eFI-style');
    expect(card).toMatch(/SPARRA/);
    const before = JSON.stringify(fitted(ctx).summary);
    const refitted = await fitModels(ctx);
    expect(JSON.stringify(refitted.models.summary)).toBe(before);
    await modelCardStep({ ...ctx, results: { ...ctx.results, ...refitted } });
    expect(readFileSync(join(ctx.runDir, 'model-card.md'), 'utf8')).toBe(card);
    expect(existsSync(join(ctx.runDir, 'model-card.md'))).toBe(true);
  });
});

describe('a delivery whose secondary care covers only the last two years', () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-short-history-'));
  const delivery = join(root, 'delivery');
  let run: StagedRun;

  beforeAll(async () => {
    // The bundled sample, with every secondary-care record before 1 April 2024 taken out: no
    // complete year of activity lies before the backtest's date (31 March 2024).
    cpSync(projectPath('sample-data', 'delivery'), delivery, { recursive: true });
    const folder = join(delivery, 'secondary-care');
    for (const name of readdirSync(folder)) {
      const file = join(folder, name);
      const gz = name.endsWith('.gz');
      const lines = (gz ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString('utf8').split('\n');
      const startDate = lines[0]!.split(',').indexOf('start_date');
      const kept = lines.filter(
        (line, i) => i === 0 || line === '' || line.split(',')[startDate]! >= '2024-04-01',
      );
      const text = kept.join('\n');
      writeFileSync(file, gz ? gzipSync(text) : text);
    }
    run = await runStages(delivery, 'cost model');
  });

  afterAll(() => {
    run?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('keeps only the model dates and fits without an experience rating, saying so', async () => {
    const refs = await run.query<{ ref: string }>('select ref from reference_date order by years_back');
    expect(refs.map((r) => r.ref)).toEqual(['current', 'train', 'backtest']);
    const models = fitted(run.ctx).summary;
    expect(models.experience_rating.first_stage.sample_patient_years).toBe(0);
    expect(models.experience_rating.first_stage.fit).toBeUndefined();
    expect(models.experience_rating.gamma_shape).toEqual({ applied: null, backtest: null });
    const [adults] = await run.query<{ n: number }>(
      "select count(*) as n from population where ref = 'current' and adult",
    );
    expect(models.applied.adults_scored).toBe(Number(adults!.n));
    expect(models.applied.mean_predicted_cost).toBeGreaterThan(0);
    await modelCardStep(run.ctx);
    const card = readFileSync(join(run.ctx.runDir, 'model-card.md'), 'utf8');
    expect(card).toContain('n/a (no history year to fit it on)');
  });
});
