// The exact figures behind the commissioner tables and their disclosure control: every cell
// (organisation x group x breakdown, and the attrition steps) read out of commissioner_cell
// once, then suppressed, rounded and audited together with every way the cells add up
// (src/commissioner-sums.ts). Nothing here is published: src/commissioner.ts writes the
// controlled figures out.
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, readColumns, type Row } from './db.ts';
import type { PublishedCell, RawCell, SuppressionRules } from './disclosure.ts';
import { countProtection } from './config.ts';
import { protectWithAudit, type AuditedRelease, type Protection } from './disclosure-audit.ts';
import {
  additiveSets,
  attritionCellId,
  attritionIds,
  auditBlocks,
  groupCellId,
  indexGroups,
  tablesOfCells,
} from './commissioner-sums.ts';
import type { RunContext } from './stage.ts';

export type Breakdown = 'all' | 'age_sex' | 'deprivation';

/**
 * One exact (unrounded) aggregate: never published as it is. Only what disclosure control
 * needs is read out of the work database (names and orders stay there, for the tables).
 */
export interface GroupCell {
  /** Unique, and the same text for the same cell in every run: disclosure control orders by it. */
  cell_id: string;
  /** The cell's row in commissioner_cell, where its names and orders stay. */
  cell_no: number;
  level: string;
  org_code: string;
  cohort: string;
  breakdown: Breakdown;
  age_band: string | null;
  sex: string | null;
  imd_quintile: string | null;
  patients: number;
  observed_cost_12m: number;
  predicted_cost_12m: number;
}

export interface AttritionCell {
  level: string;
  level_order: number;
  org_code: string;
  org_name: string;
  step_order: number;
  step: string;
  /** The group counting exactly the same people (pipeline/attrition-steps.ts), if any. */
  same_as: string | null;
  patients: number;
}

export interface GroupDefinition {
  group_type: string;
  cohort: string;
  multimorbidity: boolean | null;
  frailty: boolean | null;
  high_cost: boolean | null;
  any_cohort: boolean | null;
  tier: string | null;
}

export interface Membership {
  level: string;
  level_order: number;
  org_code: string;
  practice_code: string;
}

export interface CommissionerAggregates {
  groups: GroupCell[];
  attrition: AttritionCell[];
  definitions: GroupDefinition[];
  organisations: Membership[];
  /** Every adult has a tier: false in a run without models, whose tiers then add up to nothing. */
  tiered: boolean;
}

/**
 * The exact figures behind every commissioner table, from commissioner_cell, attrition,
 * cohort_group_definition and organisation in the work database (the commissioner cells
 * stage makes them). Exposed so tests can reconcile them with the patient-level data before
 * rounding.
 */
export async function commissionerAggregates(conn: DuckDBConnection): Promise<CommissionerAggregates> {
  const groups = await readGroupCells(conn);
  const attrition = await queryRows<AttritionCell & Record<string, unknown>>(
    conn,
    // Every step for every organisation: one with no patients left (quarantined, say) has zeros.
    `with step as (select distinct step_order, step, same_as from attrition),
     org as (select distinct level, level_order, org_code, org_name from organisation)
     select o.level, o.level_order, o.org_code, o.org_name, s.step_order, s.step, s.same_as, coalesce(a.patients, 0) as patients
     from org o cross join step s
     left join attrition a on a.level = o.level and a.org_code = o.org_code and a.step_order = s.step_order
     order by o.level_order, o.org_code, s.step_order`,
  );
  const definitions = await queryRows<GroupDefinition & Record<string, unknown>>(
    conn,
    'select group_type, cohort, multimorbidity, frailty, high_cost, any_cohort, tier from cohort_group_definition order by group_order',
  );
  const organisations = await queryRows<Membership & Record<string, unknown>>(
    conn,
    'select level, level_order, org_code, practice_code from organisation order by level_order, org_code, practice_code',
  );
  const [tiering] = await queryRows<{ tiered: boolean }>(
    conn,
    'select coalesce(bool_and(tier is not null), true) as tiered from patient_list where adult',
  );
  return { groups, attrition, definitions, organisations, tiered: tiering!.tiered };
}

/**
 * The cells, tens of thousands at LLR scale, leave the database as integer keys and
 * figures; their names come once per organisation, group and breakdown, not once per cell.
 */
async function readGroupCells(conn: DuckDBConnection): Promise<GroupCell[]> {
  const names = <T extends Row>(sql: string) => queryRows<T>(conn, sql);
  const orgs = new Map(
    (
      await names<{ org_no: number; level: string; org_code: string }>(
        'select distinct org_no, level, org_code from commissioner_cell',
      )
    ).map((o) => [o.org_no, o]),
  );
  const cohorts = new Map(
    (
      await names<{ group_order: number; cohort: string }>(
        'select distinct group_order, cohort from commissioner_cell',
      )
    ).map((g) => [g.group_order, g.cohort]),
  );
  const breakdowns = new Map(
    (
      await names<
        Pick<GroupCell, 'breakdown' | 'age_band' | 'sex' | 'imd_quintile'> & { breakdown_no: number }
      >('select distinct breakdown_no, breakdown, age_band, sex, imd_quintile from commissioner_cell')
    ).map((b) => [b.breakdown_no, b]),
  );
  const c = await readColumns(
    conn,
    `select cell_no, org_no, group_order, breakdown_no, patients::INTEGER as patients, observed_cost_12m, predicted_cost_12m
     from commissioner_cell order by cell_no`,
  );
  const cellNo = c.cell_no as number[];
  const orgNo = c.org_no as number[];
  const groupOrder = c.group_order as number[];
  const breakdownNo = c.breakdown_no as number[];
  const patients = c.patients as number[];
  const observed = c.observed_cost_12m as number[];
  const predicted = c.predicted_cost_12m as number[];
  return cellNo.map((cell_no, i) => {
    const o = orgs.get(orgNo[i]!)!;
    const cohort = cohorts.get(groupOrder[i]!)!;
    const b = breakdowns.get(breakdownNo[i]!)!;
    return {
      cell_id: [
        'group',
        o.level,
        o.org_code,
        cohort,
        b.breakdown,
        b.age_band ?? '',
        b.sex ?? '',
        b.imd_quintile ?? '',
      ].join('|'),
      cell_no,
      level: o.level,
      org_code: o.org_code,
      cohort,
      breakdown: b.breakdown,
      age_band: b.age_band,
      sex: b.sex,
      imd_quintile: b.imd_quintile,
      patients: patients[i]!,
      observed_cost_12m: observed[i]!,
      predicted_cost_12m: predicted[i]!,
    };
  });
}

export interface ControlledAggregates {
  groups: { cell: GroupCell; published: PublishedCell }[];
  attrition: (AttritionCell & { published: PublishedCell })[];
  audit: Omit<AuditedRelease, 'published'>;
}

export function rulesFrom(config: RunContext['config']): SuppressionRules {
  return {
    min: 1,
    max: config.disclosure.suppressBelow - 1,
    roundTo: config.disclosure.roundTo,
    costRoundTo: config.disclosure.costRoundTo,
  };
}

export function protectionFrom(config: RunContext['config']): Protection {
  return { count: countProtection(config), cost: config.disclosure.costProtection };
}

/** Disclosure control over all the commissioner cells at once, audited. */
export async function controlAggregates(
  agg: CommissionerAggregates,
  rules: SuppressionRules,
  protection: Protection,
): Promise<ControlledAggregates> {
  const cells: RawCell[] = [
    ...agg.groups.map((c) => ({
      id: groupCellId(c),
      patients: c.patients,
      costs: { observed: c.observed_cost_12m, predicted: c.predicted_cost_12m },
    })),
  ];
  const ids = attritionIds(agg, indexGroups(agg.groups));
  agg.attrition.forEach((a, i) => {
    if (ids[i] === attritionCellId(a)) cells.push({ id: ids[i], patients: a.patients });
  });
  const tables = tablesOfCells(agg, [...new Set(ids)]);
  const { published, ...audit } = await protectWithAudit(
    cells,
    additiveSets(agg),
    rules,
    protection,
    (id) => tables.get(id)!,
    auditBlocks(agg, ids),
  );
  return {
    groups: agg.groups.map((cell) => ({ cell, published: published.get(groupCellId(cell))! })),
    attrition: agg.attrition.map((a, i) => ({ ...a, published: published.get(ids[i]!)! })),
    audit,
  };
}
