// One synthetic world seen at an earlier date (`strata synth --world-date`): the record is the
// world's, cut at the as-of date, and the ground truth is what the counting rules find in it
// then. The truth of a cut record is checked against the reference rules (test/support), which
// share nothing with the generator but the declarations; the rule the cut uses for conditions
// is checked against the conditions the world was drawn with, on the world date.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/errors.ts';
import { projectPath } from '../src/paths.ts';
import { addMonths, dayOf, isoOf } from '../src/synth/calendar.ts';
import { buildCodebook } from '../src/synth/codebook.ts';
import { conditionsOn, cutPatient } from '../src/synth/cut.ts';
import { ageWeights, buildGeography, PLACE_PROFILES, selectPractices } from '../src/synth/geography.ts';
import { efiCategory, EFI_DEFICIT_COUNT } from '../pipeline/frailty.ts';
import { generatePatient, type PopulationContext, type SynthPatient } from '../src/synth/population.ts';
import { synthesise } from '../src/synth/index.ts';
import { referenceCohorts, type RefInput } from './support/reference-cohorts.ts';
import { readGroundTruth } from './support/ground-truth.ts';

const WORLD = '2026-09-30';
const EARLIER = '2026-03-31';
const tmp = mkdtempSync(join(tmpdir(), 'strata-cut-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const book = buildCodebook();
const practices = selectPractices(buildGeography().practices, 6);
const ctx: PopulationContext = {
  seed: 4242,
  asOf: dayOf(WORLD),
  codebook: book,
  practices,
  ageWeights: new Map(PLACE_PROFILES.map((p) => [p.place, ageWeights(p.over65)])),
};
/** Patients of the world, current and gone, at practices in turn. */
const world = Array.from({ length: 3000 }, (_, n) =>
  generatePatient(ctx, n, n % practices.length, n % 10 !== 0),
);

function refInput(people: SynthPatient[], asOf: string): RefInput {
  const input: RefInput = {
    asOf,
    practices: practices.map((p) => p.practice_code),
    registrations: [],
    observations: [],
    medications: [],
    activity: [],
  };
  for (const p of people) {
    for (const r of p.registrations)
      input.registrations.push({
        pseudo_id: p.pseudoId,
        practice_code: practices[r.practice]!.practice_code,
        sex: p.sex,
        birth_month: p.birthMonth,
        registered_from: isoOf(r.from),
        registered_to: r.to === null ? null : isoOf(r.to),
        date_of_death: p.deathDay === null ? null : isoOf(p.deathDay),
      });
    for (const o of p.observations)
      input.observations.push({ pseudo_id: p.pseudoId, recorded_date: isoOf(o.day), snomed_code: o.code });
    for (const m of p.medications)
      input.medications.push({ pseudo_id: p.pseudoId, issue_date: isoOf(m.day), bnf_code: `${m.bnf}AAAAAA` });
    for (const a of p.activity)
      input.activity.push({
        pseudo_id: p.pseudoId,
        setting: a.setting,
        start_date: isoOf(a.start),
        primary_diagnosis: a.diagnoses[0] ?? null,
        secondary_diagnoses: a.diagnoses.slice(1).join(';') || null,
      });
  }
  return input;
}

describe('a world cut at an earlier date', () => {
  it('reads conditions off the record as the rules do: on the world date, those the world was drawn with', () => {
    const eligible = world.filter((p) => p.eligible);
    expect(eligible.length).toBeGreaterThan(2000);
    for (const p of eligible)
      expect(conditionsOn(p.observations, p.medications, ctx.asOf, p.birthDay), p.pseudoId).toEqual(
        p.truth!.conditions,
      );
  });

  it('keeps nothing after the date, and its truth is what the reference rules find then', () => {
    const asOf = dayOf(EARLIER);
    const cut = world.map((p) => cutPatient(p, { asOf, book })).filter((p) => p !== null);
    for (const p of cut) {
      for (const r of p.registrations) {
        expect(r.from).toBeLessThanOrEqual(asOf);
        if (r.to !== null) expect(r.to).toBeLessThanOrEqual(asOf);
      }
      if (p.deathDay !== null) expect(p.deathDay).toBeLessThanOrEqual(asOf);
      expect(
        Math.max(-Infinity, ...p.observations.map((o) => o.day), ...p.medications.map((m) => m.day)),
      ).toBeLessThanOrEqual(asOf);
      expect(Math.max(-Infinity, ...p.activity.map((a) => a.end ?? a.start))).toBeLessThanOrEqual(asOf);
    }
    const ref = new Map(referenceCohorts(refInput(cut, EARLIER)).map((r) => [r.pseudo_id, r]));
    const eligible = cut.filter((p) => p.eligible);
    expect([...ref.keys()].sort()).toEqual(eligible.map((p) => p.pseudoId).sort());
    const changed = { conditions: 0, frailty: 0, joined: 0, left: 0 };
    const worldById = new Map(world.map((p) => [p.pseudoId, p]));
    for (const p of eligible) {
      const r = ref.get(p.pseudoId)!;
      const t = p.truth!;
      expect(t.age, p.pseudoId).toBe(r.age);
      expect(t.conditions, p.pseudoId).toEqual(r.conditions);
      expect(t.efiDeficits, p.pseudoId).toEqual(r.efi_deficits);
      expect(t.codedFrailty, p.pseudoId).toBe(r.coded_frailty);
      expect(t.hfrs, p.pseudoId).toBe(r.hfrs);
      // Prospective figures belong to the world date and are not claimed for an earlier one.
      expect(t.expectedCostNext).toBeNaN();
      const later = worldById.get(p.pseudoId)!;
      if (!later.eligible) changed.left++;
      else {
        if (later.truth!.conditions.join() !== t.conditions.join()) changed.conditions++;
        const cat = (n: number) => efiCategory(n / EFI_DEFICIT_COUNT);
        if (cat(later.truth!.efiDeficits.length) !== cat(t.efiDeficits.length)) changed.frailty++;
      }
    }
    changed.joined = world.filter((p) => p.eligible && !ref.has(p.pseudoId)).length;
    // The world moves between the dates: people join, leave, gain conditions and deficits.
    for (const [what, n] of Object.entries(changed)) expect(n, what).toBeGreaterThan(10);
    // The window a year back from the earlier date starts where it should.
    expect(addMonths(asOf, -12)).toBe(dayOf('2025-03-31'));
  });
});

function digest(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    statSync(join(dir, f)).isFile(),
  );
  return new Map(
    files.sort().map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

describe('strata synth --world-date', () => {
  it('refuses a world date before the as-of date, with exit code 3 and nothing written', () => {
    const out = join(tmp, 'refused');
    const r = spawnSync(
      process.execPath,
      [projectPath('bin', 'strata.mjs'), 'synth', '--as-of', WORLD, '--world-date', EARLIER, '--out', out],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(EXIT.badInput);
    expect(r.stderr).toContain('--world-date must not be before --as-of');
    expect(existsSync(out)).toBe(false);
  });

  it('at the as-of date changes nothing: the same bytes as without it', async () => {
    const a = join(tmp, 'plain');
    const b = join(tmp, 'same-date');
    await synthesise({ scale: 0.002, practices: 4, seed: 11, out: a, asOf: EARLIER });
    await synthesise({ scale: 0.002, practices: 4, seed: 11, out: b, asOf: EARLIER, worldDate: EARLIER });
    expect(digest(b)).toEqual(digest(a));
  });

  it('before the world date writes a delivery as of the as-of date, its truth for the people registered then', async () => {
    const out = join(tmp, 'cut');
    await synthesise({ scale: 0.003, practices: 4, seed: 11, out, asOf: EARLIER, worldDate: WORLD });
    expect(JSON.parse(readFileSync(join(out, 'delivery.json'), 'utf8')).extract_date).toBe(EARLIER);
    expect(JSON.parse(readFileSync(join(out, 'ground-truth', 'mess.json'), 'utf8'))).toMatchObject({
      as_of: EARLIER,
      world_date: WORLD,
    });
    // The well-formed lines: the malformed ones (a field too many or too few, an impossible
    // date) belong to no patient, as the loader finds.
    const read = (path: string) => {
      const [header, ...rows] = parse(
        path.endsWith('.gz') ? gunzipSync(readFileSync(path)) : readFileSync(path),
        {
          relax_column_count: true,
        },
      ) as string[][];
      return rows
        .filter((r) => r.length === header!.length)
        .map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i]!])));
    };
    const date = { test: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && isoOf(dayOf(s)) === s };
    const open = new Set<string>();
    for (const practice of readdirSync(join(out, 'practices'))) {
      const dir = join(out, 'practices', practice);
      for (const f of readdirSync(dir)) {
        for (const row of read(join(dir, f))) {
          for (const col of [
            'recorded_date',
            'issue_date',
            'registered_from',
            'registered_to',
            'date_of_death',
          ])
            if (date.test(row[col] ?? '')) expect(row[col]! <= EARLIER, `${f} ${col}`).toBe(true);
          if (
            f === 'patients.csv' &&
            date.test(row.registered_from ?? '') &&
            !row.registered_to &&
            !row.date_of_death
          )
            open.add(row.pseudo_id!);
        }
      }
    }
    for (const f of readdirSync(join(out, 'secondary-care')))
      for (const row of read(join(out, 'secondary-care', f)))
        for (const col of ['start_date', 'end_date'])
          if (date.test(row[col] ?? '')) expect(row[col]! <= EARLIER, `${f} ${col}`).toBe(true);
    const truth = readGroundTruth(out);
    const eligible = truth.filter((t) => t.eligible).map((t) => t.pseudo_id);
    expect(new Set(eligible).size).toBe(eligible.length);
    expect(eligible.sort()).toEqual([...open].sort());
    for (const t of truth.filter((r) => r.eligible)) {
      expect(t.expected_cost_next_12m).toBeNaN();
      expect(t.realised_cost_prev_12m).not.toBeNaN();
    }
  });
});
