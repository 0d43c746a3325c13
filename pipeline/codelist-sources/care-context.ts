// Where the care-context codelists come from: published lists vendored whole, unchanged, in
// pipeline/codelists/source/ (their SHA-256 in index.csv), declared like the condition lists
// beside them and derived by the same `npm run codelists`.
//
// Each care context is a marking list and, where its publisher has one, the list that ends it
// ("no longer housebound", "not a carer", "palliative care not clinically indicated"). The
// PRIMIS lists of people employed by care and nursing homes are near-misses: staff, not residents.
// No published list of personalised care and support plan codes alone was found; the care plan
// list is the Nuffield Trust's, from its OpenSAFELY study of end-of-life care quality: care plans
// of every kind and advance care planning, of which the codes recording that planning was
// declined, offered, requested, due or not agreed, capacity to take part, or education about it
// are near-misses.
import type { Derivation, SourceFile } from './types.ts';

const BOOSTER = 'opensafely/comparative-booster-spring2023@decf6c3cda5a704615091ac4874377bc202d83fa';
const DEATHS_AT_HOME = 'opensafely/deaths-at-home-covid19@b0cf90c1b75d5ae0f933c02f5b4e464767f02d35';
const END_OF_LIFE = 'opensafely/end-of-life-carequality@e5f22f9ea0d8c042f1c69a13c8507ab81a62050d';
const OGL_REFSET =
  'SNOMED CT UK Edition, NHS England licence; NHS England primary care domain refset (Open Government Licence v3.0) as republished on OpenCodelists';
const OPENCODELISTS =
  'OpenCodelists (MIT) as published in an OpenSAFELY study repository; SNOMED CT UK Edition, NHS England licence';

const published = (
  repo: string,
  dir: string,
  name: string,
  version: string,
  licence: string,
): SourceFile => ({
  file: `${dir}/${name}.csv`,
  origin: `${repo}:codelists/${name}.csv`,
  version,
  licence,
  codeColumn: 'code',
  termColumn: 'term',
});
const booster = (name: string, version: string) =>
  published(
    BOOSTER,
    'opensafely+comparative-booster-spring2023',
    name,
    version,
    name.startsWith('nhsd-') ? OGL_REFSET : OPENCODELISTS,
  );

export const careContextSourceFiles: SourceFile[] = [
  booster('nhsd-primary-care-domain-refsets-palcare_cod', 'OpenCodelists palcare_cod/5fce98cf'),
  published(
    DEATHS_AT_HOME,
    'opensafely+deaths-at-home-covid19',
    'nhsd-primary-care-domain-refsets-palcareni_cod',
    'OpenCodelists palcareni_cod/20200812',
    OGL_REFSET,
  ),
  booster('primis-covid19-vacc-uptake-longres', 'PRIMIS COVID-19 vaccination uptake v2.4'),
  booster('primis-covid19-vacc-uptake-carehome', 'PRIMIS COVID-19 vaccination uptake v2.4'),
  booster('primis-covid19-vacc-uptake-nursehome', 'PRIMIS COVID-19 vaccination uptake v2.4'),
  booster('opensafely-housebound', 'OpenCodelists opensafely/housebound/5bc77310'),
  booster('opensafely-no-longer-housebound', 'OpenCodelists opensafely/no-longer-housebound/29a88ca6'),
  booster('primis-covid19-vacc-uptake-carer', 'PRIMIS COVID-19 vaccination uptake v2.4'),
  booster('primis-covid19-vacc-uptake-notcarer', 'PRIMIS COVID-19 vaccination uptake v2.4'),
  published(
    END_OF_LIFE,
    'opensafely+end-of-life-carequality',
    'user-stuti_bagri-care_plan_palcare',
    'OpenCodelists user/stuti_bagri/care_plan_palcare/24b59acb',
    `${OPENCODELISTS}; study repository MIT (Nuffield Trust)`,
  ),
];

const whole = (id: string, file: string): Derivation => ({ id, from: [{ file }] });

export const careContextDerivations: Derivation[] = [
  whole(
    'palliative_care',
    'opensafely+comparative-booster-spring2023/nhsd-primary-care-domain-refsets-palcare_cod.csv',
  ),
  whole(
    'palliative_care_not_indicated',
    'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-palcareni_cod.csv',
  ),
  whole(
    'care_home_resident',
    'opensafely+comparative-booster-spring2023/primis-covid19-vacc-uptake-longres.csv',
  ),
  whole('housebound', 'opensafely+comparative-booster-spring2023/opensafely-housebound.csv'),
  whole('housebound_ended', 'opensafely+comparative-booster-spring2023/opensafely-no-longer-housebound.csv'),
  whole('carer', 'opensafely+comparative-booster-spring2023/primis-covid19-vacc-uptake-carer.csv'),
  whole('carer_ended', 'opensafely+comparative-booster-spring2023/primis-covid19-vacc-uptake-notcarer.csv'),
  {
    id: 'care_plan',
    from: [{ file: 'opensafely+end-of-life-carequality/user-stuti_bagri-care_plan_palcare.csv' }],
    drop: [
      {
        why: 'planning declined, offered, requested, due or not agreed (no plan in place)',
        termMatches: /declined|\boffer(ed)?\b|\brequest\b|review due|does not|deficient/i,
        nearMiss: true,
      },
      {
        why: 'capacity to take part in care planning (a finding, not a plan)',
        termMatches: /\bable to\b|\bability to\b/i,
        nearMiss: true,
      },
      {
        why: 'education or written information about care planning (not a plan)',
        termMatches: /^education\b|written information/i,
        nearMiss: true,
      },
    ],
  },
];

/** Index descriptions of the care-context lists, for `npm run codelists`. */
export const careContextDescriptions: Record<string, string> = {
  palliative_care:
    'Palliative care (QOF PALCARE_COD): codes that place a patient on the palliative care register.',
  palliative_care_not_indicated:
    'Palliative care not clinically indicated (QOF PALCARENI_COD): ends a palliative care code before it.',
  care_home_resident: 'Lives in a care home, nursing home or other long-stay residence (PRIMIS LONGRES_COD).',
  housebound: 'Housebound (OpenSAFELY housebound codelist).',
  housebound_ended: 'No longer housebound (OpenSAFELY): ends a housebound code before it.',
  carer: 'The patient is a carer, looking after someone (PRIMIS CARER_COD).',
  carer_ended: 'No longer or not a carer (PRIMIS NOTCARER_COD): ends a carer code before it.',
  care_plan:
    'A care plan or advance care planning recorded (Nuffield Trust care plan list, OpenSAFELY end-of-life care quality study).',
};

/** Published codes near a care-context list that must not mark it: care and nursing home staff. */
export const careContextNearMisses: { list: string; file: string; why: string }[] = [
  ['primis-covid19-vacc-uptake-carehome', 'employed by a care home (staff, not a resident)'],
  ['primis-covid19-vacc-uptake-nursehome', 'employed by a nursing home (staff, not a resident)'],
].map(([name, why]) => ({
  list: 'care_home_resident',
  file: `opensafely+comparative-booster-spring2023/${name!}.csv`,
  why: why!,
}));
