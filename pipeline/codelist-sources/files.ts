// Every published file a list is derived from, pinned to the commit or release it was taken from.
import type { SourceFile } from './types.ts';

const OGL_REFSET =
  'SNOMED CT UK Edition, NHS England licence; NHS England primary care domain refset (Open Government Licence v3.0) as republished on OpenCodelists';
const OPENCODELISTS =
  'OpenCodelists (MIT) as published in an OpenSAFELY study repository; SNOMED CT UK Edition, NHS England licence';
const CC_BY_NC_SA =
  'CC BY-NC-SA 4.0 (annalhead/CPRD_multimorbidity_codelists Licence.md); SNOMED CT UK Edition, NHS England licence';
const BNF_LICENCE = 'NHS Business Services Authority BNF code information, Open Government Licence v3.0';

const DISEASE_INCIDENCE = 'opensafely/disease_incidence@fc298800a6f934bf33474f9fc00156dc84b4cbd7';
const DEATHS_AT_HOME = 'opensafely/deaths-at-home-covid19@b0cf90c1b75d5ae0f933c02f5b4e464767f02d35';
const OPIOIDS = 'opensafely/opioids-covid-research@0e45b0d3cfc0a4ccb418fd9ce63ffdf79ca41a99';
const CKD_COVERAGE = 'opensafely/ckd-coverage-ve@760345055dc1d39a7480137cfaeeeee3bb688e7d';
const ADHD = 'opensafely/ADHD-Pre-and-Post-Covid@03931de0a3bc746451c86f3a1c223a50b9a13b6a';
const HEAD = 'annalhead/CPRD_multimorbidity_codelists@7b1357c64c5652f118136ff8b91ba8299df77836';
const GM_SDE = 'UoM-Data-Science-Platforms/gm-sde';

const refset = (repo: string, dir: string, name: string, version: string): SourceFile => ({
  file: `${dir}/nhsd-primary-care-domain-refsets-${name}.csv`,
  origin: `${repo}:codelists/nhsd-primary-care-domain-refsets-${name}.csv`,
  version,
  licence: OGL_REFSET,
  codeColumn: 'code',
  termColumn: 'term',
});
const di = (name: string) =>
  refset(DISEASE_INCIDENCE, 'opensafely+disease_incidence', name, 'as used by the study (2025-09-26)');
const dah = (name: string) =>
  refset(DEATHS_AT_HOME, 'opensafely+deaths-at-home-covid19', name, 'as used by the study (2023-07-19)');
const head = (name: string, published: string): SourceFile => ({
  file: `annalhead+CPRD_multimorbidity_codelists/${name}.csv`,
  origin: `${HEAD}:codelists/${published}.csv`,
  version: 'Head et al. 2021 CPRD Aurum lists (2023-09-20)',
  licence: CC_BY_NC_SA,
  codeColumn: 'snomedctconceptid',
  termColumn: 'descr',
});

// The Greater Manchester secure data environment's clinical code sets: SNOMED CT versions of
// the eFI deficits.
const gmsde = (name: string, commit: string, path: string): SourceFile => ({
  file: `UoM-Data-Science-Platforms+gm-sde/${name}`,
  origin: `${GM_SDE}@${commit}:${path}`,
  version: 'as published at that commit',
  licence:
    'SNOMED CT UK Edition, NHS England licence; code set as published by its source (gm-sde repository; no explicit licence file seen)',
  codeColumn: 'code',
  termColumn: 'term',
  headerless: true,
});

// An earlier published version of a list, where the current one has dropped concepts that older
// records still carry.
const earlier = (repo: string, commit: string, path: string, file: string): SourceFile => ({
  file,
  origin: `${repo}@${commit}:${path}`,
  version: 'the version published at that commit',
  licence: path.includes('nhsd-primary-care-domain-refsets') ? OGL_REFSET : OPENCODELISTS,
  codeColumn: 'code',
  termColumn: 'term',
});

export const sourceFiles: SourceFile[] = [
  ...(['cancer-excluding-lung-and-haematological', 'haematological-cancer', 'lung-cancer'] as const).map(
    (name) => ({
      file: `opensafely+opioids-covid-research/opensafely-${name}-snomed.csv`,
      origin: `${OPIOIDS}:codelists/opensafely-${name}-snomed.csv`,
      version: 'opensafely 2020-04-15',
      licence: OPENCODELISTS,
      codeColumn: 'id',
      termColumn: 'name',
    }),
  ),
  di('adult-and-child-psoriasis-codes'),
  di('ast_cod'),
  di('atopic-dermatitis-codes'),
  di('chd_cod'),
  di('ckdres_cod'),
  di('copd_cod'),
  di('crohns-disease-codes'),
  di('dem_cod'),
  di('depr_cod'),
  di('dmres_cod'),
  di('epil_cod'),
  di('hf_cod'),
  di('multiple-sclerosis-codes'),
  di('rheumatoid-arthritis-disorders'),
  di('strk_cod'),
  di('tia_cod'),
  di('ulcerative-colitis-uc-codes'),
  di('astres_cod'),
  di('copdres_cod'),
  di('depres_cod'),
  di('epilres_cod'),
  di('hfres_cod'),
  di('osteo_cod'),
  {
    ...gmsde(
      'alcohol-dependence-and-related-diseases.snomed.txt',
      'b86f939d2c02e67df697341efd552c0f9da50d66',
      'shared/clinical-code-sets/conditions/alcohol-dependence-and-related-diseases/1/alcohol-dependence-and-related-diseases.snomed.txt',
    ),
    file: 'UoM-Data-Science-Platforms+gm-sde@b86f939/alcohol-dependence-and-related-diseases.snomed.txt',
  },
  earlier(
    'opensafely/post-covid-vaccinated',
    '9d8f3b22c62777b127daefe4db4bb2a369e8558e',
    'codelists/user-hjforbes-diagnoses-eating-disorder.csv',
    'opensafely+post-covid-vaccinated@9d8f3b2/user-hjforbes-diagnoses-eating-disorder.csv',
  ),
  earlier(
    'opensafely/post-covid-vaccinated',
    '2680fec59c352a888fcb323613c989fec76eedc4',
    'codelists/user-RochelleKnight-prostate_cancer_snomed.csv',
    'opensafely+post-covid-vaccinated@2680fec/user-RochelleKnight-prostate_cancer_snomed.csv',
  ),
  earlier(
    'opensafely/RA_outcomes',
    '98a6fa95510b950dcf6ec34507c88e466633cbbc',
    'codelists/primis-covid19-vacc-uptake-ckd35.csv',
    'opensafely+RA_outcomes@98a6fa9/primis-covid19-vacc-uptake-ckd35.csv',
  ),
  earlier(
    'opensafely/deaths-at-home-covid19',
    '96ebf31ec21eafd28c8056a2050158861425438d',
    'codelists/nhsd-primary-care-domain-refsets-copd_cod.csv',
    'opensafely+deaths-at-home-covid19@96ebf31/nhsd-primary-care-domain-refsets-copd_cod.csv',
  ),
  earlier(
    'opensafely/antipsychotics-prescribing-during-COVID-19',
    'c422cefb90f0bbf49c1546b2ab3fddba46da5689',
    'codelists/nhsd-primary-care-domain-refsets-dem_cod.csv',
    'opensafely+antipsychotics-prescribing-during-COVID-19@c422cef/nhsd-primary-care-domain-refsets-dem_cod.csv',
  ),
  {
    ...gmsde(
      'diverticulitis.snomed.txt',
      'c3b779a7dd1b7ab7d27869ba0cd171387821e0ee',
      'shared/clinical-code-sets/conditions/diverticulitis/1/diverticulitis.snomed.txt',
    ),
    file: 'UoM-Data-Science-Platforms+gm-sde@c3b779a/diverticulitis.snomed.txt',
  },
  earlier(
    'opensafely/deaths-at-home-covid19',
    '96ebf31ec21eafd28c8056a2050158861425438d',
    'codelists/nhsd-primary-care-domain-refsets-epil_cod.csv',
    'opensafely+deaths-at-home-covid19@96ebf31/nhsd-primary-care-domain-refsets-epil_cod.csv',
  ),
  earlier(
    'opensafely/ckd-coverage-ve',
    'b48834b05b0f657d53faf9950f7ad8d2d810caed',
    'codelists/nhsd-primary-care-domain-refsets-ld_cod.csv',
    'opensafely+ckd-coverage-ve@b48834b/nhsd-primary-care-domain-refsets-ld_cod.csv',
  ),
  earlier(
    'opensafely/os-sch-children-2021',
    '53857fa67e44f4cb8cc50bb23a319df2fac0dea4',
    'codelists/nhsd-primary-care-domain-refsets-thy_cod.csv',
    'opensafely+os-sch-children-2021@53857fa/nhsd-primary-care-domain-refsets-thy_cod.csv',
  ),
  gmsde(
    'efi-activity-limitation.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-activity-limitation/1/efi-activity-limitation.snomed.txt',
  ),
  gmsde(
    'efi-anaemia.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-anaemia/1/efi-anaemia.snomed.txt',
  ),
  gmsde(
    'efi-arthritis.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-arthritis/1/efi-arthritis.snomed.txt',
  ),
  gmsde(
    'efi-ckd.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-ckd/1/efi-ckd.snomed.txt',
  ),
  gmsde(
    'efi-diabetes.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-diabetes/1/efi-diabetes.snomed.txt',
  ),
  gmsde(
    'efi-dizziness.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-dizziness/1/efi-dizziness.snomed.txt',
  ),
  gmsde(
    'efi-dyspnoea.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-dyspnoea/1/efi-dyspnoea.snomed.txt',
  ),
  gmsde(
    'efi-falls.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-falls/1/efi-falls.snomed.txt',
  ),
  gmsde(
    'efi-foot-problems.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-foot-problems/1/efi-foot-problems.snomed.txt',
  ),
  gmsde(
    'efi-fragility-fracture.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-fragility-fracture/1/efi-fragility-fracture.snomed.txt',
  ),
  gmsde(
    'efi-hearing-loss.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-hearing-loss/1/efi-hearing-loss.snomed.txt',
  ),
  gmsde(
    'efi-heart-valve-disease.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-heart-valve-disease/1/efi-heart-valve-disease.snomed.txt',
  ),
  gmsde(
    'efi-housebound.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-housebound/1/efi-housebound.snomed.txt',
  ),
  gmsde(
    'efi-hypotension.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-hypotension/1/efi-hypotension.snomed.txt',
  ),
  gmsde(
    'efi-cognitive-problems.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-cognitive-problems/1/efi-cognitive-problems.snomed.txt',
  ),
  gmsde(
    'efi-mobility-problems.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-mobility-problems/1/efi-mobility-problems.snomed.txt',
  ),
  gmsde(
    'efi-parkinsons.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-parkinsons/1/efi-parkinsons.snomed.txt',
  ),
  gmsde(
    'efi-peptic-ulcer.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-peptic-ulcer/1/efi-peptic-ulcer.snomed.txt',
  ),
  gmsde(
    'efi-care-requirement.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-care-requirement/1/efi-care-requirement.snomed.txt',
  ),
  gmsde(
    'efi-respiratory-disease.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-respiratory-disease/1/efi-respiratory-disease.snomed.txt',
  ),
  gmsde(
    'efi-skin-ulcer.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-skin-ulcer/1/efi-skin-ulcer.snomed.txt',
  ),
  gmsde(
    'efi-sleep-disturbance.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/patient/efi-sleep-disturbance/1/efi-sleep-disturbance.snomed.txt',
  ),
  gmsde(
    'efi-social-vulnerability.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-social-vulnerability/1/efi-social-vulnerability.snomed.txt',
  ),
  gmsde(
    'efi-thyroid-disorders.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-thyroid-disorders/1/efi-thyroid-disorders.snomed.txt',
  ),
  gmsde(
    'efi-urinary-incontinence.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-urinary-incontinence/1/efi-urinary-incontinence.snomed.txt',
  ),
  gmsde(
    'efi-urinary-system-disease.snomed.txt',
    '991e9301344d5cf31a8b7767f34a640cc199d710',
    'shared/clinical-code-sets/conditions/efi-urinary-system-disease/1/efi-urinary-system-disease.snomed.txt',
  ),
  gmsde(
    'efi-vision-problems.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/conditions/efi-vision-problems/1/efi-vision-problems.snomed.txt',
  ),
  gmsde(
    'efi-weight-loss.snomed.txt',
    '386c70e7f8ca8310a169e2e5954a3d540a262517',
    'shared/clinical-code-sets/patient/efi-weight-loss/1/efi-weight-loss.snomed.txt',
  ),
  dah('afib_cod'),
  dah('dm_cod'),
  dah('hyp_cod'),
  dah('pad_cod'),
  dah('mh_cod'),
  refset(ADHD, 'opensafely+ADHD-Pre-and-Post-Covid', 'ld_cod', 'as used by the study (2025-12-04)'),
  ...(['ckd35', 'cld'] as const).map((name) => ({
    file: `opensafely+ckd-coverage-ve/primis-covid19-vacc-uptake-${name}.csv`,
    origin: `${CKD_COVERAGE}:codelists/primis-covid19-vacc-uptake-${name}.csv`,
    version: 'PRIMIS COVID-19 vaccine uptake v1 (as used 2022-12-19)',
    licence: OPENCODELISTS,
    codeColumn: 'code',
    termColumn: 'term',
  })),
  head('alcohol-misuse', 'Alcohol Misuse'),
  head('alcoholic-liver-disease', 'Alcoholic liver disease'),
  head('ankylosing-spondylitis', 'Ankylosing spondylitis'),
  head('anxiety-disorders', 'Anxiety disorders'),
  head('benign-prostatic-hyperplasia', 'Benign Prostatic Hyperplasia'),
  head('bronchiectasis', 'Bronchiectasis'),
  head('chronic-sinusitis', 'Chronic sinusitis'),
  head('dermatitis', 'Dermatitis'),
  head('diverticular-disease', 'Diverticular Disease'),
  head('eating-disorders', 'Eating Disorders'),
  head('enteropathic-arthropathy', 'Enteropathic arthropathy'),
  head('hearing-loss', 'Hearing loss'),
  head('irritable-bowel-syndrome', 'Irritable bowel syndrome'),
  head('lupus-erythematosus', 'Lupus Erythematosus'),
  head('parkinsons-disease', "Parkinson's disease"),
  head('psoriasis', 'Psoriasis'),
  head('psoriatic-arthritis', 'Psoriatic Arthritis'),
  head('rheumatoid-arthritis', 'Rheumatoid Arthritis'),
  head('scleroderma', 'Scleroderma'),
  head('sjogrens-syndrome', "Sjogren's Syndrome"),
  head('substance-misuse', 'Substance Misuse'),
  head('thyroid-disease', 'Thyroid Disease'),
  head('visual-impairment-and-blindness', 'Visual impairment and blindness'),
  {
    file: 'nhsbsa-bnf/bnf-chemical-substances.csv',
    origin:
      'NHSBSA BNF Code Information, 1 November 2024 (20241101_1730476037387_BNF_Code_Information.csv, sha256 ce96991f6d2b4de1d46dfe21b72b5f451bf8f39e5e0b9bdd7c476a8bea7a1077; as republished in londonaicentre/PhenoLab@0847e2c1ae987056ac1b07d8bea7063b86994d7b:phenolab/definition_library/loaders/data/bsa_bnf/20241101_bsa_bnf.zip, sha256 9c9aad30e03b5b518270f198a3176590ce92ab415c7c2e714a8f80dd5bbd3a5c), one row per chemical substance',
    version: 'BNF code information 2024-11-01',
    licence: BNF_LICENCE,
    codeColumn: 'code',
    termColumn: 'term',
  },
];
