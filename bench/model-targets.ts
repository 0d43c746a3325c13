// `npm run bench:models`: the cost and admission models against the synthetic ground truth,
// target by target, on a world as unpredictable as real care (generator version 4 on): the
// oracle is the ground truth's prospective expected cost and admission risk, which know the
// person and transient effects no record shows. Targets: backtest R² at least 0.85 of the
// oracle's; every calibration decile within its 95% interval plus 10%; AUROCs at least 0.95 of
// the oracle's; the 3x cohort's Jaccard index with the oracle's top group of the same size at
// least 0.6; no group of sex, age band, deprivation quintile or place off calibration by more
// than its 95% interval plus 10%. Alongside, gradient-boosted trees (bench/learner.ts) on the
// same adults and dates. The pipeline runs in-process up to the cohorts: the published outputs
// (and their disclosure audit) play no part in these figures. The oracle exists only for adults
// registered on the as-of date, so the like-for-like backtest figures are those on the adults
// still registered when the outcome year ended (validation.still_registered in the manifest).
// Each figure is given for several synthetic populations (seeds), with the worst calibration
// decile's standard error, so that chance is not read as a finding.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { auroc, jaccard, rSquared, type CalibrationDecile } from '../src/model-metrics.ts';
import { projectPath } from '../src/paths.ts';
import { GENERATOR_VERSION } from '../src/synth/index.ts';
import { readGroundTruth } from '../test/support/ground-truth.ts';
import { runStages } from '../test/support/pipeline.ts';
import { cachedDelivery } from './deliveries.ts';
import { boostedTrees, LEARNER } from './learner.ts';

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

/** A calibration decile; an empty one has no ratio and counts as calibrated. */
type Decile = Pick<CalibrationDecile, 'ratio' | 'ratio_standard_error'>;
const offBy = (d: Decile) => Math.abs((d.ratio ?? 1) - 1);

/** The decile furthest from 1, with its standard error. */
const worstDecile = (deciles: Decile[]) =>
  deciles.reduce((w, d) => (offBy(d) > offBy(w) ? d : w), {
    ratio: 1,
    ratio_standard_error: null,
  } as Decile);

type Target = { name: string; value: number; target: string; met: boolean | null; note?: string };

const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};

/** The ids of the `k` largest values, ties by id. */
const topOf = (rows: { id: string; value: number }[], k: number) =>
  [...rows]
    .sort((x, y) => y.value - x.value || (x.id < y.id ? -1 : 1))
    .slice(0, k)
    .map((r) => r.id);

async function measure(seed: string) {
  const delivery = cachedDelivery(values.scale!, seed);
  if (!existsSync(join(delivery, 'delivery.json'))) {
    console.error(
      `generating the scale ${values.scale} delivery for seed ${seed} (cached in ${delivery}) ...`,
    );
    strata(['synth', '--scale', values.scale!, '--seed', seed, '--out', delivery]);
  }
  const started = performance.now();
  const cpu = process.cpuUsage();
  const run = await runStages(delivery, 'cohorts', loadConfig(values.config));
  const pipeline = { wall_seconds: (performance.now() - started) / 1000, cpu_seconds: cpuSeconds(cpu) };
  try {
    const models = run.ctx.results.models;
    if (!models?.available) throw new Error(`seed ${seed}: no models were fitted`);
    const v = models.validation;

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

    // The 3x cohort today, against the truth's own 3x cohort and against the oracle's top group
    // of the same size (the order, whatever the threshold's spread).
    const meanExpected = adults.reduce((s, r) => s + r.expected_cost_next_12m, 0) / adults.length;
    const truth3x = adults
      .filter((r) => r.expected_cost_next_12m >= 3 * meanExpected)
      .map((r) => r.pseudo_id);
    const oracleRanking = adults.map((r) => ({ id: r.pseudo_id, value: r.expected_cost_next_12m }));
    const listed = await run.query<{ pseudo_id: string; high_cost_3x: boolean; predicted_cost_12m: number }>(
      'select pseudo_id, high_cost_3x, predicted_cost_12m from patient_list where adult',
    );
    const flagged = listed.filter((r) => r.high_cost_3x).map((r) => r.pseudo_id);
    const oracleTopAsMany = topOf(oracleRanking, flagged.length);

    // Gradient-boosted trees on the same adults and dates.
    const learnerCpu = process.cpuUsage();
    const learnerStarted = performance.now();
    const trees = await boostedTrees(run.ctx.conn);
    const learner = {
      wall_seconds: (performance.now() - learnerStarted) / 1000,
      cpu_seconds: cpuSeconds(learnerCpu),
    };
    const b = trees.backtest;
    const observedMean = b.cost.reduce((x, y) => x + y, 0) / b.cost.length;
    const treesR2 = rSquared(Float64Array.from(b.cost), Float64Array.from(b.predicted));
    const treesHighCost = auroc(
      Float64Array.from(b.predicted),
      b.cost.map((c) => (c >= 3 * observedMean ? 1 : 0)),
    );
    const todayMean = trees.today.predicted.reduce((x, y) => x + y, 0) / trees.today.predicted.length;
    const treesFlagged = trees.today.pseudoIds.filter((_, i) => trees.today.predicted[i]! >= 3 * todayMean);
    const treesJaccard = jaccard(topOf(oracleRanking, treesFlagged.length), treesFlagged);

    const s = v.still_registered;
    const worst = worstDecile(s.cost.calibration_by_decile);
    const se = (d: Decile) =>
      d.ratio_standard_error === null ? '' : `± ${d.ratio_standard_error.toFixed(3)}`;
    const within = (d: Decile) => offBy(d) <= 1.96 * (d.ratio_standard_error ?? 0) + 0.1;
    const at = (
      name: string,
      value: number,
      target: string,
      pass: ((v: number) => boolean) | null,
      note?: string,
    ) => ({ name, value, target, met: pass && pass(value), ...(note ? { note } : {}) }) as Target;
    const atLeast = (x: number) => (v: number) => v >= x;
    const fairness = s.fairness;
    const outside = fairness.filter((g) => g.within_target === false);
    const glmJaccard = jaccard(oracleTopAsMany, flagged);
    const targets: Target[] = [
      at('backtest R² / oracle R² (still registered)', s.cost.r_squared / oracleR2, '>= 0.85', atLeast(0.85)),
      at('backtest R² (still registered)', s.cost.r_squared, 'for reference', null),
      at('backtest R² / oracle R² (every adult)', v.cost.r_squared / oracleR2, 'for reference', null),
      at(
        'worst calibration decile, observed / predicted (still registered)',
        worst.ratio ?? 1,
        '95% + 10%',
        () => s.cost.calibration_by_decile.every(within),
        se(worst),
      ),
      at(
        "worst calibration decile of the oracle (the truth's expected cost)",
        worstDecile(oracleDeciles).ratio ?? 1,
        'for reference',
        null,
      ),
      at(
        '3x flag AUROC / oracle (still registered)',
        s.high_cost_auroc / oracleHighCost,
        '>= 0.95',
        atLeast(0.95),
      ),
      at(
        'admission AUROC / oracle (still registered)',
        s.admission_auroc / oracleAdmission,
        '>= 0.95',
        atLeast(0.95),
      ),
      at(
        "3x cohort today, Jaccard with the oracle's top group of its size",
        glmJaccard,
        '>= 0.6',
        atLeast(0.6),
      ),
      at(
        "3x cohort today, Jaccard with the truth's 3x cohort",
        jaccard(truth3x, flagged),
        'for reference',
        null,
      ),
      at('fairness: groups outside 95% + 10%', outside.length, '0', (n) => n === 0),
      at('trees: backtest R² (still registered)', treesR2, 'for reference', null),
      at('trees: 3x flag AUROC / oracle', treesHighCost / oracleHighCost, 'for reference', null),
      at("trees: 3x cohort, Jaccard with the oracle's top group", treesJaccard, 'for reference', null),
      at('trees minus GLMs: 3x cohort Jaccard', treesJaccard - glmJaccard, 'material if >= 0.02', null),
    ];
    console.log(
      `seed ${seed}: ${adults.length} adults, ${s.patients} still registered in the backtest; oracle R² ${oracleR2.toFixed(3)}, ` +
        `3x AUROC ${oracleHighCost.toFixed(3)}, admission AUROC ${oracleAdmission.toFixed(3)}; 3x cohort ${flagged.length} ` +
        `(trees ${treesFlagged.length}) against ${truth3x.length} in the truth; pipeline ${pipeline.wall_seconds.toFixed(0)} s ` +
        `(${pipeline.cpu_seconds.toFixed(0)} s CPU in this process), trees ${learner.wall_seconds.toFixed(0)} s (${learner.cpu_seconds.toFixed(0)} s CPU)`,
    );
    for (const g of fairness)
      console.log(
        `  ${`${g.dimension} ${g.group}`.padEnd(36)} ${String(g.patients).padStart(7)}  observed / predicted ` +
          `${g.ratio === null ? 'n/a' : g.ratio.toFixed(3)} ± ${(g.ratio_standard_error ?? NaN).toFixed(3)}` +
          `  flagged ${(100 * g.share_flagged).toFixed(1)}% ± ${(100 * g.share_flagged_standard_error).toFixed(1)}` +
          `${g.within_target === false ? '  OUTSIDE' : ''}`,
      );
    return {
      seed: Number(seed),
      adults: adults.length,
      oracle: { r_squared: oracleR2, high_cost_auroc: oracleHighCost, admission_auroc: oracleAdmission },
      targets,
      still_registered_calibration: s.cost.calibration_by_decile,
      fairness,
      seconds: { pipeline, learner },
    };
  } finally {
    run.close();
  }
}

console.log(`scale ${values.scale}, generator ${GENERATOR_VERSION}, seeds ${seeds.join(', ')}`);
const results: Awaited<ReturnType<typeof measure>>[] = [];
for (const seed of seeds) results.push(await measure(seed));
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
      learner: LEARNER,
      ...(values.config ? { config: JSON.parse(readFileSync(values.config, 'utf8')) } : {}),
      seeds: results,
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwritten to ${file}`);
