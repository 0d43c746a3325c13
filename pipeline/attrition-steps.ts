// The steps of the attrition table, in order: how many people each rule of the cohort
// definitions kept or found, from registration to each cohort (OHDSI style). Labels are built
// from the configuration, so they state the thresholds the run applied. A step that counts
// exactly the people of a commissioner group names that group (`sameAs`): disclosure control
// publishes the two as one figure, hidden or shown together.
import type { Config } from '../src/config.ts';

export interface AttritionStep {
  /** What sql/marts/attrition.sql counts for this step. */
  id: string;
  label: string;
  /** The group in cohort_group_definition counting the same people, if any. */
  sameAs: string | null;
}

export function attritionSteps(c: Config['cohorts']): AttritionStep[] {
  return [
    { id: 'registered', label: 'registered on the as-of date', sameAs: null },
    { id: 'eligible', label: 'eligible (registered and alive)', sameAs: null },
    { id: 'adults', label: 'adults', sameAs: 'all adults' },
    {
      id: 'multimorbidity_rule',
      label: `rule: ${c.multimorbidityMin}+ chronic conditions (adults)`,
      sameAs: 'multimorbidity',
    },
    { id: 'coded_frailty_rule', label: 'rule: coded frailty moderate or severe (adults)', sameAs: null },
    { id: 'efi_rule', label: 'rule: eFI-style moderate or severe (adults)', sameAs: null },
    { id: 'hfrs_rule', label: `rule: HFRS ${c.hfrsMarkerAtLeast} or more (adults)`, sameAs: null },
    {
      id: 'multimorbidity',
      label: `cohort: multimorbidity (${c.multimorbidityMin}+ conditions)`,
      sameAs: 'multimorbidity',
    },
    { id: 'frailty', label: 'cohort: frailty', sameAs: 'frailty' },
    {
      id: 'high_cost',
      label: `cohort: predicted high cost (${c.highCostMultiple}x mean)`,
      sameAs: 'high cost',
    },
    { id: 'any_cohort', label: 'any cohort', sameAs: 'any cohort' },
  ];
}
