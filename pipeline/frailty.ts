// Frailty: the three rules of the frailty marker (domain facts, section 2.2).
//
// The eFI-style deficit score is an open re-derivation of the electronic Frailty Index
// (Clegg et al. 2016, Age Ageing): same 36 deficits and cut-offs, our own SNOMED CT
// codelists. It is labelled "eFI-style" everywhere because it is not the eFI.

export interface DeficitDeclaration {
  id: string;
  name: string;
  /** A code from this list on or before the as-of date marks the deficit. */
  codelist?: string;
  /** Polypharmacy is counted from prescriptions rather than codes: distinct BNF chemical
   * substances from the chapters named (two-digit chapter codes, inclusive). */
  distinctDrugs?: { min: number; withinMonths: number; bnfChapters: { from: string; to: string } };
  /** Share of people aged 65+ with the deficit; the synthetic generator aims at it. */
  prevalence65: number;
}

const d = (id: string, name: string, prevalence65: number): DeficitDeclaration => ({
  id,
  name,
  codelist: `efi_${id}`,
  prevalence65,
});

export const deficits: DeficitDeclaration[] = [
  d('activity_limitation', 'Activity limitation', 0.06),
  d('anaemia', 'Anaemia and haematinic deficiency', 0.15),
  d('arthritis', 'Arthritis', 0.35),
  d('atrial_fibrillation', 'Atrial fibrillation', 0.09),
  d('cerebrovascular_disease', 'Cerebrovascular disease', 0.07),
  d('chronic_kidney_disease', 'Chronic kidney disease', 0.15),
  d('diabetes', 'Diabetes', 0.17),
  d('dizziness', 'Dizziness', 0.12),
  d('dyspnoea', 'Dyspnoea', 0.12),
  d('falls', 'Falls', 0.1),
  d('foot_problems', 'Foot problems', 0.12),
  d('fragility_fracture', 'Fragility fracture', 0.06),
  d('hearing_impairment', 'Hearing impairment', 0.18),
  d('heart_failure', 'Heart failure', 0.05),
  d('heart_valve_disease', 'Heart valve disease', 0.04),
  d('housebound', 'Housebound', 0.03),
  d('hypertension', 'Hypertension', 0.45),
  d('hypotension_syncope', 'Hypotension or syncope', 0.06),
  d('ischaemic_heart_disease', 'Ischaemic heart disease', 0.13),
  d('memory_cognitive_problems', 'Memory and cognitive problems', 0.07),
  d('mobility_transfer_problems', 'Mobility and transfer problems', 0.06),
  d('osteoporosis', 'Osteoporosis', 0.08),
  d('parkinsonism_tremor', 'Parkinsonism and tremor', 0.03),
  d('peptic_ulcer', 'Peptic ulcer', 0.05),
  d('peripheral_vascular_disease', 'Peripheral vascular disease', 0.03),
  {
    id: 'polypharmacy',
    name: 'Polypharmacy (5+ distinct drugs from BNF chapters 1-15 in 12 months)',
    // Clegg et al. 2016: drugs from chapters 1-15, so dressings, appliances and other devices
    // (chapters 19-23) do not count.
    distinctDrugs: { min: 5, withinMonths: 12, bnfChapters: { from: '01', to: '15' } },
    prevalence65: 0.4,
  },
  d('requirement_for_care', 'Requirement for care', 0.04),
  d('respiratory_disease', 'Respiratory disease', 0.15),
  d('skin_ulcer', 'Skin ulcer', 0.04),
  d('sleep_disturbance', 'Sleep disturbance', 0.08),
  d('social_vulnerability', 'Social vulnerability', 0.06),
  d('thyroid_disease', 'Thyroid disease', 0.1),
  d('urinary_incontinence', 'Urinary incontinence', 0.08),
  d('urinary_system_disease', 'Urinary system disease', 0.1),
  d('visual_impairment', 'Visual impairment', 0.15),
  d('weight_loss_anorexia', 'Weight loss and anorexia', 0.05),
];

export const EFI_DEFICIT_COUNT = deficits.length;

/** eFI categories by score (Clegg et al. 2016): fit <= 0.12 < mild <= 0.24 < moderate <= 0.36 < severe. */
export const efiCategories = [
  { category: 'fit', upTo: 0.12 },
  { category: 'mild', upTo: 0.24 },
  { category: 'moderate', upTo: 0.36 },
  { category: 'severe', upTo: Infinity },
] as const;
export type EfiCategory = (typeof efiCategories)[number]['category'];

export function efiCategory(score: number): EfiCategory {
  // Compare deficit counts, not floats: 0.12 * 36 is not exactly representable.
  const count = Math.round(score * EFI_DEFICIT_COUNT);
  for (const c of efiCategories) if (count <= c.upTo * EFI_DEFICIT_COUNT + 1e-9) return c.category;
  return 'severe';
}

/** Coded frailty: the latest severity code within this window counts. */
export const CODED_FRAILTY = {
  withinMonths: 24,
  codelists: { mild: 'frailty_mild', moderate: 'frailty_moderate', severe: 'frailty_severe' },
  markerAt: ['moderate', 'severe'],
} as const;

/** The eFI was validated in people aged 65 and over (Clegg et al. 2016); strata scores every
 * adult, and the outputs say so. */
export const EFI_VALIDATED_FROM_AGE = 65;

/** Hospital Frailty Risk Score (Gilbert et al. 2018, Lancet): diagnoses from admitted-patient
 * spells only (not outpatient or A&E), 5 to 15 intermediate risk, above 15 high risk;
 * validated in people aged 75 and over. */
export const HFRS = {
  withinMonths: 24,
  markerAtLeast: 5,
  bands: { low: 5, high: 15 },
  settings: ['APC_NEL', 'APC_EL', 'APC_DC'],
  validatedFromAge: 75,
} as const;
