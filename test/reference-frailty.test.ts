// The reference implementation's multimorbidity and frailty rules, one rule per test.
import { describe, it, expect } from 'vitest';
import { lists, code, MILD, MODERATE, SEVERE, reg, obs, med, spell, only } from './support/reference-rows.ts';

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
