// The 36 chronic conditions counted for the multimorbidity cohort, as defined by Cassell et
// al. 2018 (Br J Gen Pract 68:e245, derived from Barnett et al. 2012, Lancet) and implemented
// in the CPRD @ Cambridge code lists and their rules (the condition set, the prescription
// routes, windows and counts). One declaration per condition; the generic SQL in
// sql/intermediate/conditions.sql evaluates them, so adding a condition means adding a
// declaration and its codelists, never new SQL.
//
// A condition is present on the as-of date when any of its criteria holds and no
// `resolved` code is recorded after the latest qualifying diagnosis code. Where strata
// departs from the published definition, the declaration says so in `deviation`; the
// practice lists' README and the model card repeat it.

export type Criterion =
  /** A diagnosis code on or before the as-of date (`withinMonths`: only in that window). */
  | { kind: 'diagnosis'; codelist: string; withinMonths?: number; firstWithinMonths?: number }
  /** Diagnosis ever, plus `minIssues` (default 1) issues of the treatment within the window. */
  | { kind: 'treated'; codelist: string; medication: string; withinMonths: number; minIssues?: number }
  /** At least `minIssues` issues of a drug class within the window, and, with `unlessDiagnosed`,
   * no code from that list ever (anti-epileptics count as analgesia only without epilepsy). */
  | {
      kind: 'prescriptions';
      medication: string;
      minIssues: number;
      withinMonths: number;
      unlessDiagnosed?: string;
    };

export interface ConditionDeclaration {
  id: string;
  name: string;
  criteria: Criterion[];
  /** Codes that end the condition when recorded after the latest diagnosis code. */
  resolved?: string;
  /** How strata's rule differs from Cassell et al. 2018, and why. */
  deviation?: string;
  /** Age-specific prevalence the synthetic generator aims at (share of patients). */
  prevalence: { under45: number; from45to64: number; from65to74: number; over75: number };
}

const ever = (codelist: string) => ({ kind: 'diagnosis', codelist }) as const;
/** 4 or more issues in the last 12 months: Cassell's prescription route. */
const fourIssues = (medication: string, unlessDiagnosed?: string) =>
  ({
    kind: 'prescriptions',
    medication,
    minIssues: 4,
    withinMonths: 12,
    ...(unlessDiagnosed ? { unlessDiagnosed } : {}),
  }) as const;
const QOF_RESOLVED =
  'a QOF "resolved" code recorded after the latest diagnosis ends the condition (Cassell counts a code ever); strata follows the QOF register, which practices keep';

export const conditions: ConditionDeclaration[] = [
  {
    id: 'alcohol_problems',
    name: 'Alcohol problems',
    criteria: [ever('alcohol_problems')],
    prevalence: p(0.02, 0.03, 0.025, 0.015),
  },
  {
    id: 'anorexia_bulimia',
    name: 'Anorexia or bulimia',
    criteria: [ever('anorexia_bulimia')],
    prevalence: p(0.006, 0.004, 0.002, 0.001),
  },
  {
    id: 'asthma',
    name: 'Asthma (currently treated)',
    criteria: [{ kind: 'treated', codelist: 'asthma', medication: 'med_asthma_inhalers', withinMonths: 12 }],
    prevalence: p(0.06, 0.06, 0.06, 0.05),
  },
  {
    id: 'atrial_fibrillation',
    name: 'Atrial fibrillation',
    criteria: [ever('atrial_fibrillation')],
    prevalence: p(0.002, 0.015, 0.06, 0.13),
  },
  {
    id: 'blindness_low_vision',
    name: 'Blindness and low vision',
    criteria: [ever('blindness_low_vision')],
    prevalence: p(0.002, 0.005, 0.01, 0.04),
  },
  {
    id: 'bronchiectasis',
    name: 'Bronchiectasis',
    criteria: [ever('bronchiectasis')],
    prevalence: p(0.001, 0.004, 0.008, 0.01),
  },
  {
    id: 'cancer',
    name: 'Cancer (first diagnosed in the last 5 years)',
    criteria: [{ kind: 'diagnosis', codelist: 'cancer', firstWithinMonths: 60 }],
    prevalence: p(0.004, 0.025, 0.06, 0.09),
  },
  {
    id: 'ckd_3_5',
    name: 'Chronic kidney disease (stage 3-5)',
    criteria: [ever('ckd_3_5')],
    resolved: 'ckd_resolved',
    deviation:
      'Cassell counts the better of the last two eGFR results below 60; strata counts the CKD stage 3-5 codes (QOF CKD register), because deliveries do not yet carry eGFR results reliably; ' +
      QOF_RESOLVED,
    prevalence: p(0.002, 0.02, 0.08, 0.25),
  },
  {
    id: 'chronic_liver_disease',
    name: 'Chronic liver disease and viral hepatitis',
    criteria: [ever('chronic_liver_disease')],
    prevalence: p(0.003, 0.008, 0.008, 0.006),
  },
  {
    id: 'chronic_sinusitis',
    name: 'Chronic sinusitis',
    criteria: [ever('chronic_sinusitis')],
    prevalence: p(0.008, 0.012, 0.012, 0.01),
  },
  {
    id: 'constipation',
    name: 'Constipation (4+ laxative prescriptions in 12 months)',
    criteria: [fourIssues('med_laxatives')],
    prevalence: p(0.01, 0.025, 0.06, 0.12),
  },
  { id: 'copd', name: 'COPD', criteria: [ever('copd')], prevalence: p(0.002, 0.03, 0.08, 0.1) },
  {
    id: 'coronary_heart_disease',
    name: 'Coronary heart disease',
    criteria: [ever('coronary_heart_disease')],
    prevalence: p(0.002, 0.03, 0.1, 0.18),
  },
  { id: 'dementia', name: 'Dementia', criteria: [ever('dementia')], prevalence: p(0, 0.002, 0.02, 0.1) },
  {
    id: 'depression_anxiety',
    name: 'Depression or anxiety',
    criteria: [
      { kind: 'diagnosis', codelist: 'depression_anxiety', withinMonths: 12 },
      fourIssues('med_antidepressants'),
      fourIssues('med_anxiolytics_hypnotics'),
    ],
    prevalence: p(0.11, 0.12, 0.09, 0.09),
  },
  {
    id: 'diabetes',
    name: 'Diabetes',
    criteria: [ever('diabetes')],
    resolved: 'diabetes_resolved',
    deviation: QOF_RESOLVED,
    prevalence: p(0.015, 0.09, 0.16, 0.18),
  },
  {
    id: 'diverticular_disease',
    name: 'Diverticular disease',
    criteria: [ever('diverticular_disease')],
    prevalence: p(0.003, 0.03, 0.07, 0.1),
  },
  {
    id: 'epilepsy',
    name: 'Epilepsy (currently treated)',
    criteria: [{ kind: 'treated', codelist: 'epilepsy', medication: 'med_antiepileptics', withinMonths: 12 }],
    prevalence: p(0.006, 0.008, 0.008, 0.008),
  },
  {
    id: 'hearing_loss',
    name: 'Hearing loss',
    criteria: [ever('hearing_loss')],
    prevalence: p(0.01, 0.05, 0.12, 0.25),
  },
  {
    id: 'heart_failure',
    name: 'Heart failure',
    criteria: [ever('heart_failure')],
    prevalence: p(0.0005, 0.006, 0.025, 0.08),
  },
  {
    id: 'hypertension',
    name: 'Hypertension',
    criteria: [ever('hypertension')],
    resolved: 'hypertension_resolved',
    deviation: QOF_RESOLVED,
    prevalence: p(0.03, 0.2, 0.4, 0.55),
  },
  {
    id: 'inflammatory_bowel_disease',
    name: 'Inflammatory bowel disease',
    criteria: [ever('inflammatory_bowel_disease')],
    prevalence: p(0.005, 0.008, 0.008, 0.007),
  },
  {
    id: 'irritable_bowel_syndrome',
    name: 'Irritable bowel syndrome',
    criteria: [ever('irritable_bowel_syndrome'), fourIssues('med_ibs_antispasmodics')],
    prevalence: p(0.04, 0.05, 0.04, 0.035),
  },
  {
    id: 'learning_disability',
    name: 'Learning disability',
    criteria: [ever('learning_disability')],
    prevalence: p(0.005, 0.004, 0.003, 0.002),
  },
  {
    id: 'migraine',
    name: 'Migraine (4+ anti-migraine prescriptions in 12 months)',
    criteria: [fourIssues('med_antimigraine')],
    prevalence: p(0.01, 0.012, 0.005, 0.002),
  },
  {
    id: 'multiple_sclerosis',
    name: 'Multiple sclerosis',
    criteria: [ever('multiple_sclerosis')],
    prevalence: p(0.002, 0.004, 0.003, 0.002),
  },
  {
    id: 'painful_condition',
    name: 'Painful condition (4+ analgesic, or 4+ anti-epileptic without epilepsy, prescriptions in 12 months)',
    criteria: [fourIssues('med_analgesics'), fourIssues('med_antiepileptics', 'epilepsy')],
    deviation:
      'prescription-only analgesics are read as BNF 4.7.1 and 4.7.2 less paracetamol and aspirin alone; the anti-epileptics are all of BNF 4.8.1',
    prevalence: p(0.04, 0.12, 0.2, 0.3),
  },
  {
    id: 'parkinsons_disease',
    name: "Parkinson's disease",
    criteria: [ever('parkinsons_disease')],
    prevalence: p(0, 0.002, 0.008, 0.02),
  },
  {
    id: 'peripheral_vascular_disease',
    name: 'Peripheral vascular disease',
    criteria: [ever('peripheral_vascular_disease')],
    prevalence: p(0.0005, 0.006, 0.02, 0.04),
  },
  {
    id: 'prostate_disorders',
    name: 'Prostate disorders',
    criteria: [ever('prostate_disorders')],
    prevalence: p(0.001, 0.02, 0.07, 0.1),
  },
  {
    id: 'psoriasis_eczema',
    name: 'Psoriasis or eczema (currently treated)',
    criteria: [
      {
        kind: 'treated',
        codelist: 'psoriasis_eczema',
        medication: 'med_psoriasis_eczema',
        withinMonths: 12,
        minIssues: 4,
      },
    ],
    prevalence: p(0.03, 0.03, 0.03, 0.03),
  },
  {
    id: 'substance_misuse',
    name: 'Psychoactive substance misuse',
    criteria: [ever('substance_misuse')],
    prevalence: p(0.012, 0.01, 0.003, 0.001),
  },
  {
    id: 'rheumatoid_arthritis',
    name: 'Rheumatoid arthritis and other inflammatory polyarthropathies',
    criteria: [ever('rheumatoid_arthritis')],
    prevalence: p(0.004, 0.015, 0.025, 0.03),
  },
  {
    id: 'schizophrenia_bipolar',
    name: 'Schizophrenia or bipolar disorder',
    criteria: [
      ever('schizophrenia_bipolar'),
      { kind: 'prescriptions', medication: 'med_lithium', minIssues: 1, withinMonths: 12 },
    ],
    deviation:
      'Cassell counts lithium ever prescribed; strata counts an issue in the last 12 months, as deliveries carry a limited medication history',
    prevalence: p(0.008, 0.01, 0.008, 0.006),
  },
  {
    id: 'stroke_tia',
    name: 'Stroke and TIA',
    criteria: [ever('stroke_tia')],
    prevalence: p(0.002, 0.015, 0.05, 0.1),
  },
  {
    id: 'thyroid_disorders',
    name: 'Thyroid disorders',
    criteria: [ever('thyroid_disorders')],
    prevalence: p(0.02, 0.05, 0.08, 0.1),
  },
];

function p(under45: number, from45to64: number, from65to74: number, over75: number) {
  return { under45, from45to64, from65to74, over75 };
}
