// What strata does, in order. Each stage names the SQL it runs (in sql/) and the tables of
// the work database it reads (made by earlier stages) and writes (creates or replaces):
// test/stages.test.ts checks both against what each stage really does. TypeScript steps do
// what SQL cannot (reading files, fitting the models, writing and publishing files: the
// summary says which). `strata run`, `strata validate` and the tests walk this list.
import type { Stage } from '../src/stage.ts';
import { ingestStage, quarantineUnregisteredPractices } from '../src/ingest-stage.ts';
import { prepareStaging } from '../src/rule-tables.ts';
import { fitModels } from '../src/cost-model.ts';
import {
  commissionerStep,
  dashboardStep,
  modelCardStep,
  practiceListsStep,
  reportStep,
} from '../src/outputs.ts';
import { attachCommissionerTables } from '../src/dashboard.ts';
import { updateHistory } from '../src/history.ts';
import { publishRun, retentionStep } from '../src/publish.ts';
import { recordDataQuality } from '../src/data-quality.ts';
import { recordAttrition } from '../src/attrition.ts';
import { loadComparedLists, summariseListChanges } from '../src/list-changes.ts';

export const stages: Stage[] = [
  {
    name: 'ingest',
    summary: 'read every delivery file with the contract types; every line loaded or rejected with a reason',
    reads: [],
    writes: [
      'delivery_file',
      'raw_activity',
      'raw_lsoa',
      'raw_medications',
      'raw_observations',
      'raw_patients',
      'raw_practices',
      'rejected_line',
    ],
    sql: [],
    run: ingestStage,
    // The as-of date is the extract date unless the run was given one.
    after: async (ctx) => {
      ctx.asOf ||= ctx.ingest!.delivery.manifest.extract_date;
    },
  },
  {
    name: 'registrations',
    summary:
      'the reference lists and every registration staged; a practice none of whose registrations can be used is quarantined',
    reads: ['delivery_file', 'raw_lsoa', 'raw_patients', 'raw_practices'],
    writes: [
      'attrition_step',
      'care_context_rule',
      'codelist',
      'condition_rule',
      'deficit_rule',
      'dropped_row',
      'frailty_severity',
      'hfrs_points',
      'invalid_snomed',
      'reference_date',
      'service_ratio',
      'stg_lsoa',
      'stg_patient',
      'stg_practice',
      'stg_registration',
      'unit_cost',
    ],
    before: prepareStaging,
    sql: ['staging/reference.sql', 'staging/resent.sql', 'staging/patients.sql'],
    after: quarantineUnregisteredPractices,
  },
  {
    name: 'staging',
    summary:
      'one clean model per input: duplicates, resent files, bad codes, impossible dates and numbers dropped and counted',
    reads: [
      'delivery_file',
      'dropped_row',
      'invalid_snomed',
      'raw_activity',
      'raw_medications',
      'raw_observations',
      'stg_patient',
      'stg_practice',
      'unit_cost',
    ],
    writes: [
      'activity_copy',
      'activity_drop',
      'data_quality_by_practice',
      'medication_copy',
      'medication_drop',
      'observation_code_validity',
      'observation_copy',
      'observation_drop',
      'stg_activity',
      'stg_medication',
      'stg_observation',
    ],
    sql: [
      'staging/observations.sql',
      'staging/medications.sql',
      'staging/activity.sql',
      'marts/data_quality.sql',
    ],
    after: recordDataQuality,
  },
  {
    name: 'conditions',
    summary:
      'the eligible population on each reference date and the 36 chronic conditions, from the declared rules',
    reads: [
      'care_context_rule',
      'codelist',
      'condition_rule',
      'deficit_rule',
      'frailty_severity',
      'reference_date',
      'stg_activity',
      'stg_lsoa',
      'stg_medication',
      'stg_observation',
      'stg_patient',
      'stg_practice',
      'stg_registration',
    ],
    writes: [
      'activity_coverage',
      'listed_observation',
      'medication_window',
      'patient_condition',
      'patient_condition_set',
      'population',
    ],
    sql: [
      'intermediate/reference_dates.sql',
      'intermediate/population.sql',
      'intermediate/listed_events.sql',
      'intermediate/conditions.sql',
    ],
  },
  {
    name: 'frailty',
    summary:
      'eFI-style deficits and category, coded frailty, Hospital Frailty Risk Score, and which rules fired',
    reads: [
      'codelist',
      'deficit_rule',
      'frailty_severity',
      'hfrs_points',
      'listed_observation',
      'medication_window',
      'population',
      'reference_date',
      'stg_activity',
    ],
    writes: ['patient_deficit', 'patient_drugs', 'patient_frailty'],
    sql: ['intermediate/frailty.sql'],
  },
  {
    name: 'care context',
    summary:
      'palliative care register, care home, housebound and carer from the latest published codes; recent emergency discharges',
    reads: ['care_context_rule', 'listed_observation', 'population', 'stg_activity'],
    writes: ['patient_care_context'],
    sql: ['intermediate/care_context.sql'],
  },
  {
    name: 'cost model',
    summary:
      'features on each reference date; cost and admission models fitted a year back, backtested, applied today',
    reads: [
      'activity_coverage',
      'listed_observation',
      'medication_copy',
      'medication_window',
      'medication_drop',
      'observation_copy',
      'observation_drop',
      'patient_condition_set',
      'patient_drugs',
      'patient_frailty',
      'population',
      'raw_medications',
      'raw_observations',
      'reference_date',
      'stg_activity',
      'stg_medication',
      'stg_observation',
      'stg_practice',
    ],
    writes: [
      'history_window',
      'patient_activity',
      'patient_features',
      'patient_next_year',
      'patient_prediction',
      'patient_record',
    ],
    sql: [
      'intermediate/risk_tier.sql',
      'intermediate/release_staged.sql',
      'intermediate/activity_history.sql',
      'intermediate/features.sql',
    ],
    after: fitModels,
  },
  {
    name: 'cohorts',
    summary: 'one row per eligible patient: the three cohorts, risk tier and the reasons for each',
    reads: [
      'attrition_step',
      'patient_activity',
      'patient_care_context',
      'patient_condition_set',
      'patient_frailty',
      'patient_prediction',
      'population',
      'stg_practice',
      'stg_registration',
    ],
    writes: ['attrition', 'organisation', 'patient_list'],
    sql: ['intermediate/organisation.sql', 'marts/patient_list.sql', 'marts/attrition.sql'],
    after: recordAttrition,
  },
  {
    name: 'commissioner cells',
    summary:
      'the groups each adult is in, and the exact figures for every organisation, group and breakdown: nothing published yet',
    reads: ['organisation', 'patient_list'],
    writes: [
      'cohort_adult',
      'cohort_group',
      'cohort_group_definition',
      'cohort_profile_group',
      'commissioner_cell',
    ],
    sql: ['marts/cohort_groups.sql', 'marts/commissioner_cells.sql'],
  },
  {
    name: 'list changes',
    summary: "who joined or left a cohort or tier at each practice since the compared run's lists, and why",
    reads: ['patient_list', 'stg_patient'],
    writes: ['list_change', 'list_left', 'previous_list'],
    before: loadComparedLists,
    sql: ['marts/list_changes.sql'],
    after: summariseListChanges,
  },
  {
    name: 'practice lists',
    summary: "each practice's own risk-stratified list, in its own folder, and nobody else's patients",
    reads: ['list_change', 'list_left', 'patient_list'],
    writes: [],
    sql: [],
    run: practiceListsStep,
  },
  {
    name: 'commissioner summaries',
    summary:
      'small numbers suppressed, counts and costs rounded, every suppressed cell audited against an attacker; service need from the published counts; the tables written',
    reads: ['attrition', 'cohort_group_definition', 'commissioner_cell', 'organisation', 'service_ratio'],
    writes: [],
    sql: [],
    run: commissionerStep,
  },
  {
    name: 'dashboard feeds',
    summary: 'stable feed files made only from the published commissioner tables and the line counts',
    reads: ['data_quality_by_practice'],
    writes: [
      'dashboard_age_sex_pyramid',
      'dashboard_attrition',
      'dashboard_cohorts_by_org',
      'dashboard_data_quality_by_practice',
      'dashboard_deprivation_gradient',
      'dashboard_service_need',
      'dashboard_tier_pyramid',
    ],
    before: attachCommissionerTables,
    sql: ['marts/dashboard_feeds.sql'],
    after: dashboardStep,
  },
  {
    name: 'report',
    summary: 'the HTML report for commissioners, from the feeds and the history of published runs',
    reads: [],
    writes: [],
    sql: [],
    run: reportStep,
  },
  {
    name: 'model card',
    summary: "the models' intended use, periods, features, backtest figures and limits",
    reads: [],
    writes: [],
    sql: [],
    run: modelCardStep,
  },
  {
    name: 'publish',
    summary:
      'check the run folder, write the manifest with content hashes, rename it into place, switch latest',
    reads: [],
    writes: [],
    sql: [],
    run: publishRun,
  },
  {
    name: 'history',
    summary:
      "copy the published run's dashboard feeds into OUT/history, replacing its as-of date's partition",
    reads: [],
    writes: [],
    sql: [],
    run: async (ctx) => ({ history: updateHistory(ctx) }),
  },
  {
    name: 'retention',
    summary: 'remove published runs beyond the number kept, never the latest',
    reads: [],
    writes: [],
    sql: [],
    run: retentionStep,
  },
];
