// A delivery whose secondary-care files hold no activity: there is no outcome to fit the cost
// and admission models on. The run must say so, publish the cohorts that need no model
// (multimorbidity and frailty) as usual, and mark the predicted high cost cohort, the tiers and
// the admission risk as not available everywhere, rather than flag every adult (0 >= 3 x 0).
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGroundTruth, type TruthRow } from './support/ground-truth.ts';
import { runArgsFor, runCli, SAMPLE_DELIVERY, type CliResult } from './support/cli.ts';

type Row = Record<string, string>;

describe('a delivery with no secondary-care activity', () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-no-secondary-care-'));
  const delivery = join(root, 'delivery');
  const out = join(root, 'out');
  let result: CliResult;
  let latest: string;
  let lists: Row[];
  let truth: Map<string, TruthRow>;

  beforeAll(async () => {
    cpSync(SAMPLE_DELIVERY, delivery, { recursive: true });
    // Every activity file keeps its header and loses its lines.
    const dir = join(delivery, 'secondary-care');
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const gz = name.endsWith('.gz');
      const text = (gz ? gunzipSync(readFileSync(path)) : readFileSync(path)).toString('utf8');
      const header = text.slice(0, text.indexOf('\n') + 1);
      writeFileSync(path, gz ? gzipSync(header) : header);
    }
    result = await runCli(runArgsFor(delivery, out));
    latest = join(out, 'latest');
    lists = readdirSync(join(latest, 'practices')).flatMap(
      (code) =>
        parse(readFileSync(join(latest, 'practices', code, 'risk-list.csv')), { columns: true }) as Row[],
    );
    truth = new Map(readGroundTruth(delivery).map((r) => [r.pseudo_id, r]));
  }, 300_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('publishes, and says in the log and the manifest why there are no predictions', () => {
    expect(result.code).toBe(0);
    const warning = result.logs.find((l) => l.msg === 'predicted high cost cohort not available');
    expect(String(warning?.reason)).toMatch(/too little outcome data/);
    const manifest = JSON.parse(readFileSync(join(latest, 'manifest.json'), 'utf8'));
    expect(manifest.models.available).toBe(false);
    expect(manifest.models.reason).toBe(warning!.reason);
    expect(JSON.parse(result.stdout).predictionsNotAvailable).toBe(warning!.reason);
    // Nothing in the delivery: no adult had a cost or an admission in either fitting year.
    expect(manifest.models.reason).toMatch(
      /^too little outcome data.*: 0 adults with any secondary-care cost and 0/,
    );
  });

  it('flags no adult as predicted high cost and gives no tier or prediction', () => {
    const adults = lists.filter((r) => truth.get(r.pseudo_id!.replace(/^'/, ''))!.age >= 18);
    expect(adults.length).toBeGreaterThan(1000);
    for (const r of adults) {
      expect(r.high_cost_3x).toBe('');
      expect(r.tier).toBe('');
      expect(r.predicted_cost_12m).toBe('');
      expect(r.admission_probability_12m).toBe('');
    }
  });

  it('still publishes the multimorbidity and frailty cohorts, as the ground truth has them', () => {
    let multimorbidity = 0;
    let frailty = 0;
    let agreeMultimorbidity = 0;
    let agreeFrailty = 0;
    for (const r of lists) {
      const t = truth.get(r.pseudo_id!.replace(/^'/, ''))!;
      const adult = t.age >= 18;
      // Without admitted-patient spells the HFRS is 0, so frailty is coded or eFI-style only.
      const trulyFrail =
        adult &&
        (['moderate', 'severe'].includes(t.coded_frailty) || ['moderate', 'severe'].includes(t.efi_category));
      const trulyMultimorbid = adult && t.condition_count >= 5;
      if (r.multimorbidity_5plus === 'true') multimorbidity++;
      if (r.frailty === 'true') frailty++;
      if ((r.multimorbidity_5plus === 'true') === trulyMultimorbid) agreeMultimorbidity++;
      if ((r.frailty === 'true') === trulyFrail) agreeFrailty++;
      expect(r.frailty_rules).not.toMatch(/hfrs/i);
    }
    expect(multimorbidity).toBeGreaterThan(50);
    expect(frailty).toBeGreaterThan(30);
    expect(agreeMultimorbidity / lists.length).toBeGreaterThanOrEqual(0.995);
    expect(agreeFrailty / lists.length).toBeGreaterThanOrEqual(0.995);
  });

  it('marks the high cost cohort and tiers as not available in the summaries, lists and report', () => {
    const metadata = parse(readFileSync(join(latest, 'commissioner', 'metadata.csv')), {
      columns: true,
    }) as Row[];
    const value = (key: string) => metadata.find((m) => m.key === key)?.value ?? '';
    expect(value('cohort: high cost')).toMatch(/NOT AVAILABLE in this run \(too little outcome data/);
    expect(value('tiers')).toMatch(/NOT AVAILABLE/);
    expect(value('cohort: multimorbidity')).not.toMatch(/NOT AVAILABLE/);
    expect(readFileSync(join(latest, 'commissioner', 'README.txt'), 'utf8')).toMatch(
      /HIGH COST COHORT AND THE TIERS ARE NOT AVAILABLE/,
    );
    const summary = parse(readFileSync(join(latest, 'commissioner', 'cohort_summary.csv')), {
      columns: true,
    }) as Row[];
    const system = (cohort: string) => summary.find((s) => s.level === 'system' && s.cohort === cohort)!;
    expect(system('high cost').patients).toBe('0');
    expect(Number(system('multimorbidity').patients)).toBeGreaterThan(0);
    // Service need: no estimate for the services that respond to tiers, rather than none needed.
    const need = parse(readFileSync(join(latest, 'commissioner', 'service_need.csv')), {
      columns: true,
    }) as Row[];
    const tierBased = need.filter((r) => r.cohorts === 'high + very high');
    expect(tierBased.length).toBeGreaterThan(0);
    for (const r of tierBased) expect([r.cohort_patients, r.people_needing, r.wte]).toEqual(['', '', '']);
    expect(need.some((r) => r.cohorts === 'multimorbidity' && Number(r.people_needing) > 0)).toBe(true);
    for (const code of readdirSync(join(latest, 'practices')))
      expect(readFileSync(join(latest, 'practices', code, 'README.txt'), 'utf8')).toMatch(
        /NOT\s+AVAILABLE in this run/,
      );
    const report = readFileSync(join(latest, 'report.html'), 'utf8');
    expect(report).toContain('data-notice="predictions-not-available"');
    expect(readFileSync(join(latest, 'model-card.md'), 'utf8')).toMatch(/No models were fitted/);
  });
});
