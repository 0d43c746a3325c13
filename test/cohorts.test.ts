// The cohort engine (SQL) against two independent references: the synthetic generator's
// ground truth at scale, and a naive in-memory implementation of the rules on random
// small populations crowded around every window edge.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { conditions } from '../pipeline/conditions.ts';
import { CODED_FRAILTY, deficits } from '../pipeline/frailty.ts';
import { loadCodelists } from '../src/codelists.ts';
import { activityFile, medicationsFile, observationsFile, patientsFile } from '../src/contract.ts';
import { addMonths, dayOf, isoOf } from '../src/synth/calendar.ts';
import { loadHfrsPoints } from '../src/codelists.ts';
import { Rng } from '../src/synth/random.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth } from './support/ground-truth.ts';
import { runStages } from './support/pipeline.ts';
import { referenceCohorts, type RefInput, type RefRow } from './support/reference-cohorts.ts';

interface EngineRow {
  pseudo_id: string;
  practice_code: string;
  age: number;
  adult: boolean;
  conditions: string[];
  efi_deficits: string[];
  efi_category: string;
  coded_frailty: string;
  hfrs: number;
  frailty_rules: string[];
}

const ENGINE_SQL = `
  select p.pseudo_id, p.practice_code, p.age, p.adult,
    coalesce((select list(condition_id order by condition_id) from patient_condition c where c.ref = p.ref and c.patient_key = p.patient_key), []) as conditions,
    coalesce((select list(deficit_id order by deficit_id) from patient_deficit d where d.ref = p.ref and d.patient_key = p.patient_key), []) as efi_deficits,
    f.efi_category, f.coded_frailty, f.hfrs, f.frailty_rules
  from population p join patient_frailty f using (ref, patient_key)
  where p.ref = 'current' order by p.pseudo_id`;

async function engine(delivery: string): Promise<EngineRow[]> {
  const run = await runStages(delivery, 'frailty');
  try {
    return (await run.query<EngineRow & Record<string, unknown>>(ENGINE_SQL)).map((r) => ({
      ...r,
      conditions: [...r.conditions],
      efi_deficits: [...r.efi_deficits],
      frailty_rules: [...r.frailty_rules],
    }));
  } finally {
    run.close();
  }
}

describe('the cohort engine against the ground truth (scale 0.01)', () => {
  const delivery = mkdtempSync(join(tmpdir(), 'strata-cohorts-'));
  let rows: EngineRow[];
  beforeAll(async () => {
    await synthesise({ scale: 0.01, seed: 21, out: delivery, asOf: '2026-03-31' });
    rows = await engine(delivery);
  });

  it('finds exactly the eligible population, at the practice of current registration', () => {
    const truth = readGroundTruth(delivery).filter((r) => r.eligible);
    expect(rows.length).toBe(truth.length);
    const byId = new Map(rows.map((r) => [r.pseudo_id, r]));
    for (const t of truth) expect(byId.get(t.pseudo_id)?.practice_code, t.pseudo_id).toBe(t.practice_code);
  });

  it('agrees on condition count, the 5+ flag, eFI-style category and HFRS band for at least 99.5%', () => {
    const truth = new Map(readGroundTruth(delivery).map((r) => [r.pseudo_id, r]));
    const band = (h: number) => (h < 5 ? 'low' : h <= 15 ? 'intermediate' : 'high');
    let count = 0;
    let flag = 0;
    let efi = 0;
    let hfrs = 0;
    let coded = 0;
    for (const r of rows) {
      const t = truth.get(r.pseudo_id)!;
      if (r.conditions.length === t.condition_count) count++;
      if ((r.adult && r.conditions.length >= 5) === (t.age >= 18 && t.condition_count >= 5)) flag++;
      if (r.efi_category === t.efi_category) efi++;
      if (band(r.hfrs) === band(t.hfrs)) hfrs++;
      if (r.coded_frailty === t.coded_frailty) coded++;
    }
    const n = rows.length;
    expect(count / n).toBeGreaterThanOrEqual(0.995);
    expect(flag / n).toBeGreaterThanOrEqual(0.995);
    expect(efi / n).toBeGreaterThanOrEqual(0.995);
    expect(hfrs / n).toBeGreaterThanOrEqual(0.995);
    expect(coded / n).toBeGreaterThanOrEqual(0.995);
    // Enough of each cohort for the agreement to mean something.
    expect(rows.filter((r) => r.adult && r.conditions.length >= 5).length).toBeGreaterThan(300);
    expect(rows.filter((r) => r.adult && r.frailty_rules.length > 0).length).toBeGreaterThan(300);
  });

  // The generator draws each condition's codes from its whole published list, skewed to a few
  // common concepts, with near-miss codes beside them; the truth is the condition, not the code.
  // So a list cut short, or a rule that strays from its definition, shows here per condition.
  it('finds at least 99.5% of the patients with each condition, and no more than 0.5% extra', () => {
    const truth = new Map(readGroundTruth(delivery).map((r) => [r.pseudo_id, new Set(r.conditions)]));
    const report: string[] = [];
    for (const c of conditions) {
      let positives = 0;
      let found = 0;
      let extra = 0;
      for (const r of rows) {
        const want = truth.get(r.pseudo_id)!.has(c.id);
        const got = r.conditions.includes(c.id);
        if (want) positives++;
        if (want && got) found++;
        if (got && !want) extra++;
      }
      expect(positives, `${c.id}: too few patients to judge`).toBeGreaterThanOrEqual(10);
      if (found < 0.995 * positives || extra > 0.005 * positives)
        report.push(`${c.id}: ${found} of ${positives} found, ${extra} extra`);
    }
    expect(report).toEqual([]);
  });
});

/** A random population whose events cluster on both sides of every window edge. */
function randomInput(seed: number, patients: number): RefInput {
  const rng = new Rng(seed, 0xc0401);
  const asOf = '2026-03-31';
  const T = dayOf(asOf);
  const lists = loadCodelists();
  const codes = (id: string) => lists.get(id)!.codes.map((c) => c.code);
  const dxLists = [
    ...new Set(
      conditions.flatMap((c) =>
        c.criteria
          .flatMap((k) => ('codelist' in k ? [k.codelist] : []))
          .concat(c.resolved ? [c.resolved] : []),
      ),
    ),
  ];
  const medLists = [
    ...new Set(
      conditions.flatMap((c) => c.criteria.flatMap((k) => ('medication' in k ? [k.medication] : []))),
    ),
  ];
  const deficitLists = deficits.flatMap((d) => (d.codelist ? [d.codelist] : []));
  const frailtyLists = Object.values(CODED_FRAILTY.codelists);
  const hfrs = [...loadHfrsPoints().keys()];
  const edges = [12, 24, 60].map((m) => addMonths(T, -m));
  const when = (birth: number) => {
    const r = rng.next();
    // Half the events sit within three days of a window edge or the as-of date.
    const d = r < 0.5 ? rng.pick([...edges, T]) + rng.int(-3, 3) : rng.int(birth, T);
    return isoOf(Math.min(T, Math.max(birth, d)));
  };
  const practices = ['C82001', 'C82002', 'C82003'];
  const input: RefInput = {
    asOf,
    practices,
    registrations: [],
    observations: [],
    medications: [],
    activity: [],
  };
  for (let i = 0; i < patients; i++) {
    const id = (seed * 100_000 + i).toString(16).padStart(16, '0');
    const age = rng.int(10, 95);
    const birth = addMonths(T, -(age * 12 + rng.int(0, 11)));
    const birthMonth = isoOf(birth).slice(0, 7);
    const birthDay = dayOf(`${birthMonth}-01`);
    const from = isoOf(rng.int(birthDay, T - 1));
    const practice = rng.pick(practices);
    const moved = rng.chance(0.1);
    const died = rng.chance(0.05) ? isoOf(rng.int(T - 400, T + 30 > T ? T : T)) : null;
    if (moved) {
      const moveDay = isoOf(rng.int(dayOf(from), T));
      input.registrations.push({
        pseudo_id: id,
        practice_code: rng.pick(practices),
        sex: 'F',
        birth_month: birthMonth,
        registered_from: from,
        registered_to: moveDay,
        date_of_death: died,
      });
      input.registrations.push({
        pseudo_id: id,
        practice_code: practice,
        sex: 'F',
        birth_month: birthMonth,
        registered_from: moveDay,
        registered_to: null,
        date_of_death: died,
      });
    } else
      input.registrations.push({
        pseudo_id: id,
        practice_code: practice,
        sex: rng.pick(['F', 'M']),
        birth_month: birthMonth,
        registered_from: from,
        registered_to: null,
        date_of_death: died,
      });
    const nObs = rng.int(0, 25);
    for (let k = 0; k < nObs; k++) {
      const list = rng.chance(0.5)
        ? rng.pick(dxLists)
        : rng.chance(0.6)
          ? rng.pick(deficitLists)
          : rng.pick(frailtyLists);
      input.observations.push({
        pseudo_id: id,
        recorded_date: when(birthDay),
        snomed_code: rng.pick(codes(list)),
      });
    }
    const nMeds = rng.int(0, 14);
    for (let k = 0; k < nMeds; k++) {
      // Some dressings and appliances (BNF chapters 20-23), which polypharmacy must not count.
      const chem = rng.chance(0.7)
        ? rng.pick(codes(rng.pick(medLists)))
        : rng.chance(0.8)
          ? rng.pick(codes('med_background'))
          : rng.pick(['200100001', '210110006', '232534525']);
      input.medications.push({
        pseudo_id: id,
        issue_date: when(birthDay),
        bnf_code: chem + rng.pick(['AAAAAA', 'AAABAB', 'BBAAAA']),
      });
    }
    const nSpells = rng.int(0, 4);
    for (let k = 0; k < nSpells; k++) {
      const dx = Array.from({ length: rng.int(1, 4) }, () => rng.pick(hfrs) + rng.pick(['', '0', '9']));
      input.activity.push({
        pseudo_id: id,
        // Outpatient and A&E diagnoses too, which the HFRS must not read.
        setting: rng.pick(['APC_NEL', 'APC_EL', 'APC_DC', 'OP', 'AE']),
        start_date: when(birthDay),
        primary_diagnosis: dx[0]!,
        secondary_diagnoses: dx.slice(1).join(';') || null,
      });
    }
  }
  return input;
}

function writeDelivery(dir: string, input: RefInput) {
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const csv = (cols: string[], rows: unknown[][]) => stringify([cols, ...rows]);
  put(
    'delivery.json',
    JSON.stringify({ extract_date: input.asOf, source_system: 'property test', schema_version: '1.0' }),
  );
  put(
    'reference/practices.csv',
    csv(
      ['practice_code', 'practice_name', 'pcn_code', 'pcn_name', 'place'],
      input.practices.map((p) => [p, `Practice ${p}`, 'U60001', 'PCN', 'Leicester City']),
    ),
  );
  put('reference/lsoa.csv', csv(['lsoa_code', 'imd_decile', 'place'], [['E01013001', 3, 'Leicester City']]));
  let n = 0;
  for (const practice of input.practices) {
    const regs = input.registrations.filter((r) => r.practice_code === practice);
    const ids = new Set(regs.map((r) => r.pseudo_id));
    // Each patient's record goes to one practice's files; the engine reads records by patient.
    const own = (id: string) =>
      input.registrations.find((r) => r.pseudo_id === id)!.practice_code === practice;
    put(
      `practices/${practice}/patients.csv`,
      csv(
        Object.keys(patientsFile.columns),
        regs.map((r) => [
          r.pseudo_id,
          r.sex,
          r.birth_month,
          'E01013001',
          r.registered_from,
          r.registered_to,
          r.date_of_death,
        ]),
      ),
    );
    put(
      `practices/${practice}/observations.csv`,
      csv(
        Object.keys(observationsFile.columns),
        input.observations
          .filter((o) => ids.has(o.pseudo_id) && own(o.pseudo_id))
          .map((o) => [o.pseudo_id, o.recorded_date, o.snomed_code, null, null]),
      ),
    );
    put(
      `practices/${practice}/medications.csv`,
      csv(
        Object.keys(medicationsFile.columns),
        input.medications
          .filter((m) => ids.has(m.pseudo_id) && own(m.pseudo_id))
          .map((m) => [m.pseudo_id, m.issue_date, '3012345671000001', m.bnf_code, 28]),
      ),
    );
  }
  put(
    'secondary-care/activity.csv',
    csv(
      Object.keys(activityFile.columns),
      input.activity.map((a) => [
        `X${n++}`,
        a.pseudo_id,
        a.setting,
        'RWE',
        a.start_date,
        null,
        null,
        a.primary_diagnosis,
        a.secondary_diagnoses,
        1000,
      ]),
    ),
  );
}

describe('the cohort engine against a naive reference implementation', () => {
  it.each([1, 2, 3, 4, 5, 6])('agrees patient by patient on a random population (seed %i)', async (seed) => {
    const input = randomInput(seed, 150);
    // Exact repeats are one entry in the engine (a resend); keep the reference's input the same.
    const dedupe = <T>(xs: T[]) => [...new Map(xs.map((x) => [JSON.stringify(x), x])).values()];
    input.observations = dedupe(input.observations);
    input.medications = dedupe(input.medications);
    const dir = mkdtempSync(join(tmpdir(), `strata-property-${seed}-`));
    writeDelivery(dir, input);
    const got = await engine(dir);
    const want: RefRow[] = referenceCohorts(input);
    expect(got.map((r) => r.pseudo_id)).toEqual(want.map((r) => r.pseudo_id));
    for (let i = 0; i < want.length; i++) {
      const g = got[i]!;
      const w = want[i]!;
      const label = `seed ${seed} patient ${i}`;
      expect(g.practice_code, label).toBe(w.practice_code);
      expect(g.age, label).toBe(w.age);
      expect(g.conditions, label).toEqual(w.conditions);
      expect(g.efi_deficits, label).toEqual(w.efi_deficits);
      expect(g.efi_category, label).toBe(w.efi_category);
      expect(g.coded_frailty, label).toBe(w.coded_frailty);
      expect(g.hfrs, label).toBeCloseTo(w.hfrs, 6);
      expect(g.frailty_rules, label).toEqual(w.frailty_rules);
    }
    // The random populations must exercise the rules, not just pass vacuously.
    expect(want.filter((w) => w.conditions.length > 0).length).toBeGreaterThan(50);
    expect(want.filter((w) => w.frailty).length).toBeGreaterThan(10);
  });
});
