// `npm run bench:models`: the cost and admission models against the synthetic ground truth,
// target by target (issue targets: R² at least 0.9 of the oracle's, every calibration decile
// within 10%, AUROCs at least 0.97 of the oracle's, the 3x cohort's Jaccard index at least
// 0.8). The oracle is the ground truth's expected cost, known only for adults registered on
// the as-of date, so the like-for-like backtest figures are those on the adults still
// registered when the outcome year ended (validation.still_registered in the manifest).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    seed: { type: 'string', default: '7' },
  },
});
const root = projectPath('bench');
const delivery = cachedDelivery(values.scale!, values.seed!);
const out = join(root, 'work', 'models');

function strata(args: string[]): void {
  const r = spawnSync(process.execPath, [projectPath('bin', 'strata.mjs'), ...args], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 2)
    throw new Error(`strata ${args[0]} failed (${r.status}): ${r.stderr}`);
}

if (!existsSync(join(delivery, 'delivery.json'))) {
  console.error(`generating the scale ${values.scale} delivery (cached in ${delivery}) ...`);
  strata(['synth', '--scale', values.scale!, '--seed', values.seed!, '--out', delivery]);
}
rmSync(out, { recursive: true, force: true });
strata(['run', '--delivery', delivery, '--out', out, '--keep', '1']);
const latest = join(out, 'latest');

interface Validation {
  cost: { r_squared: number; calibration_by_decile: { ratio: number }[] };
  high_cost: { auroc: number };
  admission: { auroc: number };
  still_registered: {
    patients: number;
    cost: { r_squared: number; calibration_by_decile: { ratio: number }[] };
    high_cost_auroc: number;
    admission_auroc: number;
  };
}
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

// The 3x cohort today, from the practice lists, against the truth's expected-cost 3x cohort.
const meanExpected = adults.reduce((s, r) => s + r.expected_cost_next_12m, 0) / adults.length;
const truth3x = adults.filter((r) => r.expected_cost_next_12m >= 3 * meanExpected).map((r) => r.pseudo_id);
const flagged: string[] = [];
for (const practice of readdirSync(join(latest, 'practices'))) {
  const rows: Record<string, string>[] = parse(
    readFileSync(join(latest, 'practices', practice, 'risk-list.csv')),
    { columns: true },
  );
  for (const r of rows) if (r.high_cost_3x === 'true') flagged.push(r.pseudo_id!.replace(/^'/, ''));
}

const worstDecile = (deciles: { ratio: number }[]) =>
  deciles.reduce((w, d) => (Math.abs(d.ratio - 1) > Math.abs(w - 1) ? d.ratio : w), 1);
const s = v.still_registered;
const rows = [
  [
    'backtest R² / oracle R² (still registered)',
    s.cost.r_squared / oracleR2,
    '>= 0.9',
    s.cost.r_squared / oracleR2 >= 0.9,
  ],
  ['backtest R² / oracle R² (every adult)', v.cost.r_squared / oracleR2, 'for reference', null],
  [
    'worst calibration decile, observed / predicted (still registered)',
    worstDecile(s.cost.calibration_by_decile),
    '0.9 to 1.1',
    Math.abs(worstDecile(s.cost.calibration_by_decile) - 1) <= 0.1,
  ],
  [
    'worst calibration decile (every adult)',
    worstDecile(v.cost.calibration_by_decile),
    'for reference',
    null,
  ],
  [
    '3x flag AUROC / oracle (still registered)',
    s.high_cost_auroc / oracleHighCost,
    '>= 0.97',
    s.high_cost_auroc / oracleHighCost >= 0.97,
  ],
  [
    'admission AUROC / oracle (still registered)',
    s.admission_auroc / oracleAdmission,
    '>= 0.97',
    s.admission_auroc / oracleAdmission >= 0.97,
  ],
  [
    '3x cohort today, Jaccard index with the truth',
    jaccard(truth3x, flagged),
    '>= 0.8',
    jaccard(truth3x, flagged) >= 0.8,
  ],
] as const;
console.log(
  `scale ${values.scale}, seed ${values.seed}, generator ${GENERATOR_VERSION}: ${adults.length} adults, ${s.patients} still registered in the backtest`,
);
console.log(
  `oracle R² ${oracleR2.toFixed(3)}, 3x AUROC ${oracleHighCost.toFixed(3)}, admission AUROC ${oracleAdmission.toFixed(3)}; 3x cohort ${flagged.length} against ${truth3x.length} in the truth`,
);
for (const [name, value, target, met] of rows)
  console.log(
    `${name.padEnd(68)} ${value.toFixed(3).padStart(7)}  ${target.padEnd(13)} ${met === null ? '' : met ? 'met' : 'missed'}`,
  );

mkdirSync(join(root, 'results'), { recursive: true });
const file = join(root, 'results', `${new Date().toISOString().slice(0, 10)}-${values.scale}-models.json`);
writeFileSync(
  file,
  JSON.stringify(
    {
      scale: Number(values.scale),
      seed: Number(values.seed),
      generator: GENERATOR_VERSION,
      adults: adults.length,
      oracle: { r_squared: oracleR2, high_cost_auroc: oracleHighCost, admission_auroc: oracleAdmission },
      targets: rows.map(([name, value, target, met]) => ({ name, value, target, met })),
      still_registered_calibration: s.cost.calibration_by_decile.map((d) => d.ratio),
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwritten to ${file}`);
