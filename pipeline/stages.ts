// What strata does, in order. Each stage names the SQL it runs (in sql/), what it reads
// and what it writes; TypeScript steps do what SQL cannot (reading files, fitting the
// models, publishing). `strata run` walks this list top to bottom.
import type { Stage } from '../src/stage.ts';
import { ingestStage, quarantineUnregisteredPractices } from '../src/ingest-stage.ts';
import { prepareStaging } from '../src/rule-tables.ts';
import { fitModels } from '../src/cost-model.ts';
import { writeOutputs } from '../src/outputs.ts';
import { updateHistory } from '../src/history.ts';
import { publishRun } from '../src/publish.ts';
import { recordDataQuality } from '../src/data-quality.ts';
import { recordAttrition } from '../src/attrition.ts';

export const stages: Stage[] = [
  {
    name: 'ingest',
    summary: 'read every delivery file with the contract types; every line loaded or rejected with a reason',
    reads: ['delivery folder'],
    writes: [
      'delivery_file',
      'raw_practices',
      'raw_lsoa',
      'raw_patients',
      'raw_observations',
      'raw_medications',
      'raw_activity',
      'rejected_line',
    ],
    sql: [],
    run: ingestStage,
  },
  {
    name: 'registrations',
    summary:
      'the reference lists and every registration staged; a practice none of whose registrations can be used is quarantined',
    reads: ['raw_practices', 'raw_lsoa', 'raw_patients', 'delivery_file', 'codelists and rules'],
    writes: ['stg_practice', 'stg_lsoa', 'stg_registration', 'stg_patient', 'dropped_row'],
    before: prepareStaging,
    sql: ['staging/reference.sql', 'staging/resent.sql', 'staging/patients.sql'],
    after: quarantineUnregisteredPractices,
  },
  {
    name: 'staging',
    summary:
      'one clean model per input: duplicates, resent files, bad codes, impossible dates and numbers dropped and counted',
    reads: ['raw_*', 'stg_patient', 'delivery_file', 'codelists and rules'],
    writes: [
      'observation_drop, observation_copy and the view stg_observation (over raw_observations)',
      'medication_drop, medication_copy and the view stg_medication (over raw_medications)',
      'activity_line, activity_copy and the view stg_activity',
      'dropped_row',
      'observation_code_validity',
    ],
    sql: ['staging/observations.sql', 'staging/medications.sql', 'staging/activity.sql'],
    after: recordDataQuality,
  },
  {
    name: 'conditions',
    summary:
      'the eligible population on each reference date and the 36 chronic conditions, from the declared rules',
    reads: ['stg_*', 'codelist', 'condition_rule', 'reference_date'],
    writes: [
      'activity_coverage',
      'reference_date (history dates outside the secondary care removed)',
      'the table macros days_before and days_after',
      'population',
      'listed_observation',
      'listed_medication',
      'patient_condition',
      'patient_condition_set',
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
    reads: ['listed_observation', 'stg_medication', 'stg_activity', 'deficit_rule', 'hfrs_points'],
    writes: ['patient_drugs', 'patient_deficit', 'patient_frailty'],
    sql: ['intermediate/frailty.sql'],
  },
  {
    name: 'cost model',
    summary:
      'features on each reference date; cost and admission models fitted a year back, backtested, applied today',
    reads: ['population', 'patient_condition_set', 'patient_frailty', 'patient_drugs', 'stg_activity'],
    writes: [
      'patient_next_year',
      'patient_activity',
      'history_window',
      'patient_record',
      'patient_features',
      'patient_prediction',
      'model_card',
    ],
    sql: [
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
      'population',
      'patient_condition',
      'patient_condition_set',
      'patient_frailty',
      'patient_features',
      'patient_prediction',
    ],
    writes: ['organisation', 'patient_list', 'attrition'],
    sql: ['intermediate/organisation.sql', 'marts/patient_list.sql', 'marts/attrition.sql'],
    after: recordAttrition,
  },
  {
    name: 'outputs',
    summary: 'practice risk lists, commissioner summaries with disclosure control, dashboard feeds, report',
    reads: ['patient_list', 'stg_practice'],
    writes: ['cohort_summary', 'files in the run folder'],
    sql: ['marts/cohort_groups.sql'],
    after: writeOutputs,
  },
  {
    name: 'publish',
    summary:
      'check the run folder, record content hashes in the manifest, rename it into place, switch latest',
    reads: ['run folder'],
    writes: ['OUT/runs/<run-id>', 'OUT/latest'],
    sql: [],
    run: publishRun,
  },
  {
    name: 'history',
    summary:
      "copy the published run's dashboard feeds into OUT/history, replacing its as-of date's partition",
    reads: ['OUT/runs/<run-id>/dashboard'],
    writes: ['OUT/history/as_of=<date>'],
    sql: [],
    run: async (ctx) => {
      updateHistory(ctx);
    },
  },
];
