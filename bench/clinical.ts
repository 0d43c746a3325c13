// `npm run bench:clinical`: each condition's adult prevalence on a synthetic LLR, found by the
// pipeline, beside what the generator aimed at (the age-banded prevalence declared in
// pipeline/conditions.ts, weighted by the synthetic adults' ages) and, where the publication
// states one, the published figure; and the eFI-style categories among people aged 65 and over
// beside Clegg et al. 2016. A prevalence far from its target means a rule or a list that does not
// find what the records hold; far from the published figure, a target to revisit.
//
// Published figures: Cassell et al. 2018 (Br J Gen Pract 68:e245, adults in CPRD on 1 January
// 2012): hypertension 18.2%, depression or anxiety 10.3%, painful condition 10.1%, two or more
// conditions 27.2%. Clegg et al. 2016 (Age Ageing 45:353), people aged 65 and over: fit 50%,
// mild 35%, moderate 12%, severe 3%.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { conditions } from '../pipeline/conditions.ts';
import { projectPath } from '../src/paths.ts';
import { readGroundTruth } from '../test/support/ground-truth.ts';
import { runStages } from '../test/support/pipeline.ts';
import { cachedDelivery } from './deliveries.ts';

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '0.1' },
    // The whole LLR (1,133,842 registered patients): minutes to generate and run.
    full: { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
  },
});
const scale = values.full ? '1' : values.scale!;
const seed = values.seed!;

const PUBLISHED: Record<string, { share: number; source: string }> = {
  hypertension: { share: 0.182, source: 'Cassell 2018' },
  depression_anxiety: { share: 0.103, source: 'Cassell 2018' },
  painful_condition: { share: 0.101, source: 'Cassell 2018' },
};
const PUBLISHED_TWO_OR_MORE = { share: 0.272, source: 'Cassell 2018' };
const CLEGG_65 = { fit: 0.5, mild: 0.35, moderate: 0.12, severe: 0.03 };

const delivery = cachedDelivery(scale, seed);
if (!existsSync(join(delivery, 'delivery.json'))) {
  const r = spawnSync(
    process.execPath,
    [projectPath('bin', 'strata.mjs'), 'synth', '--scale', scale, '--seed', seed, '--out', delivery],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error(`strata synth failed (${r.status})`);
}

const run = await runStages(delivery, 'frailty');
try {
  const count = async (sql: string) => Number((await run.query<{ n: bigint }>(sql))[0]!.n);
  const n = await count(`select count(*) as n from population where ref = 'current' and adult`);
  const found = new Map(
    (
      await run.query<{ condition_id: string; patients: bigint }>(
        `select c.condition_id, count(*) as patients
         from patient_condition c join population p using (ref, patient_key)
         where c.ref = 'current' and p.adult group by all`,
      )
    ).map((r) => [r.condition_id, Number(r.patients) / n]),
  );
  const twoOrMore = await count(
    `select count(*) as n from patient_condition_set s join population p using (ref, patient_key)
     where s.ref = 'current' and p.adult and s.condition_count >= 2`,
  );
  const efi = new Map(
    (
      await run.query<{ efi_category: string; share: number }>(
        `select f.efi_category, count(*) / sum(count(*)) over () as share
         from patient_frailty f join population p using (ref, patient_key)
         where f.ref = 'current' and p.age >= 65 group by all`,
      )
    ).map((r) => [r.efi_category, Number(r.share)]),
  );

  // The generator's target for each condition: its declared age-band prevalence, averaged over
  // the synthetic adults (prostate disorders: men only, at twice the declared figure).
  const truth = readGroundTruth(delivery).filter((t) => t.eligible && t.age >= 18);
  const target = (c: (typeof conditions)[number]) => {
    let sum = 0;
    for (const t of truth) {
      const p = c.prevalence;
      const band = t.age < 45 ? p.under45 : t.age < 65 ? p.from45to64 : t.age < 75 ? p.from65to74 : p.over75;
      sum += c.id === 'prostate_disorders' ? (t.sex === 'M' ? 2 * band : 0) : band;
    }
    return sum / truth.length;
  };

  const pct = (x: number | undefined) => (x === undefined ? '' : `${(100 * x).toFixed(1)}%`);
  const rows = conditions.map((c) => ({
    condition: c.id,
    found: found.get(c.id) ?? 0,
    target: target(c),
    published: PUBLISHED[c.id]?.share ?? null,
    published_source: PUBLISHED[c.id]?.source ?? null,
  }));
  console.log(
    `Adult prevalence on a synthetic LLR (scale ${scale}, seed ${seed}; ${n.toLocaleString('en-GB')} adults)\n`,
  );
  console.log(
    `${'condition'.padEnd(30)} ${'found'.padStart(7)} ${'target'.padStart(7)} ${'published'.padStart(10)}`,
  );
  for (const r of rows)
    console.log(
      `${r.condition.padEnd(30)} ${pct(r.found).padStart(7)} ${pct(r.target).padStart(7)} ${(r.published === null ? '' : `${pct(r.published)} (${r.published_source})`).padStart(10)}`,
    );
  console.log(
    `${'two or more conditions'.padEnd(30)} ${pct(twoOrMore / n).padStart(7)} ${''.padStart(7)} ${`${pct(PUBLISHED_TWO_OR_MORE.share)} (${PUBLISHED_TWO_OR_MORE.source})`.padStart(10)}`,
  );
  console.log(`\neFI-style category among people aged 65 and over (Clegg et al. 2016 beside it)\n`);
  for (const [category, share] of Object.entries(CLEGG_65))
    console.log(
      `${category.padEnd(10)} ${pct(efi.get(category) ?? 0).padStart(7)} ${pct(share).padStart(7)}`,
    );

  const out = projectPath('bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `${new Date().toISOString().slice(0, 10)}-${scale}-clinical.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        scale,
        seed,
        adults: n,
        conditions: rows,
        two_or_more: { found: twoOrMore / n, published: PUBLISHED_TWO_OR_MORE },
        efi_65_and_over: Object.fromEntries(
          Object.entries(CLEGG_65).map(([k, v]) => [k, { found: efi.get(k) ?? 0, clegg_2016: v }]),
        ),
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${file}`);
} finally {
  run.close();
}
