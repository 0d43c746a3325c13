// Commissioner summaries: people and attributable cost by organisation (practice, PCN,
// place, system) x group (cohorts, their exclusive combinations, tiers, all adults) x
// breakdown (all, age band and sex, deprivation quintile), plus the attrition table. One
// aggregation builds the exact figures; disclosure control runs once over every published
// cell together, declaring each way the cells add up, so that no suppressed count can be
// worked out from this or any other table in the folder. Only the controlled figures leave
// the work database, into commissioner/summary.duckdb and a Parquet and CSV file per table.
import { join } from 'node:path';
import { quotedIdentifier, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { EFI_VALIDATED_FROM_AGE, HFRS } from '../pipeline/frailty.ts';
import { queryRows, readColumns, runSqlFile, type Row } from './db.ts';
import { type AdditiveSet, type PublishedCell, type RawCell, type SuppressionRules } from './disclosure.ts';
import { countProtection } from './config.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import { protectWithAudit, type AuditedRelease, type Protection } from './disclosure-audit.ts';
import { IntegrityError } from './errors.ts';
import { ensureDir, sealFile, writeFileDurable } from './files.ts';
import { formulaStartParam, neutraliseSql } from './spreadsheet.ts';
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
  patients: number;
}

interface GroupDefinition {
  group_type: string;
  cohort: string;
  multimorbidity: boolean | null;
  frailty: boolean | null;
  high_cost: boolean | null;
  any_cohort: boolean | null;
  tier: string | null;
}

interface Membership {
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
 * The exact figures behind every commissioner table, from patient_list, organisation,
 * cohort_group and attrition in the work database. Exposed so tests can reconcile them
 * with the patient-level data before rounding.
 */
export async function commissionerAggregates(conn: DuckDBConnection): Promise<CommissionerAggregates> {
  await runSqlFile(conn, 'marts/commissioner_cells.sql');
  const groups = await readGroupCells(conn);
  const attrition = await queryRows<AttritionCell & Record<string, unknown>>(
    conn,
    // Every step for every organisation: one with no patients left (quarantined, say) has zeros.
    `with step as (select distinct step_order, step from attrition),
     org as (select distinct level, level_order, org_code, org_name from organisation)
     select o.level, o.level_order, o.org_code, o.org_name, s.step_order, s.step, coalesce(a.patients, 0) as patients
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
 * The cells, about 63,000 at scale 1, leave the database as integer keys and
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

const orgKey = (level: string, org: string) => `${level}\u0001${org}`;
const breakdownKey = (c: Pick<GroupCell, 'breakdown' | 'age_band' | 'sex' | 'imd_quintile'>) =>
  [c.breakdown, c.age_band ?? '', c.sex ?? '', c.imd_quintile ?? ''].join('\u0001');
const groupCellId = (c: GroupCell) => c.cell_id;
const attritionCellId = (c: AttritionCell) => ['attrition', c.level, c.org_code, c.step_order].join('|');

/**
 * For each organisation above practice level, the organisations one level down that make
 * it up. When they do not partition its practices exactly (a PCN straddling two places),
 * its practices are used instead, which always do.
 */
export function organisationChildren(memberships: readonly Membership[]): Map<string, string[]> {
  const practices = new Map<string, Set<string>>();
  const byLevel = new Map<number, string[]>();
  for (const m of memberships) {
    const key = orgKey(m.level, m.org_code);
    if (!practices.has(key)) {
      practices.set(key, new Set());
      if (!byLevel.has(m.level_order)) byLevel.set(m.level_order, []);
      byLevel.get(m.level_order)!.push(key);
    }
    practices.get(key)!.add(m.practice_code);
  }
  const levels = [...byLevel.keys()].sort((a, b) => a - b);
  const bottom = levels[0]!;
  const practiceOrg = new Map<string, string>();
  for (const key of byLevel.get(bottom) ?? []) {
    const members = [...practices.get(key)!];
    if (members.length !== 1)
      throw new IntegrityError('organisation: each organisation at the lowest level must be one practice');
    practiceOrg.set(members[0]!, key);
  }
  const children = new Map<string, string[]>();
  for (let i = 1; i < levels.length; i++) {
    const below = byLevel.get(levels[i - 1]!)!;
    for (const parent of byLevel.get(levels[i]!)!) {
      const mine = practices.get(parent)!;
      const touching = below.filter((c) => [...practices.get(c)!].some((p) => mine.has(p)));
      const inside = touching.every((c) => [...practices.get(c)!].every((p) => mine.has(p)));
      const covered = touching.reduce((n, c) => n + practices.get(c)!.size, 0) === mine.size;
      children.set(parent, inside && covered ? touching : [...mine].sort().map((p) => practiceOrg.get(p)!));
    }
  }
  return children;
}

/** Attrition steps that count exactly the same people as a group: they must be hidden together. */
const ATTRITION_SAME_AS: readonly [RegExp, string][] = [
  [/^adults$/, 'all adults'],
  [/^rule: \d+\+ chronic conditions/, 'multimorbidity'],
  [/^cohort: multimorbidity/, 'multimorbidity'],
  [/^cohort: frailty/, 'frailty'],
  [/^cohort: predicted high cost/, 'high cost'],
  [/^any cohort$/, 'any cohort'],
];

type GroupIndex = Map<string, Map<string, Map<string, string>>>;
const allKey = breakdownKey({ breakdown: 'all', age_band: null, sex: null, imd_quintile: null });

/** The id of each group cell by organisation, then group, then breakdown cell. */
function indexGroups(groups: readonly GroupCell[]): GroupIndex {
  const index: GroupIndex = new Map();
  for (const c of groups) {
    const org = orgKey(c.level, c.org_code);
    let byGroup = index.get(org);
    if (!byGroup) index.set(org, (byGroup = new Map()));
    let byBreakdown = byGroup.get(c.cohort);
    if (!byBreakdown) byGroup.set(c.cohort, (byBreakdown = new Map()));
    byBreakdown.set(breakdownKey(c), groupCellId(c));
  }
  return index;
}

/**
 * The cell each attrition row publishes: a step counting the same people as a group cell
 * IS that cell (one published value, hidden or shown with it), checked to agree.
 */
function attritionIds(agg: CommissionerAggregates, index: GroupIndex): string[] {
  const patientsById = new Map(agg.groups.map((c) => [groupCellId(c), c.patients]));
  return agg.attrition.map((a) => {
    const same = ATTRITION_SAME_AS.find(([pattern]) => pattern.test(a.step))?.[1];
    const groupId = same ? index.get(orgKey(a.level, a.org_code))?.get(same)?.get(allKey) : undefined;
    if (!groupId) return attritionCellId(a);
    if (patientsById.get(groupId) !== a.patients)
      throw new IntegrityError(
        `attrition step "${a.step}" at ${a.level} ${a.org_code} does not agree with the ${same} cohort count`,
      );
    return groupId;
  });
}

/** Every way the published cells add up; disclosure control keeps each set safe. */
export function additiveSets(agg: CommissionerAggregates): AdditiveSet[] {
  const sets: AdditiveSet[] = [];
  const children = organisationChildren(agg.organisations);
  const index = indexGroups(agg.groups);

  // Groups in terms of the exclusive combinations (and 'no cohort').
  const combinations = agg.definitions.filter((d) => d.group_type === 'combination');
  const tiers = agg.definitions.filter((d) => d.group_type === 'tier').map((d) => d.cohort);
  const allAdults = agg.definitions.find((d) => d.group_type === 'all')?.cohort;
  const anyCohort = agg.definitions.find((d) => d.any_cohort === true)?.cohort;
  const noCohort = combinations.find((d) => !d.multimorbidity && !d.frailty && !d.high_cost)?.cohort;
  if (!allAdults || !anyCohort || !noCohort)
    throw new IntegrityError('cohort_group_definition lacks all adults, any cohort or no cohort');
  const flags = ['multimorbidity', 'frailty', 'high_cost'] as const;
  const groupSets: { total: string; parts: string[] }[] = [
    { total: allAdults, parts: combinations.map((d) => d.cohort) },
    ...(agg.tiered ? [{ total: allAdults, parts: tiers }] : []),
    { total: allAdults, parts: [anyCohort, noCohort] },
    { total: anyCohort, parts: combinations.filter((d) => d.cohort !== noCohort).map((d) => d.cohort) },
  ];
  for (const d of agg.definitions.filter((x) => x.group_type === 'cohort')) {
    const flag = flags.find((f) => d[f] === true);
    if (flag)
      groupSets.push({ total: d.cohort, parts: combinations.filter((c) => c[flag]).map((c) => c.cohort) });
  }

  for (const [org, byGroup] of index) {
    const breakdowns = [...byGroup.get(allAdults)!.keys()];
    // Groups within each breakdown cell.
    for (const b of breakdowns)
      for (const g of groupSets)
        sets.push({
          total: byGroup.get(g.total)!.get(b)!,
          parts: g.parts.map((p) => byGroup.get(p)!.get(b)!),
        });
    // Breakdown cells within each group (practices have none).
    for (const byBreakdown of byGroup.values()) {
      for (const kind of ['age_sex', 'deprivation']) {
        const parts = [...byBreakdown].filter(([k]) => k.startsWith(`${kind}\u0001`)).map(([, id]) => id);
        if (parts.length) sets.push({ total: byBreakdown.get(allKey)!, parts });
      }
    }
    // Organisations within their parent, for every group and breakdown cell.
    const kids = children.get(org);
    if (!kids) continue;
    if (kids.some((k) => !index.has(k)))
      throw new IntegrityError('commissioner cells are missing an organisation');
    for (const [group, byBreakdown] of byGroup)
      for (const [b, id] of byBreakdown) {
        const parts = kids.map((k) => index.get(k)!.get(group)!.get(b));
        // Breakdown cells of a PCN, or of a place made of practices, have none below them.
        if (parts.every((p) => p !== undefined)) sets.push({ total: id, parts });
      }
  }

  const ids = attritionIds(agg, index);
  const steps = new Map<string, Map<number, string>>();
  agg.attrition.forEach((a, i) => {
    const org = orgKey(a.level, a.org_code);
    if (!steps.has(org)) steps.set(org, new Map());
    steps.get(org)!.set(a.step_order, ids[i]!);
  });
  for (const [org, byStep] of steps)
    for (const [step, id] of byStep) {
      const kids = children.get(org);
      // A step that is a group cell already has its sets.
      if (!kids || !id.startsWith('attrition|')) continue;
      const parts = kids.map((k) => steps.get(k)?.get(step));
      if (parts.some((p) => p === undefined))
        throw new IntegrityError('attrition is missing a step for an organisation');
      sets.push({ total: id, parts: parts as string[] });
    }
  return sets;
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

/** The published tables each cell appears in: a withheld table takes its cells with it. */
function tablesOfCells(
  agg: CommissionerAggregates,
  attritionCells: readonly string[],
): Map<string, string[]> {
  const typeOf = new Map(agg.definitions.map((d) => [d.cohort, d.group_type]));
  const tables = new Map<string, string[]>();
  for (const c of agg.groups) {
    const type = typeOf.get(c.cohort);
    const names =
      c.breakdown === 'age_sex'
        ? ['cohort_by_age_sex']
        : c.breakdown === 'deprivation'
          ? ['cohort_by_deprivation']
          : type === 'all'
            ? ['cohort_summary', 'tier_summary']
            : type === 'tier'
              ? ['tier_summary']
              : ['cohort_summary'];
    tables.set(groupCellId(c), names);
  }
  for (const id of attritionCells) {
    const names = tables.get(id);
    if (names) names.push('attrition');
    else tables.set(id, ['attrition']);
  }
  return tables;
}

/**
 * For each PCN and place, the cells of it and of every organisation inside it: the blocks in
 * which the audit looks for other tables that agree with everything outside (smallest first).
 */
function auditBlocks(agg: CommissionerAggregates, attrition: readonly string[]): string[][] {
  const practices = new Map<string, Set<string>>();
  const order = new Map<string, number>();
  for (const m of agg.organisations) {
    const key = orgKey(m.level, m.org_code);
    if (!practices.has(key)) practices.set(key, new Set());
    practices.get(key)!.add(m.practice_code);
    order.set(key, m.level_order);
  }
  const cellsOf = new Map<string, string[]>();
  const add = (org: string, id: string) => {
    if (!cellsOf.has(org)) cellsOf.set(org, []);
    cellsOf.get(org)!.push(id);
  };
  for (const c of agg.groups) add(orgKey(c.level, c.org_code), groupCellId(c));
  agg.attrition.forEach((a, i) => {
    if (attrition[i] === attritionCellId(a)) add(orgKey(a.level, a.org_code), attrition[i]!);
  });
  const levels = [...new Set(order.values())].sort((a, b) => a - b);
  // Neither a practice (its totals are pinned by its PCN's) nor the system (the whole table).
  const middle = new Set(levels.slice(1, -1));
  return [...practices.keys()]
    .filter((org) => middle.has(order.get(org)!))
    .sort((a, b) => order.get(a)! - order.get(b)! || (a < b ? -1 : 1))
    .map((org) => {
      const mine = practices.get(org)!;
      return [...practices]
        .filter(([, ps]) => [...ps].every((p) => mine.has(p)))
        .flatMap(([inside]) => cellsOf.get(inside) ?? []);
    });
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

type ColumnType = 'VARCHAR' | 'INTEGER' | 'BIGINT' | 'BOOLEAN';

async function appendTable(
  conn: DuckDBConnection,
  table: string,
  columns: [string, ColumnType][],
  rows: Record<string, string | number | boolean | null>[],
): Promise<void> {
  await conn.run(
    `create or replace table ${quotedIdentifier(table)} (${columns.map(([n, t]) => `${quotedIdentifier(n)} ${t}`).join(', ')})`,
  );
  const appender = await conn.createAppender(table);
  for (const row of rows) {
    for (const [name, type] of columns) {
      const v = row[name];
      if (v === null || v === undefined) appender.appendNull();
      else if (type === 'VARCHAR') appender.appendVarchar(String(v));
      else if (type === 'INTEGER') appender.appendInteger(Number(v));
      else if (type === 'BIGINT') appender.appendBigInt(BigInt(v as number));
      else appender.appendBoolean(Boolean(v));
    }
    appender.endRow();
  }
  appender.closeSync();
}

/** The published tables, built from the controlled cells in the work database. */
const SUMMARY_TABLES: { name: string; about: string; sql: string }[] = [
  {
    name: 'cohort_summary',
    about:
      'People and cost by organisation for each cohort, any cohort, the exclusive combinations of cohorts, no cohort and all adults (group_type says which).',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'all' and group_type <> 'tier'
          order by level_order, org_code, group_order`,
  },
  {
    name: 'tier_summary',
    about: 'People and cost by organisation for each risk tier, with all adults as the total.',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort as tier, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'all' and group_type in ('tier', 'all')
          order by level_order, org_code, group_order`,
  },
  {
    name: 'cohort_by_age_sex',
    about: 'Every group (cohorts, combinations, tiers, all adults) by age band and sex.',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, age_band, sex, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'age_sex'
          order by level_order, org_code, group_order, age_band, sex`,
  },
  {
    name: 'cohort_by_deprivation',
    about:
      'Every group by deprivation quintile of the area of residence (IMD; 1 = most deprived, unknown = no area).',
    sql: `select level, org_code, org_name, pcn_code, place, group_type, cohort, imd_quintile, patients, observed_cost_12m, predicted_cost_12m, suppressed, level_order, group_order
          from published_group_cell where breakdown = 'deprivation'
          order by level_order, org_code, group_order, imd_quintile`,
  },
  {
    name: 'attrition',
    about: 'How many people each step of the cohort definitions kept or found, by organisation.',
    sql: `select level, org_code, org_name, step_order, step, patients, suppressed, level_order
          from published_attrition order by level_order, org_code, step_order`,
  },
  {
    name: 'metadata',
    about: 'The run, the as-of date and the rules behind these figures.',
    sql: 'select key, value from published_metadata order by ordinal',
  },
];

export interface CommissionerSummary {
  tables: Record<string, number>;
  cells: number;
  suppressed: number;
  audit: ControlledAggregates['audit'];
  seconds: number;
}

export async function writeCommissionerSummaries(ctx: RunContext): Promise<CommissionerSummary> {
  const started = performance.now();
  const { conn } = ctx;
  const rules = rulesFrom(ctx.config);
  const protection = protectionFrom(ctx.config);
  const controlled = await controlAggregates(await commissionerAggregates(conn), rules, protection);
  const withheld = new Set(controlled.audit.withheld);

  await appendTable(
    conn,
    'published_group_value',
    [
      ['cell_no', 'INTEGER'],
      ['patients', 'INTEGER'],
      ['observed_cost_12m', 'BIGINT'],
      ['predicted_cost_12m', 'BIGINT'],
      ['suppressed', 'BOOLEAN'],
    ],
    controlled.groups.map(({ cell, published: p }) => ({
      cell_no: cell.cell_no,
      patients: p.patients,
      observed_cost_12m: p.costs.observed ?? null,
      predicted_cost_12m: p.costs.predicted ?? null,
      suppressed: p.suppressed,
    })),
  );
  await conn.run(
    `create or replace table published_group_cell as
     select c.* exclude (patients, observed_cost_12m, predicted_cost_12m), v.patients::BIGINT as patients,
            v.* exclude (cell_no, patients)
     from commissioner_cell c join published_group_value v using (cell_no)`,
  );
  await appendTable(
    conn,
    'published_attrition',
    [
      ['level', 'VARCHAR'],
      ['level_order', 'INTEGER'],
      ['org_code', 'VARCHAR'],
      ['org_name', 'VARCHAR'],
      ['step_order', 'INTEGER'],
      ['step', 'VARCHAR'],
      ['patients', 'BIGINT'],
      ['suppressed', 'BOOLEAN'],
    ],
    controlled.attrition.map(({ published: p, ...a }) => ({
      ...a,
      patients: p.patients,
      suppressed: p.suppressed,
    })),
  );
  await appendTable(
    conn,
    'published_metadata',
    [
      ['ordinal', 'INTEGER'],
      ['key', 'VARCHAR'],
      ['value', 'VARCHAR'],
    ],
    metadata(ctx, rules, protection, controlled.audit.withheld).map(([key, value], ordinal) => ({
      ordinal,
      key,
      value,
    })),
  );

  const dir = join(ctx.runDir, 'commissioner');
  ensureDir(dir);
  const dbFile = join(dir, 'summary.duckdb');
  const tables: Record<string, number> = {};
  await conn.run(`attach ${quotedString(dbFile)} as summary`);
  try {
    for (const t of SUMMARY_TABLES) {
      // A withheld table keeps its columns, so queries and feeds still run, and loses its rows.
      const sql = withheld.has(t.name) ? `select * from (${t.sql}) where false` : t.sql;
      await conn.run(`create table summary.${quotedIdentifier(t.name)} as ${sql}`);
      tables[t.name] = Number(
        (await queryRows(conn, `select count(*) as n from summary.${quotedIdentifier(t.name)}`))[0]!.n,
      );
    }
    for (const t of SUMMARY_TABLES) await exportTable(conn, 'summary', t.name, dir);
  } finally {
    await conn.run('detach summary');
  }
  sealFile(dbFile);
  writeFileDurable(
    join(dir, 'README.txt'),
    commissionerReadme(ctx, rules, protection, controlled.audit.withheld),
  );
  for (const t of [
    'published_group_value',
    'published_group_cell',
    'published_attrition',
    'published_metadata',
  ])
    await conn.run(`drop table ${quotedIdentifier(t)}`);

  return {
    tables,
    cells: controlled.groups.length + controlled.attrition.length,
    suppressed: [...controlled.groups, ...controlled.attrition].filter((c) => c.published.suppressed).length,
    audit: controlled.audit,
    seconds: (performance.now() - started) / 1000,
  };
}

/** A table to <dir>/<table>.parquet and <dir>/<table>.csv, every CSV cell safe to open in a spreadsheet. */
async function exportTable(conn: DuckDBConnection, database: string, table: string, dir: string) {
  const columns = await queryRows<{ column_name: string }>(
    conn,
    `select column_name from duckdb_columns() where database_name = $db and table_name = $t order by column_index`,
    { db: database, t: table },
  );
  const source = `${quotedIdentifier(database)}.${quotedIdentifier(table)}`;
  const parquet = join(dir, `${table}.parquet`);
  const csv = join(dir, `${table}.csv`);
  await conn.run(`copy ${source} to ${quotedString(parquet)} (format parquet, compression zstd)`);
  const select = columns
    .map(({ column_name }) => {
      const n = quotedIdentifier(column_name);
      return `${neutraliseSql(`${n}::VARCHAR`)} as ${n}`;
    })
    .join(', ');
  await conn.run(`copy (select ${select} from ${source}) to ${quotedString(csv)} (format csv, header)`, {
    ...formulaStartParam(),
  });
  sealFile(parquet);
  sealFile(csv);
}

function metadata(
  ctx: RunContext,
  rules: SuppressionRules,
  protection: Protection,
  withheld: readonly string[],
): [string, string][] {
  const c = ctx.config;
  return [
    ['run_id', ctx.runId],
    ['as_of', ctx.asOf],
    ['software_version', ctx.softwareVersion],
    ['system', `${c.system.name} (${c.system.code})`],
    [
      'population',
      `patients registered and alive on the as-of date; cohorts and tiers count adults (${c.cohorts.adultAge} and over)`,
    ],
    ['cohort: multimorbidity', `${c.cohorts.multimorbidityMin} or more chronic conditions`],
    [
      'cohort: frailty',
      `coded moderate or severe frailty, eFI-style category moderate or severe (not the official eFI), or HFRS intermediate or high risk (${c.cohorts.hfrsMarkerAtLeast} or more, admitted-patient diagnoses); the eFI was validated from age ${EFI_VALIDATED_FROM_AGE} and the HFRS from ${HFRS.validatedFromAge}`,
    ],
    [
      'cohort: high cost',
      `predicted 12-month cost at least ${c.cohorts.highCostMultiple} times the mean for adults in the system${notAvailable(ctx)}`,
    ],
    [
      'tiers',
      `adults ranked by predicted cost: very high top ${c.tiers.veryHigh * 100}%, high to ${c.tiers.high * 100}%, moderate to ${c.tiers.moderate * 100}%, low the rest${notAvailable(ctx)}`,
    ],
    [
      'costs',
      `observed: secondary-care cost in the 12 months to the as-of date; predicted: the next 12 months; GBP, rounded to the nearest ${rules.costRoundTo} (half up), so a shown cost only bounds the true one`,
    ],
    [
      'disclosure: small counts',
      `counts ${rules.min} to ${rules.max} suppressed (patients NULL, suppressed true); 0 is shown and is never suppressed, so a suppressed count is at least 1`,
    ],
    [
      'disclosure: rounding',
      `other counts rounded to the nearest ${rules.roundTo}, from unrounded figures; totals are rounded separately and may not equal the sum of their parts`,
    ],
    [
      'disclosure: secondary',
      'where one cell of a set that adds up to a total is suppressed, the next smallest is suppressed too, across practices within PCNs, PCNs within places, places within the system, groups, age-sex cells, quintiles and the attrition table',
    ],
    [
      'disclosure: audit',
      `every table of this folder taken together as one system of sums, an attacker's linear programme cannot narrow any suppressed count to fewer than ${protection.count + 1} values (an interval ${protection.count} wide) or any suppressed cost to an interval under GBP ${protection.cost}; cells were suppressed until it could not`,
    ],
    [
      'disclosure: breakdowns',
      'age-sex and deprivation breakdowns are published for PCNs, places and the system, not for practices: at practice level their cells are so small that the zeros alone would show which cohort and tier whole age bands of a practice are in',
    ],
    [
      'disclosure: withheld tables',
      withheld.length
        ? `${withheld.join(', ')}: no suppression pattern passed the audit, so these tables have no rows in this run`
        : 'none',
    ],
    ['disclosure: costs', 'costs are NULL wherever the count is suppressed'],
    [
      'source',
      "Hospital Episode Statistics disclosure rules (NHS Digital, HES analysis guide); protection intervals and audit as in the tau-ARGUS manual and ONS's guidance on small counts",
    ],
  ];
}

/** The note on every model-based figure of a run without models. */
function notAvailable(ctx: RunContext): string {
  const reason = predictionsNotAvailable(ctx);
  return reason
    ? `; NOT AVAILABLE in this run (${reason}): the high cost cohort and the tiers count no one, the combinations count no one as high cost, and predicted costs are 0`
    : '';
}

function commissionerReadme(
  ctx: RunContext,
  rules: SuppressionRules,
  protection: Protection,
  withheld: readonly string[],
): string {
  const tables = SUMMARY_TABLES.map((t) => `  ${t.name.padEnd(22)} ${t.about}`).join('\n');
  const unavailable = predictionsNotAvailable(ctx);
  return `COMMISSIONER SUMMARIES
Run ${ctx.runId}, as of ${ctx.asOf}.
${
  unavailable
    ? `
THE PREDICTED HIGH COST COHORT AND THE TIERS ARE NOT AVAILABLE IN THIS RUN: ${unavailable}.
Their rows count no one, the combinations count no one as high cost, and predicted costs are
0. The multimorbidity and frailty cohorts do not depend on the models and are complete.
`
    : ''
}
Aggregates only: no patient-level rows and no patient identifiers. Every count of people is
in a column called patients. Counts from ${rules.min} to ${rules.max} are suppressed (patients is empty
and suppressed is true), other counts are rounded to the nearest ${rules.roundTo}, and further cells
are suppressed where a suppressed one could otherwise be worked out. Costs are rounded to
the nearest GBP ${rules.costRoundTo} and are empty wherever the count is suppressed. Totals are
rounded from exact figures, so they need not equal the sum of their rounded parts. A 0 is
shown as 0 and never suppressed (the NHS Digital rule), so a suppressed count is at least 1.

Every run is audited before it is published: all tables of this folder are taken together
as one system of sums (cohorts and their combinations, tiers, breakdowns, practices in
PCNs in places in the system, the attrition steps) with the rounding of each shown figure,
and for every suppressed cell the narrowest range a linear programme can prove is worked
out. No suppressed count can be narrowed to fewer than ${protection.count + 1} values, and no suppressed
cost to a range under GBP ${protection.cost}; cells were suppressed until that held (the audit
of tau-ARGUS, with the protection NHS Digital and ONS ask for).${
    withheld.length
      ? `
Withheld in this run (no rows; no suppression pattern passed the audit): ${withheld.join(', ')}.`
      : ''
  }

The age-sex and deprivation breakdowns stop at PCN level: a practice's breakdown cells are
so small that its zeros alone would say which cohort and tier whole age bands of its
patients are in. Practices have their totals by group in cohort_summary and tier_summary.

Groups (column cohort; group_type says which kind):
  cohort       multimorbidity, frailty, high cost, any cohort (they overlap)
  combination  the seven exclusive combinations of the three cohorts and 'no cohort';
               each adult is in exactly one, so their costs add up without double counting
  tier         very high, high, moderate, low (each adult in exactly one)
  all          all adults
Tiers are in tier_summary; the breakdown tables hold every group. level_order and
group_order give the natural order of rows. In the CSV files a cell that would start with
=, +, -, @, a tab or a carriage return has a ' in front, so a spreadsheet shows it as text.

Tables (each in summary.duckdb, and as <table>.parquet and <table>.csv):
${tables}

Query them with: strata query cohorts --level place (see strata query --help).
`;
}
