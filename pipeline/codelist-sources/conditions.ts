// The long-term conditions counted towards multimorbidity, each from its published lists.
import type { Derivation } from './types.ts';

const NOT_A_DIAGNOSIS =
  /\((morphologic abnormality|procedure|qualifier value|observable entity|regime\/therapy)\)$/;

export const conditionDerivations: Derivation[] = [
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
];
