// The reference implementation is the yardstick for the SQL engine, so its own tests read
// as the cohort definition: one rule per test, tiny tables, real codes from the codelists.
import { describe, it, expect } from 'vitest';
import {
  REF,
  A,
  B,
  NOT_LISTED,
  CKD,
  CKD_RESOLVED,
  DEPRESSION,
  CANCER,
  ASTHMA,
  ANALGESIC,
  INHALER,
  ANTIEPILEPTIC,
  EPILEPSY,
  PSORIASIS,
  EMOLLIENT_OR_STEROID,
  LAXATIVE,
  ANTIDEPRESSANT,
  FOUR_ISSUES,
  reg,
  obs,
  med,
  spell,
  run,
  only,
} from './support/reference-rows.ts';

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
