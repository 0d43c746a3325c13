// The dashboard feeds, declared once: their names, grains and columns. The writers
// (src/dashboard.ts), the history of earlier runs (src/history.ts), the README of the
// dashboard folder and the golden schema file all read this declaration.

/** Goes up whenever a feed's columns change, so a dashboard can tell which layout it reads. */
export const FEED_SCHEMA_VERSION = 1;

export type FeedType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'DATE';

export interface FeedColumn {
  name: string;
  type: FeedType;
  nullable: boolean;
  about: string;
}

export interface Feed {
  name: string;
  grain: string;
  about: string;
  columns: FeedColumn[];
}

const col = (name: string, type: FeedType, about: string, nullable = false): FeedColumn => ({
  name,
  type,
  nullable,
  about,
});

const RUN_COLUMNS: FeedColumn[] = [
  col('schema_version', 'INTEGER', `version of this feed's columns (now ${FEED_SCHEMA_VERSION})`),
  col('run_id', 'VARCHAR', 'the strata run that made the row'),
  col('as_of', 'DATE', 'the as-of date of the run: registrations, cohorts and costs are on this date'),
];

const ORG_COLUMNS: FeedColumn[] = [
  col('level', 'VARCHAR', 'practice, pcn, place or system'),
  col('level_order', 'INTEGER', '1 practice, 2 PCN, 3 place, 4 system'),
  col('org_code', 'VARCHAR', 'ODS code of the practice or PCN; name of the place; code of the system'),
  col('org_name', 'VARCHAR', 'name of the organisation'),
];

const GROUP_COLUMNS: FeedColumn[] = [
  col('group_type', 'VARCHAR', 'cohort, combination (exclusive), tier or all (all adults)'),
  col('cohort', 'VARCHAR', 'the group: multimorbidity, frailty, high cost, any cohort, all adults...'),
  col('group_order', 'INTEGER', 'natural order of the groups'),
];

const MEASURE_COLUMNS: FeedColumn[] = [
  col('patients', 'BIGINT', 'people, rounded to the nearest 5; empty when suppressed', true),
  col(
    'observed_cost_12m',
    'BIGINT',
    'secondary-care cost in the 12 months to the as-of date, GBP; empty when suppressed',
    true,
  ),
  col(
    'predicted_cost_12m',
    'BIGINT',
    'predicted cost for the next 12 months, GBP; empty when suppressed',
    true,
  ),
  col('suppressed', 'BOOLEAN', 'true when the count is hidden by disclosure control (1 to 7, or secondary)'),
];

export const FEEDS: readonly Feed[] = [
  {
    name: 'cohorts_by_org',
    grain: 'one row per organisation per group',
    about:
      'People and attributable cost by organisation for each cohort, any cohort, the seven exclusive combinations, no cohort and all adults.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('pcn_code', 'VARCHAR', 'PCN of a practice or PCN row', true),
      col('place', 'VARCHAR', 'place of a practice, PCN or place row', true),
      ...GROUP_COLUMNS,
      ...MEASURE_COLUMNS,
      col(
        'patients_per_1000_adults',
        'DOUBLE',
        'patients per 1,000 adults of the organisation, from the rounded counts; empty when either is suppressed',
        true,
      ),
    ],
  },
  {
    name: 'tier_pyramid',
    grain: 'one row per organisation per risk tier',
    about: 'The risk pyramid: adults in each tier of predicted cost, with their cost and shares.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('tier', 'VARCHAR', 'very high, high, moderate or low'),
      col('tier_order', 'INTEGER', '1 very high (top of the pyramid) to 4 low'),
      ...MEASURE_COLUMNS,
      col(
        'share_of_adults',
        'DOUBLE',
        "the tier's share of the organisation's adults (0-1), from rounded counts; empty when suppressed",
        true,
      ),
      col(
        'share_of_predicted_cost',
        'DOUBLE',
        "the tier's share of the organisation's predicted cost (0-1); empty when suppressed",
        true,
      ),
    ],
  },
  {
    name: 'age_sex_pyramid',
    grain: 'one row per organisation per cohort (and all adults) per age band per sex',
    about: 'Who is in each cohort, by age band and sex.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      ...GROUP_COLUMNS,
      col('age_band', 'VARCHAR', 'age band on the as-of date: 18-44, 45-64, 65-74, 75-84, 85+'),
      col('sex', 'VARCHAR', 'F or M'),
      ...MEASURE_COLUMNS,
    ],
  },
  {
    name: 'deprivation_gradient',
    grain: 'one row per organisation per cohort (and all adults) per deprivation quintile',
    about:
      'Each cohort by deprivation quintile of the area of residence (IMD; 1 = most deprived, unknown = no area).',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      ...GROUP_COLUMNS,
      col('imd_quintile', 'VARCHAR', '1 (most deprived) to 5 (least deprived), or unknown'),
      ...MEASURE_COLUMNS,
      col(
        'patients_per_1000_adults',
        'DOUBLE',
        'patients per 1,000 adults living in the quintile, from rounded counts; empty when either is suppressed',
        true,
      ),
    ],
  },
  {
    name: 'attrition',
    grain: 'one row per organisation per step of the cohort definitions',
    about:
      'How many people each step kept or found, from registration to each cohort: the eligible population comes from here.',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('step_order', 'INTEGER', 'order of the step'),
      col('step', 'VARCHAR', 'what the step counts'),
      col('patients', 'BIGINT', 'people, rounded to the nearest 5; empty when suppressed', true),
      col('suppressed', 'BOOLEAN', 'true when the count is hidden by disclosure control'),
    ],
  },
  {
    name: 'service_need',
    grain: 'one row per PCN, place and system per service',
    about:
      'Caseload estimates for the services that respond to the cohorts, from the published counts and the configured ratios (commissioner/README.txt names their sources).',
    columns: [
      ...RUN_COLUMNS,
      ...ORG_COLUMNS,
      col('pcn_code', 'VARCHAR', 'the PCN of a PCN row', true),
      col('place', 'VARCHAR', 'place of a PCN or place row', true),
      col('service', 'VARCHAR', 'the service'),
      col('service_order', 'INTEGER', 'order of the services'),
      col('cohorts', 'VARCHAR', 'the published groups the service responds to, joined by " + "'),
      col(
        'cohort_patients',
        'BIGINT',
        'people in those groups: the sum of their published (rounded) counts; empty when any is suppressed',
        true,
      ),
      col('share_needing', 'DOUBLE', 'share of those people who need the service in a year (configuration)'),
      col(
        'people_needing',
        'BIGINT',
        'cohort_patients times share_needing, rounded; empty when suppressed',
        true,
      ),
      col('caseload_per_wte', 'DOUBLE', 'people one whole-time worker carries in a year (configuration)'),
      col('wte', 'DOUBLE', 'whole-time equivalents: people_needing over caseload_per_wte, 1 decimal', true),
      col('suppressed', 'BOOLEAN', 'true when a group the service responds to is suppressed'),
    ],
  },
  {
    name: 'data_quality_by_practice',
    grain: 'one row per practice in the delivery',
    about:
      "Lines in each practice's files and what became of them. These count lines, not people, so disclosure control does not apply.",
    columns: [
      ...RUN_COLUMNS,
      col('practice_code', 'VARCHAR', 'ODS code of the practice'),
      col('practice_name', 'VARCHAR', 'name of the practice; empty if it was not processed', true),
      col('pcn_code', 'VARCHAR', 'PCN of the practice; empty if it was not processed', true),
      col('place', 'VARCHAR', 'place of the practice; empty if it was not processed', true),
      col('status', 'VARCHAR', 'loaded, or why the practice was quarantined'),
      col('lines', 'BIGINT', 'data lines in its files'),
      col('loaded', 'BIGINT', 'lines that matched the data contract'),
      col('rejected', 'BIGINT', 'lines refused at load (wrong columns, values that do not cast)'),
      col('dropped', 'BIGINT', 'loaded rows dropped when cleaning (duplicates, bad codes, impossible dates)'),
      col('kept', 'BIGINT', 'rows used'),
      col('share_not_kept', 'DOUBLE', 'share of lines rejected or dropped (0-1)', true),
    ],
  },
];
