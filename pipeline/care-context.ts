// Care context on a practice's list: facts a GP triages by, beside the cohorts. Each coded
// context is its latest marking code, ended by a later code from its publisher's "ended" list
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
