// `npm run bench:models`: the cost and admission models against the synthetic ground truth,
// target by target (issue targets: R² at least 0.9 of the oracle's, every calibration decile
// within 10%, AUROCs at least 0.97 of the oracle's, the 3x cohort's Jaccard index at least
// 0.8). The oracle is the ground truth's expected cost, known only for adults registered on
// the as-of date, so the like-for-like backtest figures are those on the adults still
// registered when the outcome year ended (validation.still_registered in the manifest).
// Each figure is given for several synthetic populations (seeds), with the worst calibration
// decile's standard error, so that chance is not read as a finding.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import { auroc, jaccard, rSquared } from '../src/model-metrics.ts';
import { projectPath } from '../src/paths.ts';
import { GENERATOR_VERSION } from '../src/synth/index.ts';
import { readGroundTruth } from '../test/support/ground-truth.ts';
import { cachedDelivery } from './deliveries.ts';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.1' },
    // Several populations: at 0.1x a decile holds some 9,000 adults whose costs are skewed, so
    // one population's figures move by a few per cent on chance alone.
    seeds: { type: 'string', default: '7,8,9' },
    // A configuration file for the runs (strata run --config), to compare model settings.
    config: { type: 'string' },
  },
});
const root = projectPath('bench');
const seeds = values.seeds!.split(',').map((x) => x.trim());

function strata(args: string[]): void {
  const r = spawnSync(process.execPath, [projectPath('bin', 'strata.mjs'), ...args], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 2)
    throw new Error(`strata ${args[0]} failed (${r.status}): ${r.stderr}`);
}

interface Decile {
  ratio: number;
  ratio_standard_error: number | null;
}
interface Validation {
  cost: { r_squared: number; calibration_by_decile: Decile[] };
  high_cost: { auroc: number };
  admission: { auroc: number };
  still_registered: {
    patients: number;
    cost: { r_squared: number; calibration_by_decile: Decile[] };
    high_cost_auroc: number;
    admission_auroc: number;
  };
}

/** The decile furthest from 1, with its standard error. */
const worstDecile = (deciles: Decile[]) =>
  deciles.reduce((w, d) => (Math.abs(d.ratio - 1) > Math.abs(w.ratio - 1) ? d : w), {
    ratio: 1,
    ratio_standard_error: null,
  } as Decile);

type Target = { name: string; value: number; target: string; met: boolean | null; note?: string };

function measure(seed: string) {
  const delivery = cachedDelivery(values.scale!, seed);
  const out = join(root, 'work', 'models');
  if (!existsSync(join(delivery, 'delivery.json'))) {
    console.error(
      `generating the scale ${values.scale} delivery for seed ${seed} (cached in ${delivery}) ...`,
    );
    strata(['synth', '--scale', values.scale!, '--seed', seed, '--out', delivery]);
  }
  rmSync(out, { recursive: true, force: true });
  strata([
    'run',
    '--delivery',
    delivery,
    '--out',
    out,
    '--keep',
    '1',
    ...(values.config ? ['--config', values.config] : []),
  ]);
  const latest = join(out, 'latest');
  const v: Validation = JSON.parse(readFileSync(join(latest, 'manifest.json'), 'utf8')).models.backtest
    .validation;

  // The oracle, over the previous year: the same period the backtest scores.
  const adults = readGroundTruth(delivery).filter((r) => r.eligible && r.age >= 18);
  const realised = Float64Array.from(adults.map((r) => r.realised_cost_prev_12m));
  const meanRealised = realised.reduce((a, b) => a + b, 0) / realised.length;
  const oracleR2 = rSquared(realised, Float64Array.from(adults.map((r) => r.expected_cost_prev_12m)));
  const oracleHighCost = auroc(
    Float64Array.from(adults.map((r) => r.expected_cost_prev_12m)),
    Array.from(realised, (c) => (c >= 3 * meanRealised ? 1 : 0)),
  );
  const oracleAdmission = auroc(
    Float64Array.from(adults.map((r) => r.p_admission_prev_12m)),
    adults.map((r) => r.admitted_prev_12m),
  );

  // The oracle's own calibration by decile of expected cost: how far chance alone moves a decile.
  const byExpected = adults
    .map((r) => ({ expected: r.expected_cost_prev_12m, realised: r.realised_cost_prev_12m }))
    .sort((x, y) => x.expected - y.expected);
  const oracleDeciles: Decile[] = Array.from({ length: 10 }, (_, d) => {
    const part = byExpected.slice(
      Math.floor((d * byExpected.length) / 10),
      Math.floor(((d + 1) * byExpected.length) / 10),
    );
    const sum = (f: (r: (typeof part)[number]) => number) => part.reduce((t, r) => t + f(r), 0);
    return { ratio: sum((r) => r.realised) / sum((r) => r.expected), ratio_standard_error: null };
  });

  // The 3x cohort today, from the practice lists, against the truth's expected-cost 3x cohort.
  const meanExpected = adults.reduce((s, r) => s + r.expected_cost_next_12m, 0) / adults.length;
  const truth3x = adults.filter((r) => r.expected_cost_next_12m >= 3 * meanExpected).map((r) => r.pseudo_id);
  const flagged: string[] = [];
  const predicted: { id: string; cost: number }[] = [];
  for (const practice of readdirSync(join(latest, 'practices'))) {
    const rows: Record<string, string>[] = parse(
      readFileSync(join(latest, 'practices', practice, 'risk-list.csv')),
      { columns: true },
    );
    for (const r of rows) {
      const id = r.pseudo_id!.replace(/^'/, '');
      if (r.high_cost_3x === 'true') flagged.push(id);
      if (r.tier) predicted.push({ id, cost: Number(r.predicted_cost_12m) });
    }
  }

  // The same ranking cut at the truth's cohort size: how much of the gap is the threshold (3x the
  // mean prediction, which is less spread out than the truth) rather than the order.
  predicted.sort((x, y) => y.cost - x.cost || (x.id < y.id ? -1 : 1));
  const topAsMany = predicted.slice(0, truth3x.length).map((p) => p.id);

  const s = v.still_registered;
  const worst = worstDecile(s.cost.calibration_by_decile);
  const se = (d: Decile) => (d.ratio_standard_error === null ? '' : `± ${d.ratio_standard_error.toFixed(3)}`);
  const at = (
    name: string,
    value: number,
    target: string,
    pass: ((v: number) => boolean) | null,
    note?: string,
  ) => ({ name, value, target, met: pass && pass(value), ...(note ? { note } : {}) }) as Target;
  const atLeast = (x: number) => (v: number) => v >= x;
  const targets: Target[] = [
    at('backtest R² / oracle R² (still registered)', s.cost.r_squared / oracleR2, '>= 0.9', atLeast(0.9)),
    at('backtest R² / oracle R² (every adult)', v.cost.r_squared / oracleR2, 'for reference', null),
    at(
      'worst calibration decile, observed / predicted (still registered)',
      worst.ratio,
      '0.9 to 1.1',
      (r) => Math.abs(r - 1) <= 0.1,
      se(worst),
    ),
    at(
      "worst calibration decile of the oracle (the truth's expected cost)",
      worstDecile(oracleDeciles).ratio,
      'for reference',
      null,
    ),
    at(
      'worst calibration decile (every adult)',
      worstDecile(v.cost.calibration_by_decile).ratio,
      'for reference',
      null,
    ),
    at(
      '3x flag AUROC / oracle (still registered)',
      s.high_cost_auroc / oracleHighCost,
      '>= 0.97',
      atLeast(0.97),
    ),
    at(
      'admission AUROC / oracle (still registered)',
      s.admission_auroc / oracleAdmission,
      '>= 0.97',
      atLeast(0.97),
    ),
    at('3x cohort today, Jaccard index with the truth', jaccard(truth3x, flagged), '>= 0.8', atLeast(0.8)),
    at(
      "3x cohort today cut at the truth's size, Jaccard index",
      jaccard(truth3x, topAsMany),
      'for reference',
      null,
    ),
  ];
  console.log(
    `seed ${seed}: ${adults.length} adults, ${s.patients} still registered in the backtest; oracle R² ${oracleR2.toFixed(3)}, ` +
      `3x AUROC ${oracleHighCost.toFixed(3)}, admission AUROC ${oracleAdmission.toFixed(3)}; 3x cohort ${flagged.length} against ${truth3x.length} in the truth`,
  );
  return {
    seed: Number(seed),
    adults: adults.length,
    oracle: { r_squared: oracleR2, high_cost_auroc: oracleHighCost, admission_auroc: oracleAdmission },
    targets,
    still_registered_calibration: s.cost.calibration_by_decile,
  };
}

console.log(`scale ${values.scale}, generator ${GENERATOR_VERSION}, seeds ${seeds.join(', ')}`);
const results = seeds.map(measure);
const cell = (t: Target) =>
  `${t.value.toFixed(3)}${t.note ? ` ${t.note}` : ''}${t.met === null ? '' : t.met ? ' met' : ' MISSED'}`;
const width = Math.max(...results.flatMap((r) => r.targets.map((t) => cell(t).length)));
console.log(
  `\n${'target'.padEnd(66)} ${'needed'.padEnd(13)} ${seeds.map((s) => `seed ${s}`.padEnd(width)).join('  ')}`,
);
results[0]!.targets.forEach((t, i) =>
  console.log(
    `${t.name.padEnd(66)} ${t.target.padEnd(13)} ${results.map((r) => cell(r.targets[i]!).padEnd(width)).join('  ')}`,
  ),
);

mkdirSync(join(root, 'results'), { recursive: true });
const configured = values.config ? `-${basename(values.config, '.json')}` : '';
const file = join(
  root,
  'results',
  `${new Date().toISOString().slice(0, 10)}-${values.scale}-models${configured}.json`,
);
writeFileSync(
  file,
  JSON.stringify(
    {
      scale: Number(values.scale),
      generator: GENERATOR_VERSION,
      ...(values.config ? { config: JSON.parse(readFileSync(values.config, 'utf8')) } : {}),
      seeds: results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwritten to ${file}`);
