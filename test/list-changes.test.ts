// Change since the last run, end to end: two synthetic deliveries for two as-of dates, run one
// after the other into the same output folder. Who joined or left the multimorbidity and
// frailty cohorts at each practice is worked out from the generator's ground truth for the two
// dates; tiers and the predicted high cost cohort depend on the fitted models, so for those
// the first run's published lists are compared with the second's. The second run's lists and
// left files must name exactly those patients.
//
// Both deliveries are one synthetic world, generated as of the later date and cut at each
// as-of date (strata synth --world-date): between them people register, leave and die, gain
// conditions and frailty markers and are admitted, and the models' refit moves people between
// tiers. The ground truth of each delivery is what the rules find on its date, so the reasons
// a patient on both lists joined a cohort (a new condition, a frailty rule that fired) are
// checked against the two truths patient by patient.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { EXIT } from '../src/errors.ts';
import { roundCount } from '../src/disclosure.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth, type TruthRow } from './support/ground-truth.ts';
import { messages, runArgsFor, runCli, type Manifest } from './support/cli.ts';

const TOP_TIERS = ['very high', 'high', 'moderate'];
const ITEMS = ['multimorbidity', 'frailty', 'high_cost', 'tier'] as const;

type ListRow = Record<string, string>;
type Lists = Map<string, ListRow>; // practice_code/pseudo_id -> row

let tmp: string;
let out: string;
const runs: { runId: string; dir: string }[] = [];
/** How many patients each test expects to have joined and left each item, from the truth. */
const tally = { joined: new Map<string, number>(), left: new Map<string, number>() };
const bump = (m: Map<string, number>, items: string[]) => {
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
};
let truth: { first: Map<string, TruthRow>; second: Map<string, TruthRow>; secondById: Map<string, TruthRow> };

const key = (practice: string, pseudo: string) => `${practice}/${pseudo}`;

function readLists(dir: string, file = 'risk-list.csv'): Lists {
  const lists: Lists = new Map();
  const root = join(dir, 'practices');
  for (const practice of readdirSync(root)) {
    const path = join(root, practice, file);
    if (!existsSync(path)) continue;
    const rows: ListRow[] = parse(readFileSync(path), { columns: true });
    for (const r of rows) lists.set(key(practice, r.pseudo_id!), r);
  }
  return lists;
}

/** Who the delivery says has died: the well-formed lines of its patient files. */
function diedBy(delivery: string): Set<string> {
  const died = new Set<string>();
  for (const practice of readdirSync(join(delivery, 'practices'))) {
    const [header, ...rows]: string[][] = parse(
      readFileSync(join(delivery, 'practices', practice, 'patients.csv')),
      { relax_column_count: true },
    );
    const at = header!.indexOf('date_of_death');
    for (const r of rows) if (r.length === header!.length && r[at]) died.add(r[0]!);
  }
  return died;
}

function truthByPractice(delivery: string): Map<string, TruthRow> {
  return new Map(
    readGroundTruth(delivery)
      .filter((r) => r.eligible)
      .map((r) => [key(r.practice_code, r.pseudo_id), r]),
  );
}

const { cohorts } = defaultConfig;
const adult = (t: TruthRow) => t.age >= cohorts.adultAge;
/** The frailty rules a patient meets, in the lists' order. */
const trueFrailtyRules = (t: TruthRow) =>
  [
    ['moderate', 'severe'].includes(t.coded_frailty) && 'coded_frailty',
    ['moderate', 'severe'].includes(t.efi_category) && 'efi',
    t.hfrs >= cohorts.hfrsMarkerAtLeast && 'hfrs',
  ].filter((r) => r !== false);
const trueCohorts = {
  multimorbidity: (t: TruthRow) => adult(t) && t.condition_count >= cohorts.multimorbidityMin,
  frailty: (t: TruthRow) =>
    adult(t) &&
    (['moderate', 'severe'].includes(t.coded_frailty) ||
      ['moderate', 'severe'].includes(t.efi_category) ||
      t.hfrs >= cohorts.hfrsMarkerAtLeast),
};

/** What a patient is in at a practice: cohorts from the truth, model-made items from the published list. */
function itemsOf(t: TruthRow | undefined, list: ListRow | undefined): string[] {
  if (!t) return [];
  const items: string[] = [];
  if (trueCohorts.multimorbidity(t)) items.push('multimorbidity');
  if (trueCohorts.frailty(t)) items.push('frailty');
  if (list?.high_cost_3x === 'true') items.push('high_cost');
  if (list && TOP_TIERS.includes(list.tier!)) items.push(`tier_${list.tier!.replace(' ', '_')}`);
  return items;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-changes-'));
  const first = join(tmp, 'first');
  const second = join(tmp, 'second');
  // Large enough for the models to be fitted, so tiers are compared too.
  const world = { scale: 0.011, practices: 4, seed: 20260331, worldDate: '2026-09-30' };
  await synthesise({ ...world, out: first, asOf: '2026-03-31' });
  await synthesise({ ...world, out: second, asOf: '2026-09-30' });
  truth = {
    first: truthByPractice(first),
    second: truthByPractice(second),
    secondById: new Map(
      readGroundTruth(second)
        .filter((r) => r.eligible)
        .map((r) => [r.pseudo_id, r]),
    ),
  };
  out = join(tmp, 'out');
  for (const [delivery, extra] of [
    [first, []],
    [second, []],
    [second, ['--since']],
  ] as const) {
    const args = extra.length ? [...extra, runs[0]!.runId] : [];
    const r = await runCli(runArgsFor(delivery, out, ...args));
    expect([0, 2], r.stderr).toContain(r.code);
    const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
    runs.push({ runId, dir: join(out, 'runs', runId) });
  }
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('practice lists that show change since the last run', () => {
  it('agree with the ground truth on both dates, so the truth can judge the changes', () => {
    for (const [lists, t] of [
      [readLists(runs[0]!.dir), truth.first],
      [readLists(runs[1]!.dir), truth.second],
    ] as const) {
      expect([...lists.keys()].sort()).toEqual([...t.keys()].sort());
      for (const [k, row] of lists) {
        const truth = t.get(k)!;
        expect(row.multimorbidity_5plus, k).toBe(String(trueCohorts.multimorbidity(truth)));
        expect(row.frailty, k).toBe(String(trueCohorts.frailty(truth)));
        expect(row.conditions, k).toBe(truth.conditions.join(';'));
        expect(row.efi_category, k).toBe(truth.efi_category);
        expect(Number(row.hfrs), k).toBe(truth.hfrs);
        if (adult(truth)) expect(row.frailty_rules, k).toBe(trueFrailtyRules(truth).join(';'));
      }
    }
    const manifest = JSON.parse(readFileSync(join(runs[1]!.dir, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.list_changes).toMatchObject({
      compared_with: { run_id: runs[0]!.runId, as_of: '2026-03-31' },
      predictions_compared: true,
    });
  });

  it('the first run flags no one and says there is no earlier run', () => {
    const lists = readLists(runs[0]!.dir);
    expect([...lists.values()].filter((r) => r.new_since_last_run || r.new_because)).toEqual([]);
    for (const practice of readdirSync(join(runs[0]!.dir, 'practices'))) {
      const dir = join(runs[0]!.dir, 'practices', practice);
      expect(existsSync(join(dir, 'left-since-last-run.csv'))).toBe(false);
      expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toMatch(/no earlier published run/);
    }
  });

  it('the second run flags exactly the patients new to a cohort or tier at their practice', () => {
    const before = readLists(runs[0]!.dir);
    const now = readLists(runs[1]!.dir);
    const counts = { flagged: 0, newlyRegistered: 0, tiers: 0, cohorts: 0 };
    for (const [k, row] of now) {
      const was = itemsOf(truth.first.get(k), before.get(k));
      const want = itemsOf(truth.second.get(k), row).filter((item) => !was.includes(item));
      expect(row.new_since_last_run, k).toBe(want.join(';'));
      bump(tally.joined, want);
      if (!want.length) {
        expect(row.new_because, k).toBe('');
        continue;
      }
      counts.flagged++;
      if (!before.has(k)) {
        counts.newlyRegistered++;
        expect(row.new_because, k).toBe('newly_registered');
      } else expect(row.new_because, k).not.toMatch(/newly_registered/);
      if (want.some((i) => i.startsWith('tier_'))) counts.tiers++;
      if (want.includes('multimorbidity') || want.includes('frailty')) counts.cohorts++;
    }
    // Enough of each kind of change for "exactly" to mean something.
    // Half a year of one world registers few new patients who are in a cohort or tier at once.
    expect(counts.newlyRegistered).toBeGreaterThanOrEqual(1);
    expect(counts.tiers).toBeGreaterThanOrEqual(5);
    expect(counts.cohorts).toBeGreaterThanOrEqual(3);
    expect(counts.flagged).toBeLessThan(now.size / 2);
  });

  it('says why a patient on both lists joined a cohort: the conditions and frailty rules new in the truth', () => {
    const now = readLists(runs[1]!.dir);
    const seen = { newCondition: 0, rulesChanged: 0, fired: new Map<string, number>() };
    for (const [k, row] of now) {
      const was = truth.first.get(k);
      const is = truth.second.get(k)!;
      // Newly registered or newly adult: every cohort is new, for that reason alone (checked above).
      if (!was || !adult(was)) continue;
      const want = new Set<string>();
      if (trueCohorts.multimorbidity(is) && !trueCohorts.multimorbidity(was)) {
        const gained = is.conditions.some((c) => !was.conditions.includes(c));
        want.add(gained ? 'new_condition' : 'rules_changed');
        if (gained) seen.newCondition++;
        else seen.rulesChanged++;
      }
      if (trueCohorts.frailty(is) && !trueCohorts.frailty(was)) {
        const before = trueFrailtyRules(was);
        const fired = trueFrailtyRules(is).filter((r) => !before.includes(r));
        for (const r of fired) {
          want.add(`frailty_rule_fired:${r}`);
          seen.fired.set(r, (seen.fired.get(r) ?? 0) + 1);
        }
        if (!fired.length) want.add('rules_changed');
      }
      const cohortReasons = (row.new_because ? row.new_because.split(';') : []).filter((r) =>
        /^(new_condition|rules_changed|frailty_rule_fired:)/.test(r),
      );
      expect(cohortReasons, k).toEqual([...want].sort());
    }
    // The world moved between the dates, at the same practices, for these reasons.
    expect(seen.newCondition).toBeGreaterThanOrEqual(3);
    expect([...seen.fired.values()].reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
  });

  it('the left file lists exactly who left a cohort or tier at each practice, and why', () => {
    const before = readLists(runs[0]!.dir);
    const now = readLists(runs[1]!.dir);
    const left = readLists(runs[1]!.dir, 'left-since-last-run.csv');
    const want = new Map<string, string[]>();
    for (const [k, row] of before) {
      const still = itemsOf(truth.second.get(k), now.get(k));
      const gone = itemsOf(truth.first.get(k), row).filter((item) => !still.includes(item));
      if (gone.length) want.set(k, gone);
      bump(tally.left, gone);
    }
    expect([...left.keys()].sort()).toEqual([...want.keys()].sort());
    const deaths = diedBy(join(tmp, 'second'));
    const reasons = new Set<string>();
    for (const [k, row] of left) {
      expect(row.left, k).toBe(want.get(k)!.join(';'));
      const [practice, pseudo] = k.split('/') as [string, string];
      if (now.has(k)) {
        expect(row.tier_now, k).toBe(now.get(k)!.tier);
        expect(row.left_because, k).not.toMatch(/died|registered/);
      } else {
        const elsewhere = truth.secondById.get(pseudo);
        expect(row.tier_now, k).toBe('');
        expect(row.left_because, k).toEqual(
          elsewhere && elsewhere.practice_code !== practice
            ? 'registered_elsewhere'
            : deaths.has(pseudo)
              ? 'died'
              : 'no_longer_registered',
        );
      }
      reasons.add(row.left_because!);
    }
    // Moves between practices are too rare in half a year of this world to be sure of one here;
    // test/list-change-reasons.test.ts names that reason on lists made for it.
    expect(reasons).toContain('died');
    expect(reasons).toContain('no_longer_registered');
    expect(reasons).toContain('predicted_cost_fell');
    // Every practice with a list has a left file, its header at least.
    for (const practice of readdirSync(join(runs[1]!.dir, 'practices')))
      expect(
        readFileSync(join(runs[1]!.dir, 'practices', practice, 'left-since-last-run.csv'), 'utf8'),
      ).toMatch(/^pseudo_id,left,left_because,tier_now\n/);
  });

  it('counts who joined and left at system level, small numbers suppressed and the rest rounded', () => {
    const manifest = JSON.parse(readFileSync(join(runs[1]!.dir, 'manifest.json'), 'utf8')) as Manifest;
    const rules = {
      min: 1,
      max: defaultConfig.disclosure.suppressBelow - 1,
      roundTo: defaultConfig.disclosure.roundTo,
    };
    const counts = (
      manifest.list_changes as { counts: { item: string; joined: number | null; left: number | null }[] }
    ).counts;
    expect(counts.map((c) => c.item)).toEqual([
      'multimorbidity',
      'frailty',
      'high_cost',
      'tier_very_high',
      'tier_high',
      'tier_moderate',
    ]);
    for (const c of counts) {
      expect(c.joined, c.item).toBe(roundCount(tally.joined.get(c.item) ?? 0, rules));
      expect(c.left, c.item).toBe(roundCount(tally.left.get(c.item) ?? 0, rules));
    }
    // Some suppressed and some shown, so both paths are exercised.
    expect(counts.some((c) => c.joined === null || c.left === null)).toBe(true);
    expect(counts.some((c) => (c.joined ?? 0) > 0)).toBe(true);
    const report = readFileSync(join(runs[1]!.dir, 'report.html'), 'utf8');
    const row = (item: string) =>
      new RegExp(`<tr data-change-item="${item}">(.*?)</tr>`, 's').exec(report)?.[1] ?? '';
    for (const c of counts)
      for (const v of [c.joined, c.left])
        expect(row(c.item), c.item).toContain(v === null ? 'suppressed' : v.toLocaleString('en-GB'));
  });

  it('--since compares with the named run, not the latest', () => {
    const [, second, third] = runs;
    const manifest = JSON.parse(readFileSync(join(third!.dir, 'manifest.json'), 'utf8')) as Manifest;
    expect((manifest.list_changes as { compared_with: { run_id: string } }).compared_with.run_id).toBe(
      runs[0]!.runId,
    );
    // The latest was the second run, of the same delivery: against it, nothing would change.
    const a = readLists(second!.dir);
    const b = readLists(third!.dir);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, row] of b) expect(row.new_since_last_run, k).toBe(a.get(k)!.new_since_last_run);
    expect(readLists(third!.dir, 'left-since-last-run.csv')).toEqual(
      readLists(second!.dir, 'left-since-last-run.csv'),
    );
  });

  it('--since refuses a run that is not retained, leaving nothing behind', async () => {
    const r = await runCli(runArgsFor(join(tmp, 'second'), out, '--since', '20200101T000000Z-abcdef'));
    expect(r.code, r.stderr).toBe(EXIT.badInput);
    expect(messages(r.stderr)[0]).toMatch(/--since 20200101T000000Z-abcdef: that run is not retained/);
    expect(readdirSync(join(out, 'runs'))).toHaveLength(3);
  });

  it('nothing patient-level leaves the practice folders; the report counts change at system level', () => {
    const dir = runs[1]!.dir;
    const pseudonyms = [...readLists(runs[0]!.dir).keys(), ...readLists(dir).keys()].map(
      (k) => k.split('/')[1]!,
    );
    for (const area of ['commissioner', 'dashboard'])
      for (const file of readdirSync(join(dir, area))) {
        const text = readFileSync(join(dir, area, file)).toString('latin1');
        expect(
          pseudonyms.filter((p) => text.includes(p)),
          `${area}/${file}`,
        ).toEqual([]);
      }
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(pseudonyms.filter((p) => report.includes(p))).toEqual([]);
    expect(report).toContain(`<span data-compared-run>${runs[0]!.runId}</span>`);
    for (const item of ITEMS.slice(0, 3)) expect(report).toContain(`data-change-item="${item}"`);
  });
});
