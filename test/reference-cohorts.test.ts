// The reference implementation is the yardstick for the SQL engine, so its own tests read
// as the cohort definition: one rule per test, tiny tables, real codes from the codelists.
import { describe, it, expect } from 'vitest';
import { loadCodelists } from '../src/codelists.ts';
import {
  referenceCohorts,
  type RefActivity,
  type RefInput,
  type RefMedication,
  type RefObservation,
  type RefRegistration,
  type RefRow,
} from './support/reference-cohorts.ts';

const lists = loadCodelists();
const code = (list: string, i = 0): string => lists.get(list)!.codes[i]!.code;

const REF = '2026-09-30';
const A = 'A81001';
const B = 'A81002';
const NOT_LISTED = 'Y99999';

const CKD = code('ckd_3_5');
const CKD_RESOLVED = code('ckd_resolved');
const DEPRESSION = code('depression_anxiety');
const CANCER = code('cancer');
const ASTHMA = code('asthma');
const MILD = code('frailty_mild');
const MODERATE = code('frailty_moderate');
const SEVERE = code('frailty_severe');
// Issues carry full 15-character presentations; the rules look at the 9-character chemical.
const ANALGESIC = `${code('med_analgesics')}AAAAAA`;
const INHALER = `${code('med_asthma_inhalers')}AAAAAA`;
const ANTIEPILEPTIC = `${code('med_antiepileptics')}AAAAAA`;
const EPILEPSY = code('epilepsy');
const PSORIASIS = code('psoriasis_eczema');
const EMOLLIENT_OR_STEROID = `${code('med_psoriasis_eczema')}AAAAAA`;
const LAXATIVE = `${code('med_laxatives')}AAAAAA`;
const ANTIDEPRESSANT = `${code('med_antidepressants')}AAAAAA`;
const FOUR_ISSUES = ['2025-11-01', '2026-02-01', '2026-05-01', '2026-08-01'];

function reg(extra: Partial<RefRegistration> = {}): RefRegistration {
  return {
    pseudo_id: 'p1',
    practice_code: A,
    sex: 'F',
    birth_month: '1950-06',
    registered_from: '2000-01-01',
    registered_to: null,
    date_of_death: null,
    ...extra,
  };
}
const obs = (recorded_date: string, snomed_code: string, pseudo_id = 'p1'): RefObservation => ({
  pseudo_id,
  recorded_date,
  snomed_code,
});
const med = (issue_date: string, bnf_code: string, pseudo_id = 'p1'): RefMedication => ({
  pseudo_id,
  issue_date,
  bnf_code,
});
const spell = (
  start_date: string,
  primary: string | null,
  secondary: string | null = null,
  setting = 'APC_NEL',
): RefActivity => ({
  pseudo_id: 'p1',
  setting,
  start_date,
  primary_diagnosis: primary,
  secondary_diagnoses: secondary,
});

function run(parts: Partial<RefInput>): RefRow[] {
  return referenceCohorts({
    asOf: REF,
    practices: [A, B],
    registrations: [reg()],
    observations: [],
    medications: [],
    activity: [],
    ...parts,
  });
}

/** The single row of a one-patient cohort. */
function only(parts: Partial<RefInput>): RefRow {
  const rows = run(parts);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

describe('eligibility', () => {
  it('counts a patient registered at a listed practice on the reference date', () => {
    const row = only({});
    expect(row.pseudo_id).toBe('p1');
    expect(row.practice_code).toBe(A);
  });

  it('places a mover only at the practice they are registered with on the reference date', () => {
    const rows = run({
      registrations: [
        reg({ practice_code: A, registered_from: '2010-01-01', registered_to: '2024-05-01' }),
        reg({ practice_code: B, registered_from: '2024-05-01' }),
      ],
    });
    expect(rows.map((r) => [r.pseudo_id, r.practice_code])).toEqual([['p1', B]]);
  });

  it('drops a mover whose new practice is not in the reference list', () => {
    const rows = run({
      registrations: [
        reg({ practice_code: A, registered_to: '2024-05-01' }),
        reg({ practice_code: NOT_LISTED, registered_from: '2024-05-01' }),
      ],
    });
    expect(rows).toEqual([]);
  });

  it('treats registered_to as exclusive and registered_from as inclusive', () => {
    expect(run({ registrations: [reg({ registered_to: REF })] })).toEqual([]);
    expect(run({ registrations: [reg({ registered_to: '2026-10-01' })] })).toHaveLength(1);
    expect(run({ registrations: [reg({ registered_from: REF })] })).toHaveLength(1);
    expect(run({ registrations: [reg({ registered_from: '2026-10-01' })] })).toEqual([]);
  });

  it('excludes a patient who died on or before the reference date', () => {
    expect(run({ registrations: [reg({ date_of_death: '2026-01-01' })] })).toEqual([]);
    expect(run({ registrations: [reg({ date_of_death: REF })] })).toEqual([]);
    expect(run({ registrations: [reg({ date_of_death: '2026-10-01' })] })).toHaveLength(1);
  });

  it('prefers the latest registration, then the lowest practice code', () => {
    const overlapping = only({
      registrations: [
        reg({ practice_code: A, registered_from: '2020-01-01' }),
        reg({ practice_code: B, registered_from: '2021-01-01' }),
      ],
    });
    expect(overlapping.practice_code).toBe(B);
    const tied = only({
      registrations: [
        reg({ practice_code: B, registered_from: '2020-01-01' }),
        reg({ practice_code: A, registered_from: '2020-01-01' }),
      ],
    });
    expect(tied.practice_code).toBe(A);
  });

  it('counts age in whole years from the first day of the birth month', () => {
    expect(only({ registrations: [reg({ birth_month: '1996-09' })] }).age).toBe(30);
    expect(only({ registrations: [reg({ birth_month: '1996-10' })] }).age).toBe(29);
  });

  it('returns rows ordered by pseudo_id', () => {
    const rows = run({
      registrations: [reg({ pseudo_id: 'p3' }), reg({ pseudo_id: 'p1' }), reg({ pseudo_id: 'p2' })],
    });
    expect(rows.map((r) => r.pseudo_id)).toEqual(['p1', 'p2', 'p3']);
  });
});

describe('dates that count', () => {
  it('ignores codes, issues and activity after the reference date and counts those on it', () => {
    expect(only({ observations: [obs('2026-10-01', CKD)] }).conditions).toEqual([]);
    expect(only({ observations: [obs(REF, CKD)] }).conditions).toEqual(['ckd_3_5']);

    const fourIssues = ['2026-03-01', '2026-05-01', '2026-07-01'];
    const late = only({ medications: [...fourIssues, '2026-10-01'].map((d) => med(d, ANALGESIC)) });
    expect(late.conditions).toEqual([]);
    const onRef = only({ medications: [...fourIssues, REF].map((d) => med(d, ANALGESIC)) });
    expect(onRef.conditions).toEqual(['painful_condition']);

    expect(only({ activity: [spell('2026-10-01', 'F00')] }).hfrs).toBe(0);
  });

  it('ignores GP records dated before the birth month', () => {
    const row = only({
      registrations: [reg({ birth_month: '1990-06' })],
      observations: [obs('1990-05-31', CKD)],
    });
    expect(row.conditions).toEqual([]);
    const onBirth = only({
      registrations: [reg({ birth_month: '1990-06' })],
      observations: [obs('1990-06-01', CKD)],
    });
    expect(onBirth.conditions).toEqual(['ckd_3_5']);
  });

  it('opens a 12-month window the day after ref minus 12 months, clamping month ends like DuckDB', () => {
    //   code date     ref          counted
    const table: [string, string, boolean][] = [
      ['2025-09-30', '2026-09-30', false],
      ['2025-10-01', '2026-09-30', true],
      ['2025-02-28', '2026-02-28', false],
      ['2025-03-01', '2026-02-28', true],
      // 2024-02-29 minus 12 months is 2023-02-28
      ['2023-02-28', '2024-02-29', false],
      ['2023-03-01', '2024-02-29', true],
    ];
    for (const [date, asOf, counted] of table) {
      const row = only({ asOf, observations: [obs(date, DEPRESSION)] });
      expect(row.conditions, `${date} as of ${asOf}`).toEqual(counted ? ['depression_anxiety'] : []);
    }
  });
});

describe('conditions', () => {
  it('stops counting CKD after a later resolved code and counts it again once re-diagnosed', () => {
    const diagnosed = [obs('2020-01-01', CKD)];
    const resolved = [...diagnosed, obs('2022-01-01', CKD_RESOLVED)];
    const rediagnosed = [...resolved, obs('2024-01-01', CKD)];
    expect(only({ observations: diagnosed }).conditions).toEqual(['ckd_3_5']);
    expect(only({ observations: resolved }).conditions).toEqual([]);
    expect(only({ observations: rediagnosed }).conditions).toEqual(['ckd_3_5']);
  });

  it('keeps CKD when the resolved code is on the same day as the latest diagnosis', () => {
    const row = only({ observations: [obs('2022-01-01', CKD), obs('2022-01-01', CKD_RESOLVED)] });
    expect(row.conditions).toEqual(['ckd_3_5']);
  });

  it('needs 4 analgesic issues in 12 months for a painful condition; 3 is not enough', () => {
    const three = ['2025-11-01', '2026-02-01', '2026-05-01'];
    expect(only({ medications: three.map((d) => med(d, ANALGESIC)) }).conditions).toEqual([]);
    const four = [...three, '2026-08-01'];
    expect(only({ medications: four.map((d) => med(d, ANALGESIC)) }).conditions).toEqual([
      'painful_condition',
    ]);
    const fourthTooOld = [...three, '2025-09-01'];
    expect(only({ medications: fourthTooOld.map((d) => med(d, ANALGESIC)) }).conditions).toEqual([]);
  });

  it('counts 4 anti-epileptic issues as a painful condition only without an epilepsy code', () => {
    const issues = FOUR_ISSUES.map((d) => med(d, ANTIEPILEPTIC));
    expect(only({ medications: issues }).conditions).toEqual(['painful_condition']);
    // With epilepsy coded, however long ago, the same issues treat epilepsy instead.
    expect(only({ medications: issues, observations: [obs('2001-01-01', EPILEPSY)] }).conditions).toEqual([
      'epilepsy',
    ]);
  });

  it('needs psoriasis or eczema coded and 4 treatment issues in 12 months; 3 is not enough', () => {
    const dx = [obs('2010-01-01', PSORIASIS)];
    const three = FOUR_ISSUES.slice(0, 3).map((d) => med(d, EMOLLIENT_OR_STEROID));
    expect(only({ observations: dx, medications: three }).conditions).toEqual([]);
    const four = FOUR_ISSUES.map((d) => med(d, EMOLLIENT_OR_STEROID));
    expect(only({ observations: dx, medications: four }).conditions).toEqual(['psoriasis_eczema']);
    expect(only({ medications: four }).conditions).toEqual([]);
  });

  it('counts treated constipation and depression or anxiety from 4 issues in 12 months', () => {
    expect(only({ medications: FOUR_ISSUES.map((d) => med(d, LAXATIVE)) }).conditions).toEqual([
      'constipation',
    ]);
    expect(only({ medications: FOUR_ISSUES.slice(1).map((d) => med(d, LAXATIVE)) }).conditions).toEqual([]);
    expect(only({ medications: FOUR_ISSUES.map((d) => med(d, ANTIDEPRESSANT)) }).conditions).toEqual([
      'depression_anxiety',
    ]);
  });

  it('counts mixed anxiety and depressive disorder as one condition', () => {
    const row = only({ observations: [obs('2026-06-01', '231504006')] });
    expect(row.conditions).toEqual(['depression_anxiety']);
    expect(row.condition_count).toBe(1);
  });

  it('counts depression coded 11 months ago but not 13 months ago', () => {
    expect(only({ observations: [obs('2025-08-30', DEPRESSION)] }).conditions).toEqual([]);
    expect(only({ observations: [obs('2025-10-30', DEPRESSION)] }).conditions).toEqual([
      'depression_anxiety',
    ]);
  });

  it('counts cancer only when first coded within 5 years, however recent the latest code', () => {
    const longAgo = only({ observations: [obs('2020-09-30', CANCER), obs('2026-06-01', CANCER)] });
    expect(longAgo.conditions).toEqual([]);
    const recent = only({ observations: [obs('2022-09-30', CANCER), obs('2026-06-01', CANCER)] });
    expect(recent.conditions).toEqual(['cancer']);
  });

  it('counts asthma only with an inhaler issued in the last 12 months', () => {
    expect(only({ observations: [obs('2015-01-01', ASTHMA)] }).conditions).toEqual([]);
    const oldInhaler = only({
      observations: [obs('2015-01-01', ASTHMA)],
      medications: [med('2025-09-01', INHALER)],
    });
    expect(oldInhaler.conditions).toEqual([]);
    const treated = only({
      observations: [obs('2015-01-01', ASTHMA)],
      medications: [med('2026-04-01', INHALER)],
    });
    expect(treated.conditions).toEqual(['asthma']);
    expect(only({ medications: [med('2026-04-01', INHALER)] }).conditions).toEqual([]);
  });

  it('lists conditions sorted, with their count', () => {
    const row = only({
      observations: [obs('2020-01-01', CKD), obs('2026-01-01', DEPRESSION), obs('2021-01-01', ASTHMA)],
    });
    expect(row.conditions).toEqual(['ckd_3_5', 'depression_anxiety']);
    expect(row.condition_count).toBe(2);
  });
});

describe('multimorbidity and frailty', () => {
  const sixConditions = [
    'anorexia_bulimia',
    'atrial_fibrillation',
    'bronchiectasis',
    'chronic_liver_disease',
    'copd',
    'learning_disability',
  ];
  const sixCodes = sixConditions.map((id) => obs('2025-01-01', code(id)));

  it('does not call a 17-year-old with 6 conditions multimorbid, but does at 18', () => {
    const child = only({ registrations: [reg({ birth_month: '2009-01' })], observations: sixCodes });
    expect(child.age).toBe(17);
    expect(child.conditions).toEqual(sixConditions);
    expect(child.multimorbidity_5plus).toBe(false);
    const adult = only({ registrations: [reg({ birth_month: '2008-09' })], observations: sixCodes });
    expect(adult.age).toBe(18);
    expect(adult.multimorbidity_5plus).toBe(true);
  });

  it('needs 5 conditions, not 4, for multimorbidity', () => {
    expect(only({ observations: sixCodes.slice(0, 5) }).multimorbidity_5plus).toBe(true);
    expect(only({ observations: sixCodes.slice(0, 4) }).multimorbidity_5plus).toBe(false);
  });

  it('marks a 30-year-old with a moderate frailty code in the last 24 months as frail by coded frailty', () => {
    const row = only({
      registrations: [reg({ birth_month: '1996-01' })],
      observations: [obs('2025-01-01', MODERATE)],
    });
    expect(row.age).toBe(30);
    expect(row.coded_frailty).toBe('moderate');
    expect(row.frailty_rules).toEqual(['coded_frailty']);
    expect(row.frailty).toBe(true);
  });

  it('flags frailty whatever the age', () => {
    const row = only({
      registrations: [reg({ birth_month: '2015-01' })],
      observations: [obs('2026-01-01', SEVERE)],
    });
    expect(row.frailty).toBe(true);
  });

  it('takes the latest frailty code: mild after an earlier moderate is mild, with no marker', () => {
    const row = only({ observations: [obs('2025-03-01', MODERATE), obs('2026-03-01', MILD)] });
    expect(row.coded_frailty).toBe('mild');
    expect(row.frailty_rules).toEqual([]);
    expect(row.frailty).toBe(false);
  });

  it('takes the most severe frailty code on the latest date', () => {
    const row = only({
      observations: [obs('2026-03-01', MILD), obs('2026-03-01', SEVERE), obs('2026-03-01', MODERATE)],
    });
    expect(row.coded_frailty).toBe('severe');
  });

  it('ignores frailty codes older than 24 months', () => {
    expect(only({ observations: [obs('2024-09-30', SEVERE)] }).coded_frailty).toBe('none');
    expect(only({ observations: [obs('2024-10-01', SEVERE)] }).coded_frailty).toBe('severe');
  });
});

describe('eFI-style deficits', () => {
  const chemicals = lists.get('med_background')!.codes.map((c) => c.code);

  it('needs 5 distinct chemicals in 12 months for polypharmacy; 4 is not enough', () => {
    const four = chemicals.slice(0, 4).map((c) => med('2026-06-01', `${c}AAAAAA`));
    expect(only({ medications: four }).efi_deficits).toEqual([]);
    const five = chemicals.slice(0, 5).map((c) => med('2026-06-01', `${c}AAAAAA`));
    const row = only({ medications: five });
    expect(row.efi_deficits).toEqual(['polypharmacy']);
    expect(row.efi_score).toBe(1 / 36);
  });

  it('counts drugs from BNF chapters 1-15 only: dressings and appliances are not polypharmacy', () => {
    const four = chemicals.slice(0, 4).map((c) => med('2026-06-01', `${c}AAAAAA`));
    // A dressing (chapter 20) and an appliance (chapter 21), as the NHSBSA codes them.
    const withDevices = [...four, med('2026-06-01', '200100001AAAAAA'), med('2026-06-01', '210110006AAAAAA')];
    expect(only({ medications: withDevices }).efi_deficits).toEqual([]);
  });

  it('counts a chemical once across presentations and ignores issues outside 12 months', () => {
    const four = chemicals.slice(0, 4).map((c) => med('2026-06-01', `${c}AAAAAA`));
    const samePresentationAgain = [...four, med('2026-07-01', `${chemicals[0]}ABABAB`)];
    expect(only({ medications: samePresentationAgain }).efi_deficits).toEqual([]);
    const fifthTooOld = [...four, med('2025-09-30', `${chemicals[4]}AAAAAA`)];
    expect(only({ medications: fifthTooOld }).efi_deficits).toEqual([]);
  });

  it('marks a deficit for a code from its list recorded at any time', () => {
    const row = only({ observations: [obs('1995-01-01', code('efi_falls'))] });
    expect(row.efi_deficits).toEqual(['falls']);
    expect(row.efi_category).toBe('fit');
  });

  it('fires the efi rule at 9 of 36 deficits (moderate) and not at 8 (mild)', () => {
    const nine = [
      'activity_limitation',
      'anaemia',
      'arthritis',
      'dizziness',
      'dyspnoea',
      'falls',
      'foot_problems',
      'fragility_fracture',
      'housebound',
    ];
    const codes = nine.map((id) => obs('2020-01-01', code(`efi_${id}`)));
    const moderate = only({ observations: codes });
    expect(moderate.efi_deficits).toEqual(nine);
    expect(moderate.efi_score).toBe(9 / 36);
    expect(moderate.efi_category).toBe('moderate');
    expect(moderate.frailty_rules).toEqual(['efi']);
    const mild = only({ observations: codes.slice(0, 8) });
    expect(mild.efi_category).toBe('mild');
    expect(mild.frailty_rules).toEqual([]);
  });
});

describe('Hospital Frailty Risk Score', () => {
  it('scores F00 at 7.1 and fires the hfrs rule', () => {
    const row = only({ activity: [spell('2026-01-01', 'F00')] });
    expect(row.hfrs).toBe(7.1);
    expect(row.frailty_rules).toEqual(['hfrs']);
  });

  it('reads admitted-patient spells only, not outpatient or A&E diagnoses', () => {
    for (const setting of ['APC_NEL', 'APC_EL', 'APC_DC'])
      expect(only({ activity: [spell('2026-01-01', 'F00', null, setting)] }).hfrs, setting).toBe(7.1);
    for (const setting of ['OP', 'AE'])
      expect(only({ activity: [spell('2026-01-01', 'F00', null, setting)] }).hfrs, setting).toBe(0);
  });

  it('sums distinct 3-character codes, counting a repeated code once', () => {
    //   start date    primary  secondary
    const row = only({
      activity: [
        spell('2025-06-01', 'F00', 'R296;F001'),
        spell('2026-02-01', 'F009', null),
        spell('2026-03-01', null, 'F01;R29'),
      ],
    });
    // F00 7.1 + R29 3.6 + F01 2.0
    expect(row.hfrs).toBe(12.7);
  });

  it('ignores invalid codes and spells outside 24 months', () => {
    const row = only({
      activity: [
        spell('2026-01-01', 'F00.1', 'f00;R29 ;;G81X1'),
        spell('2024-09-30', 'F00'),
        spell('2024-10-01', 'F01'),
      ],
    });
    expect(row.hfrs).toBe(2);
    expect(row.frailty_rules).toEqual([]);
  });

  it('lists the rules in the order coded_frailty, efi, hfrs', () => {
    const nineDeficits = [
      'activity_limitation',
      'anaemia',
      'arthritis',
      'dizziness',
      'dyspnoea',
      'falls',
      'foot_problems',
      'fragility_fracture',
      'housebound',
    ].map((id) => obs('2020-01-01', code(`efi_${id}`)));
    const row = only({
      observations: [obs('2026-01-01', SEVERE), ...nineDeficits],
      activity: [spell('2026-01-01', 'F00')],
    });
    expect(row.frailty_rules).toEqual(['coded_frailty', 'efi', 'hfrs']);
  });
});
