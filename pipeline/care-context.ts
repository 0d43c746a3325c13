// Care context on a practice's list: facts a GP triages by, beside the cohorts. Each coded
// context is its latest marking code (within the rule's window, where it has one: a care plan
// goes stale), ended by a later code from its publisher's "ended" list
// (a code on the same day as the marking code does not end it: the publishers' rules ask for
// an ending code after the marking one). Recent discharge comes from secondary-care activity
// and needs no codelist.
export interface CodedCareContext {
  /** The practice list column. */
  id: string;
  /** A code from this list marks the patient. */
  codelist: string;
  /** A later code from this list ends the marking code. */
  endedBy?: string;
  /** Marking codes count from this date (the rule's start); else from any date. */
  since?: string;
  /** Marking codes count only in this many months up to the as-of date; else at any age. */
  withinMonths?: number;
  /** The publication whose rule this follows. */
  rule: string;
  about: string;
}

export const codedCareContexts: readonly CodedCareContext[] = [
  {
    id: 'palliative_care_register',
    codelist: 'palliative_care',
    endedBy: 'palliative_care_not_indicated',
    since: '2008-04-01',
    rule: 'NHS England QOF business rules, palliative care register (PC001): PALCARE_COD on or after 1 April 2008, rejected by a later PALCARENI_COD',
    about:
      'on the palliative care register: a palliative care code (QOF PALCARE_COD) on or after 1 April 2008, with no later "palliative care not clinically indicated" code (PALCARENI_COD).',
  },
  {
    id: 'care_home_resident',
    codelist: 'care_home_resident',
    rule: 'PRIMIS COVID-19 vaccination uptake specification v2.4: latest LONGRES_COD (residence in a care home or other long-stay setting)',
    about:
      'lives in a care home, nursing home or other long-stay residence (PRIMIS LONGRES_COD, the latest such code). Care home staff codes do not count.',
  },
  {
    id: 'housebound',
    codelist: 'housebound',
    endedBy: 'housebound_ended',
    rule: 'OpenSAFELY housebound and no-longer-housebound codelists, as the NHS COVID-19 vaccination coverage reports used them: the latest housebound code, unless a later no-longer-housebound code',
    about:
      'housebound: a housebound code (OpenSAFELY housebound list) with no later "no longer housebound" code.',
  },
  {
    id: 'is_carer',
    codelist: 'carer',
    endedBy: 'carer_ended',
    rule: 'PRIMIS COVID-19 vaccination uptake specification v2.4: latest CARER_COD, unless a later NOTCARER_COD',
    about:
      'is a carer, looking after someone (PRIMIS CARER_COD), with no later "not a carer" or "no longer a carer" code (NOTCARER_COD).',
  },
  {
    id: 'has_care_plan',
    codelist: 'care_plan',
    withinMonths: 12,
    rule: 'Nuffield Trust care plan codelist (OpenCodelists user/stuti_bagri/care_plan_palcare/24b59acb, OpenSAFELY end-of-life care quality study), less codes recording no plan; within 12 months, the window the NHS England QOF business rules give care plans (dementia DEM004, mental health MH002)',
    about:
      'has a care plan or advance care planning recorded in the 12 months up to the as-of date: a code from the Nuffield Trust care plan list (its OpenSAFELY end-of-life care quality study: care plans of any kind agreed, held or reviewed, including personalised care and support plans, advance and anticipatory care plans, emergency health care plans, ReSPECT and advance decisions), not counting codes that record planning declined, offered, requested, due or not agreed, capacity to take part, or education about it. No published list of personalised care and support plan codes alone was found.',
  },
];

/** An emergency admission discharged in the window; admissions with no discharge date yet do not count. */
export const RECENT_DISCHARGE = {
  id: 'recently_discharged',
  days: 30,
  /** Settings of the secondary-care contract that are emergency admissions. */
  settings: ['APC_NEL'] as readonly string[],
  about: (days: number) =>
    `discharged from an emergency (non-elective) hospital admission in the ${days} days up to the as-of date, from the secondary-care activity (no codelist: the admission method is the activity's setting).`,
} as const;

/** Every codelist the care contexts read. */
export const careContextCodelists = (): string[] =>
  codedCareContexts.flatMap((c) => (c.endedBy ? [c.codelist, c.endedBy] : [c.codelist]));
