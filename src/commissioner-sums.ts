// Every way the commissioner cells add up (organisations within their parent, groups within
// each other, breakdown cells within their group, attrition steps that are group cells), and
// the blocks and tables the disclosure audit works in. Disclosure control keeps each sum safe.
import { IntegrityError } from './errors.ts';
import type { AdditiveSet } from './disclosure.ts';
import type { AttritionCell, CommissionerAggregates, GroupCell, Membership } from './commissioner-cells.ts';

const orgKey = (level: string, org: string) => `${level}\u0001${org}`;
const breakdownKey = (c: Pick<GroupCell, 'breakdown' | 'age_band' | 'sex' | 'imd_quintile'>) =>
  [c.breakdown, c.age_band ?? '', c.sex ?? '', c.imd_quintile ?? ''].join('\u0001');
export const groupCellId = (c: GroupCell) => c.cell_id;
export const attritionCellId = (c: AttritionCell) =>
  ['attrition', c.level, c.org_code, c.step_order].join('|');

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

type GroupIndex = Map<string, Map<string, Map<string, string>>>;
const allKey = breakdownKey({ breakdown: 'all', age_band: null, sex: null, imd_quintile: null });

/** The id of each group cell by organisation, then group, then breakdown cell. */
export function indexGroups(groups: readonly GroupCell[]): GroupIndex {
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
export function attritionIds(agg: CommissionerAggregates, index: GroupIndex): string[] {
  const patientsById = new Map(agg.groups.map((c) => [groupCellId(c), c.patients]));
  return agg.attrition.map((a) => {
    // A step counting exactly the same people as a group must be hidden with it.
    const same = a.same_as;
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

/** The published tables each cell appears in: a withheld table takes its cells with it. */
export function tablesOfCells(
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
export function auditBlocks(agg: CommissionerAggregates, attrition: readonly string[]): string[][] {
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
