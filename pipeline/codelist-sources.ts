// Where each codelist comes from, and the one small step from the published file to the list.
// The published files sit unchanged in pipeline/codelists/source/ (their SHA-256 below); `npm run
// codelists` derives pipeline/codelists/<id>.csv from them and writes the counts into index.csv,
// and a test derives every list again and fails when a list, a count or a checksum drifts.
//
// A list is its sources' codes (all rows, or those whose term matches `keep`), less the rows a
// `drop` names. Every drop says why; drops marked `nearMiss` are codes a reader might expect on
// the list but that must not count (morphology, procedures, secondaries), and the synthetic
// generator writes some of them to prove the pipeline does not count them.

export interface SourceFile {
  /** Path under pipeline/codelists/source/. */
  file: string;
  /** Where it was published: owner/repository@commit:path, or the publisher's page. */
  origin: string;
  /** The publisher's version of the list, where it names one. */
  version: string;
  licence: string;
  codeColumn: string;
  termColumn: string;
  /** Tab-separated `code<TAB>term` lines with no header (default: CSV with a header). */
  headerless?: boolean;
}

export interface Drop {
  why: string;
  /** Rows whose term matches. */
  termMatches?: RegExp;
  /** These codes. */
  codes?: string[];
  /** Codes that are on these other lists (each code counts towards one condition only). */
  onLists?: string[];
  /** Codes a reader might expect on the list but that must not count. */
  nearMiss?: boolean;
}

export interface SourceUse {
  file: string;
  /** Keep only rows whose term matches (default: every row). */
  keep?: RegExp;
  /** BNF lists: keep chemical substances whose code starts with one of these (chapter 2,
   * section 4, paragraph 6, sub-paragraph 7 characters, or a chemical's 9). */
  bnfPrefixes?: string[];
}

export interface Derivation {
  id: string;
  from: SourceUse[];
  drop?: Drop[];
}

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

const NOT_A_DIAGNOSIS =
  /\((morphologic abnormality|procedure|qualifier value|observable entity|regime\/therapy)\)$/;

// Cassell et al. count prescription-only analgesics; paracetamol and aspirin alone are bought
// over the counter, so their issues say little about a painful condition.
const ANALGESICS_SOLD_OVER_THE_COUNTER: Drop = {
  why: 'paracetamol and aspirin alone: sold over the counter, not prescription-only analgesics',
  termMatches: /^(paracetamol|aspirin)$/i,
};

export const derivations: Derivation[] = [
  {
    id: 'alcohol_problems',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/alcohol-misuse.csv' },
      {
        file: 'UoM-Data-Science-Platforms+gm-sde@b86f939/alcohol-dependence-and-related-diseases.snomed.txt',
      },
    ],
    drop: [
      { why: 'alcoholic liver disease counts as chronic liver disease', onLists: ['chronic_liver_disease'] },
      {
        why: 'interventions, referrals, treatment-service and resolved codes (no diagnosis)',
        codes: [
          '379411000000105',
          '380861000000109',
          '413897002',
          '417096006',
          '707166002',
          '754831000000102',
          '781191000000101',
          '892631000000102',
          '918321000000104',
          '933641000000103',
          '946101000000100',
          '968891000000109',
        ],
      },
    ],
  },
  {
    id: 'anorexia_bulimia',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/eating-disorders.csv' },
      { file: 'opensafely+post-covid-vaccinated@9d8f3b2/user-hjforbes-diagnoses-eating-disorder.csv' },
    ],
    drop: [
      {
        why: 'appetite-loss symptoms, pica and eating-disorder service codes (no anorexia or bulimia diagnosis)',
        codes: [
          '139082003',
          '14077003',
          '154938001',
          '158268008',
          '158272007',
          '161826006',
          '192011003',
          '192012005',
          '192017004',
          '192020007',
          '192021006',
          '192451007',
          '192452000',
          '192631000',
          '206915006',
          '206917003',
          '206939001',
          '248118000',
          '248122005',
          '249468005',
          '267023007',
          '268721001',
          '268779001',
          '269813009',
          '270902002',
          '313076000',
          '386264009',
          '400973003',
          '407666007',
          '410721000000104',
          '413721000000105',
          '413861000000106',
          '427857000',
          '432541000000106',
          '439437006',
          '451151000000109',
          '468041000000107',
          '496871000000107',
          '497061000000105',
          '608251000000104',
          '608261000000101',
          '608271000000108',
          '705001007',
          '705002000',
          '782949007',
          '962011000000105',
        ],
      },
    ],
  },
  {
    id: 'depression_anxiety',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-depr_cod.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/anxiety-disorders.csv' },
    ],
    drop: [
      {
        why: 'psychotic and bipolar depression count as schizophrenia or bipolar disorder',
        onLists: ['schizophrenia_bipolar'],
      },
    ],
  },
  {
    id: 'asthma',
    from: [{ file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-ast_cod.csv' }],
  },
  {
    id: 'atrial_fibrillation',
    from: [{ file: 'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-afib_cod.csv' }],
  },
  {
    id: 'blindness_low_vision',
    from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/visual-impairment-and-blindness.csv' }],
  },
  { id: 'bronchiectasis', from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/bronchiectasis.csv' }] },
  {
    id: 'cancer',
    from: [
      {
        file: 'opensafely+opioids-covid-research/opensafely-cancer-excluding-lung-and-haematological-snomed.csv',
      },
      { file: 'opensafely+opioids-covid-research/opensafely-lung-cancer-snomed.csv' },
      { file: 'opensafely+opioids-covid-research/opensafely-haematological-cancer-snomed.csv' },
      { file: 'opensafely+post-covid-vaccinated@2680fec/user-RochelleKnight-prostate_cancer_snomed.csv' },
    ],
    drop: [
      {
        why: 'morphology, procedure and other non-diagnosis concepts',
        termMatches: NOT_A_DIAGNOSIS,
        nearMiss: true,
      },
      {
        why: 'secondary (metastatic) neoplasms: not a new primary cancer',
        termMatches: /^secondary|metasta/i,
        nearMiss: true,
      },
      {
        why: 'non-melanoma skin cancer (excluded by Cassell et al. 2018)',
        termMatches: /basal cell|rodent ulcer|squamous cell carcinoma of (the )?skin|bowen/i,
        nearMiss: true,
      },
      {
        why: 'prostate cancer procedures (no diagnosis)',
        codes: ['176106009', '176261008', '176262001', '176263006', '81232004'],
      },
    ],
  },
  {
    id: 'ckd_3_5',
    from: [
      { file: 'opensafely+ckd-coverage-ve/primis-covid19-vacc-uptake-ckd35.csv' },
      { file: 'opensafely+RA_outcomes@98a6fa9/primis-covid19-vacc-uptake-ckd35.csv' },
    ],
  },
  {
    id: 'ckd_resolved',
    from: [{ file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-ckdres_cod.csv' }],
  },
  {
    id: 'chronic_liver_disease',
    from: [
      { file: 'opensafely+ckd-coverage-ve/primis-covid19-vacc-uptake-cld.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/alcoholic-liver-disease.csv' },
    ],
  },
  {
    id: 'chronic_sinusitis',
    from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/chronic-sinusitis.csv' }],
  },
  {
    id: 'copd',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-copd_cod.csv' },
      { file: 'opensafely+deaths-at-home-covid19@96ebf31/nhsd-primary-care-domain-refsets-copd_cod.csv' },
    ],
  },
  {
    id: 'coronary_heart_disease',
    from: [{ file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-chd_cod.csv' }],
  },
  {
    id: 'dementia',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-dem_cod.csv' },
      {
        file: 'opensafely+antipsychotics-prescribing-during-COVID-19@c422cef/nhsd-primary-care-domain-refsets-dem_cod.csv',
      },
    ],
  },
  {
    id: 'diabetes',
    from: [{ file: 'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-dm_cod.csv' }],
  },
  {
    id: 'diabetes_resolved',
    from: [{ file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-dmres_cod.csv' }],
  },
  {
    id: 'diverticular_disease',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/diverticular-disease.csv' },
      { file: 'UoM-Data-Science-Platforms+gm-sde@c3b779a/diverticulitis.snomed.txt' },
    ],
    drop: [
      {
        why: 'diverticular disease of the small intestine, duodenum, caecum and pharynx (Cassell: of the intestine, as large-bowel disease)',
        codes: [
          '1086111000119105',
          '1086151000119106',
          '1086191000119101',
          '1086231000119105',
          '1086241000119101',
          '1086281000119106',
          '1086291000119109',
          '1086331000119103',
          '1086441000119100',
          '1086461000119101',
          '1086481000119105',
          '1086491000119108',
          '1197699002',
          '2091005',
          '445162006',
          '48241004',
          '721646008',
          '722845008',
          '722846009',
          '733150001',
        ],
      },
    ],
  },
  {
    id: 'epilepsy',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-epil_cod.csv' },
      { file: 'opensafely+deaths-at-home-covid19@96ebf31/nhsd-primary-care-domain-refsets-epil_cod.csv' },
    ],
  },
  {
    id: 'hearing_loss',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/hearing-loss.csv' },
      { file: 'UoM-Data-Science-Platforms+gm-sde/efi-hearing-loss.snomed.txt' },
    ],
    drop: [
      {
        why: 'hearing devices, referrals and dissociative concepts mapped into the source list',
        codes: [
          '162341001',
          '164750000',
          '183839009',
          '183854003',
          '268363004',
          '272182005',
          '275729001',
          '276299000',
          '44376007',
          '469161000000101',
          '6012004',
        ],
      },
    ],
  },
  {
    id: 'heart_failure',
    from: [{ file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-hf_cod.csv' }],
  },
  {
    id: 'hypertension',
    from: [{ file: 'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-hyp_cod.csv' }],
  },
  {
    id: 'inflammatory_bowel_disease',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-crohns-disease-codes.csv' },
      {
        file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-ulcerative-colitis-uc-codes.csv',
      },
    ],
  },
  {
    id: 'irritable_bowel_syndrome',
    from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/irritable-bowel-syndrome.csv' }],
  },
  {
    id: 'learning_disability',
    from: [
      { file: 'opensafely+ADHD-Pre-and-Post-Covid/nhsd-primary-care-domain-refsets-ld_cod.csv' },
      { file: 'opensafely+ckd-coverage-ve@b48834b/nhsd-primary-care-domain-refsets-ld_cod.csv' },
    ],
  },
  {
    id: 'multiple_sclerosis',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-multiple-sclerosis-codes.csv' },
    ],
  },
  {
    id: 'parkinsons_disease',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/parkinsons-disease.csv' },
      { file: 'UoM-Data-Science-Platforms+gm-sde/efi-parkinsons.snomed.txt' },
    ],
    drop: [
      {
        why: "tremor, signs and drug reactions (not Parkinson's disease)",
        codes: [
          '163672003',
          '163681009',
          '230226000',
          '248149005',
          '248208000',
          '250053004',
          '26079004',
          '268964003',
          '271704002',
          '283875005',
          '292258003',
          '292266007',
          '292269000',
          '292409004',
          '292527003',
          '292535000',
          '292542000',
          '304535004',
          '308909003',
          '312991009',
          '38523005',
          '390141000000101',
          '396511000000105',
          '408581000000109',
          '4223005',
          '427441000000108',
          '430136001',
          '447011000000104',
          '447741000000101',
          '471011000000107',
          '477761000000101',
          '477771000000108',
          '76349003',
          '80098002',
        ],
      },
    ],
  },
  {
    id: 'peripheral_vascular_disease',
    from: [{ file: 'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-pad_cod.csv' }],
  },
  {
    id: 'prostate_disorders',
    from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/benign-prostatic-hyperplasia.csv' }],
  },
  {
    id: 'psoriasis_eczema',
    from: [
      {
        file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-adult-and-child-psoriasis-codes.csv',
      },
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-atopic-dermatitis-codes.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/psoriasis.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/dermatitis.csv', keep: /eczema/i },
    ],
    drop: [
      {
        why: 'psoriatic arthritis counts as an inflammatory polyarthropathy',
        onLists: ['rheumatoid_arthritis'],
      },
    ],
  },
  {
    id: 'rheumatoid_arthritis',
    from: [
      {
        file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-rheumatoid-arthritis-disorders.csv',
      },
      { file: 'annalhead+CPRD_multimorbidity_codelists/rheumatoid-arthritis.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/psoriatic-arthritis.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/ankylosing-spondylitis.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/enteropathic-arthropathy.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/lupus-erythematosus.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/sjogrens-syndrome.csv' },
      { file: 'annalhead+CPRD_multimorbidity_codelists/scleroderma.csv' },
    ],
  },
  {
    id: 'schizophrenia_bipolar',
    from: [{ file: 'opensafely+deaths-at-home-covid19/nhsd-primary-care-domain-refsets-mh_cod.csv' }],
  },
  {
    id: 'stroke_tia',
    from: [
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-strk_cod.csv' },
      { file: 'opensafely+disease_incidence/nhsd-primary-care-domain-refsets-tia_cod.csv' },
    ],
  },
  {
    id: 'substance_misuse',
    from: [{ file: 'annalhead+CPRD_multimorbidity_codelists/substance-misuse.csv' }],
    drop: [{ why: 'alcohol misuse counts as alcohol problems', onLists: ['alcohol_problems'] }],
  },
  {
    id: 'thyroid_disorders',
    from: [
      { file: 'annalhead+CPRD_multimorbidity_codelists/thyroid-disease.csv' },
      { file: 'opensafely+os-sch-children-2021@53857fa/nhsd-primary-care-domain-refsets-thy_cod.csv' },
    ],
  },

  // eFI-style deficits (an open re-derivation of Clegg et al.'s deficits, not the eFI).
  {
    id: 'efi_activity_limitation',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-activity-limitation.snomed.txt' }],
  },
  {
    id: 'efi_anaemia',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-anaemia.snomed.txt' }],
    drop: [
      {
        why: 'non-anaemia concepts mapped into the source list',
        codes: ['128846006', '128847002', '128848007', '197284004', '221231000000105', '221241000000101'],
      },
    ],
  },
  {
    id: 'efi_arthritis',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-arthritis.snomed.txt' }],
    drop: [{ why: 'a broad history code', codes: ['267004000'] }],
  },
  {
    id: 'efi_chronic_kidney_disease',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-ckd.snomed.txt' }],
    drop: [{ why: 'generic diabetes codes', codes: ['190388001', '73211009'] }],
  },
  {
    id: 'efi_diabetes',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-diabetes.snomed.txt' }],
    drop: [{ why: 'non-specific codes', codes: ['19429009', '37231002', '408475000', '412777005'] }],
  },
  { id: 'efi_dizziness', from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-dizziness.snomed.txt' }] },
  { id: 'efi_dyspnoea', from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-dyspnoea.snomed.txt' }] },
  { id: 'efi_falls', from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-falls.snomed.txt' }] },
  {
    id: 'efi_foot_problems',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-foot-problems.snomed.txt' }],
  },
  {
    id: 'efi_fragility_fracture',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-fragility-fracture.snomed.txt' }],
    drop: [{ why: 'codes that record no fracture', codes: ['208892001', '64859006'] }],
  },
  {
    id: 'efi_hearing_impairment',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-hearing-loss.snomed.txt' }],
    drop: [
      {
        why: 'dissociative-disorder concepts mapped into the source list',
        codes: ['276299000', '44376007', '469161000000101'],
      },
    ],
  },
  {
    id: 'efi_heart_valve_disease',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-heart-valve-disease.snomed.txt' }],
  },
  { id: 'efi_housebound', from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-housebound.snomed.txt' }] },
  {
    id: 'efi_hypotension_syncope',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-hypotension.snomed.txt' }],
    drop: [{ why: 'procedure codes', codes: ['241727003', '307280005'] }],
  },
  {
    id: 'efi_memory_cognitive_problems',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-cognitive-problems.snomed.txt' }],
  },
  {
    id: 'efi_mobility_transfer_problems',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-mobility-problems.snomed.txt' }],
  },
  {
    id: 'efi_parkinsonism_tremor',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-parkinsons.snomed.txt' }],
    drop: [{ why: 'non-specific codes', codes: ['230226000', '283875005', '292258003', '447741000000101'] }],
  },
  {
    id: 'efi_peptic_ulcer',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-peptic-ulcer.snomed.txt' }],
    drop: [
      {
        why: 'non-specific codes',
        codes: ['16453004', '266997008', '302914006', '309215004', '480281000000106'],
      },
    ],
  },
  {
    id: 'efi_requirement_for_care',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-care-requirement.snomed.txt' }],
  },
  {
    id: 'efi_respiratory_disease',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-respiratory-disease.snomed.txt' }],
    drop: [
      {
        why: 'symptoms (cough) and asthma or COPD review and management codes, which record no disease',
        codes: [
          '10692681000119108',
          '110011000000107',
          '11833005',
          '134380003',
          '161923004',
          '161925006',
          '170631002',
          '170632009',
          '170633004',
          '170634005',
          '170635006',
          '170636007',
          '170637003',
          '170638008',
          '170642006',
          '170647000',
          '170654006',
          '170655007',
          '170656008',
          '170657004',
          '170658009',
          '176711000000100',
          '182726007',
          '182727003',
          '182728008',
          '182729000',
          '182730005',
          '182731009',
          '185729009',
          '185730004',
          '185735009',
          '198401000000104',
          '198411000000102',
          '201031000000108',
          '201041000000104',
          '201051000000101',
          '201191000000108',
          '201201000000105',
          '201211000000107',
          '201341000000101',
          '218973009',
          '219036002',
          '24461000000105',
          '292495000',
          '292540008',
          '292545003',
          '292548001',
          '292601005',
          '292615007',
          '292617004',
          '302220000',
          '302331000000106',
          '307580006',
          '313149002',
          '314980001',
          '340891000000106',
          '340901000000107',
          '340911000000109',
          '340921000000103',
          '340931000000101',
          '366874008',
          '370202007',
          '370203002',
          '370204008',
          '370205009',
          '370206005',
          '370207001',
          '370208006',
          '370210008',
          '370225008',
          '370226009',
          '371611000000107',
          '373899003',
          '374591000000101',
          '390798007',
          '390872009',
          '390877003',
          '390878008',
          '390940007',
          '390941006',
          '392391000000105',
          '395022009',
          '400987003',
          '401135008',
          '412775002',
          '412776001',
          '413845009',
          '414087000',
          '414882007',
          '443117005',
          '443450003',
          '445531003',
          '447741000000101',
          '46802002',
          '49727002',
          '498061000000106',
          '523661000000105',
          '523671000000103',
          '527171000000103',
          '527191000000104',
          '527211000000100',
          '527231000000108',
          '68154008',
          '698509001',
          '699191007',
          '704121003',
          '704123000',
          '708358003',
          '708373002',
          '711442001',
          '716281000000103',
          '716291000000101',
          '716491000000100',
          '717291000000103',
          '718241000000107',
          '723245007',
          '741056003',
          '753941000000104',
          '754061000000100',
          '763221007',
          '771901000000100',
          '771941000000102',
          '771981000000105',
          '772011000000107',
          '772051000000106',
          '781591000000108',
          '89581000000109',
        ],
      },
    ],
  },
  {
    id: 'efi_skin_ulcer',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-skin-ulcer.snomed.txt' }],
    drop: [
      {
        why: 'codes that are not clinical findings',
        codes: ['15074003', '165257007', '258505006', '264893008', '288198002', '70693003'],
      },
    ],
  },
  {
    id: 'efi_sleep_disturbance',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-sleep-disturbance.snomed.txt' }],
  },
  {
    id: 'efi_social_vulnerability',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-social-vulnerability.snomed.txt' }],
  },
  {
    id: 'efi_thyroid_disease',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-thyroid-disorders.snomed.txt' }],
    drop: [{ why: 'substance and qualifier codes', codes: ['412780006', '65428006'] }],
  },
  {
    id: 'efi_urinary_incontinence',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-urinary-incontinence.snomed.txt' }],
  },
  {
    id: 'efi_urinary_system_disease',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-urinary-system-disease.snomed.txt' }],
  },
  {
    id: 'efi_visual_impairment',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-vision-problems.snomed.txt' }],
    drop: [{ why: 'codes outside the deficit', codes: ['18695008', '247053007', '247063004', '266742006'] }],
  },
  {
    id: 'efi_weight_loss_anorexia',
    from: [{ file: 'UoM-Data-Science-Platforms+gm-sde/efi-weight-loss.snomed.txt' }],
  },
  ...(
    [
      ['efi_atrial_fibrillation', ['deaths-at-home-covid19', 'afib_cod']],
      ['efi_cerebrovascular_disease', ['disease_incidence', 'strk_cod'], ['disease_incidence', 'tia_cod']],
      ['efi_heart_failure', ['disease_incidence', 'hf_cod']],
      ['efi_hypertension', ['deaths-at-home-covid19', 'hyp_cod']],
      ['efi_ischaemic_heart_disease', ['disease_incidence', 'chd_cod']],
      ['efi_osteoporosis', ['disease_incidence', 'osteo_cod']],
      ['efi_peripheral_vascular_disease', ['deaths-at-home-covid19', 'pad_cod']],
    ] as const
  ).map(([id, ...refsets]) => ({
    id,
    from: refsets.map(([repo, name]) => ({
      file: `opensafely+${repo}/nhsd-primary-care-domain-refsets-${name}.csv`,
    })),
  })),

  // Medicines: every BNF chemical substance under the named BNF sections or paragraphs.
  ...(
    [
      ['med_analgesics', ['0407010', '0407020']],
      ['med_antidepressants', ['0403']],
      ['med_anxiolytics_hypnotics', ['040101', '040102']],
      ['med_antiepileptics', ['040801']],
      ['med_antimigraine', ['040704']],
      ['med_asthma_inhalers', ['0301', '0302', '0303']],
      ['med_ibs_antispasmodics', ['010200']],
      ['med_laxatives', ['0106']],
      ['med_psoriasis_eczema', ['1304', '1305']],
    ] as const
  ).map(([id, prefixes]) => ({
    id,
    from: [{ file: 'nhsbsa-bnf/bnf-chemical-substances.csv', bnfPrefixes: [...prefixes] }],
    drop: id === 'med_analgesics' ? [ANALGESICS_SOLD_OVER_THE_COUNTER] : [],
  })),
  {
    id: 'med_lithium',
    from: [{ file: 'nhsbsa-bnf/bnf-chemical-substances.csv', bnfPrefixes: ['040203'], keep: /^lithium/i }],
  },
];

/** Published codes near a condition's list that must not mark it (here: the QOF "resolved"
 * codes of conditions counted without one), beside the drops marked `nearMiss`. */
export const nearMisses: { list: string; file: string; why: string }[] = [
  ['asthma', 'astres_cod', 'asthma resolved'],
  ['copd', 'copdres_cod', 'COPD resolved'],
  ['depression_anxiety', 'depres_cod', 'depression resolved'],
  ['epilepsy', 'epilres_cod', 'epilepsy resolved'],
  ['heart_failure', 'hfres_cod', 'heart failure resolved'],
].map(([list, name, why]) => ({
  list: list!,
  file: `opensafely+disease_incidence/nhsd-primary-care-domain-refsets-${name}.csv`,
  why: why!,
}));
