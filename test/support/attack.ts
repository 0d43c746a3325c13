// The attacker: reads a run's published commissioner CSVs and nothing else, rebuilds every
// way their figures add up from the columns alone, and bounds each suppressed figure by
// linear programming (HiGHS). Written apart from the code that suppresses (it imports none
// of it), so that it checks the release and not the suppressor's own idea of the release.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import highsModule from 'highs';

type Highs = Awaited<ReturnType<(typeof highsModule)['default']>>;
const loadHighs = highsModule as unknown as (typeof highsModule)['default'];

export type CsvRow = Record<string, string>;
export type Release = Record<string, CsvRow[]>;

export interface AttackRules {
  /** Counts 1 to this are suppressed. */
  suppressMax: number;
  roundTo: number;
  /** 1 where costs are published to the pound. */
  costRoundTo: number;
}

export interface Protection {
  count: number;
  cost: number;
}

export interface Finding {
  cell: string;
  measure: string;
  low: number;
  high: number;
}

export interface AttackResult {
  /** Suppressed figures attacked (cells x measures). */
  hidden: number;
  /** Figures pinned: a count to a single value, a cost to within PINNED_POUNDS. */
  exact: Finding[];
  /** Figures narrowed below the protection (exact ones included). */
  narrowed: Finding[];
  relations: number;
}

/** A cost known to within this many pounds counts as recovered (one bill, give or take rounding). */
const PINNED_POUNDS = 10;

const TABLES = ['cohort_summary', 'tier_summary', 'cohort_by_age_sex', 'cohort_by_deprivation', 'attrition'];

export function readRelease(commissionerDir: string): Release {
  const release: Release = {};
  for (const t of [...TABLES, 'metadata'])
    release[t] = parse(readFileSync(join(commissionerDir, `${t}.csv`), 'utf8'), {
      columns: true,
    }) as CsvRow[];
  return release;
}

/** The rules as the published metadata states them: what any reader of the folder knows. */
export function rulesFromMetadata(release: Release): AttackRules {
  const meta = new Map(release.metadata!.map((r) => [r.key!, r.value!]));
  const small = /counts 1 to (\d+) suppressed/.exec(meta.get('disclosure: small counts') ?? '');
  const rounding = /rounded to the nearest (\d+)/.exec(meta.get('disclosure: rounding') ?? '');
  const costs = meta.get('costs') ?? '';
  const costRounding = /rounded to the nearest (\d+)/.exec(costs);
  if (!small || !rounding || (!costRounding && !/to the pound/.test(costs)))
    throw new Error('metadata does not state the disclosure rules');
  return {
    suppressMax: Number(small[1]),
    roundTo: Number(rounding[1]),
    costRoundTo: costRounding ? Number(costRounding[1]) : 1,
  };
}

interface Cell {
  suppressed: boolean;
  patients: number | null;
  costs?: { observed: number | null; predicted: number | null };
}

const num = (s: string | undefined) => (s === undefined || s === '' ? null : Number(s));

/** Every published cell under one key, and every relation (total = sum of parts) between them. */
export function relations(release: Release): { cells: Map<string, Cell>; sums: [string, string[]][] } {
  const cells = new Map<string, Cell>();
  const put = (key: string, cell: Cell) => {
    const before = cells.get(key);
    if (before && (before.patients !== cell.patients || before.suppressed !== cell.suppressed))
      throw new Error(`cell ${key} is published twice with different values`);
    cells.set(key, cell);
  };
  const orgs = new Map<string, { level: string; pcn: string; place: string }>();
  const groupType = new Map<string, string>();
  const breakdownsOf = new Map<string, Set<string>>();
  const groupTables: [string, (r: CsvRow) => string][] = [
    ['cohort_summary', () => 'all'],
    ['tier_summary', () => 'all'],
    ['cohort_by_age_sex', (r) => `age ${r.age_band} ${r.sex}`],
    ['cohort_by_deprivation', (r) => `imd ${r.imd_quintile}`],
  ];
  for (const [table, breakdown] of groupTables)
    for (const r of release[table] ?? []) {
      const group = r.cohort ?? r.tier!;
      const org = `${r.level}|${r.org_code}`;
      const b = breakdown(r);
      orgs.set(org, { level: r.level!, pcn: r.pcn_code ?? '', place: r.place ?? '' });
      groupType.set(group, r.group_type!);
      if (!breakdownsOf.has(b.split(' ')[0]!)) breakdownsOf.set(b.split(' ')[0]!, new Set());
      breakdownsOf.get(b.split(' ')[0]!)!.add(b);
      put(`${org}|${group}|${b}`, {
        suppressed: r.suppressed === 'true',
        patients: num(r.patients),
        costs: { observed: num(r.observed_cost_12m), predicted: num(r.predicted_cost_12m) },
      });
    }
  const steps = new Set<string>();
  for (const r of release.attrition ?? []) {
    steps.add(r.step!);
    put(`${r.level}|${r.org_code}|step ${r.step}`, {
      suppressed: r.suppressed === 'true',
      patients: num(r.patients),
    });
  }

  const sums: [string, string[]][] = [];
  const add = (total: string, parts: string[]) => {
    if (cells.has(total) && parts.length && parts.every((p) => cells.has(p))) sums.push([total, parts]);
  };
  const groups = [...groupType.keys()];
  const ofType = (t: string) => groups.filter((g) => groupType.get(g) === t);
  const all = ofType('all')[0]!;
  const combinations = ofType('combination');
  const none = combinations.find((c) => c === 'no cohort')!;
  const cohorts = ofType('cohort');
  // A combination's name lists the cohorts it holds ("multimorbidity + frailty", "frailty only").
  const holds = (combination: string, cohort: string) =>
    combination
      .replace(/ only$/, '')
      .split(' + ')
      .includes(cohort);
  const everyBreakdown = [...breakdownsOf.values()].flatMap((s) => [...s]);
  for (const org of orgs.keys())
    for (const b of everyBreakdown) {
      const key = (g: string) => `${org}|${g}|${b}`;
      add(key(all), combinations.map(key));
      add(key(all), ofType('tier').map(key));
      for (const c of cohorts) {
        const members =
          c === 'any cohort'
            ? combinations.filter((x) => x !== none)
            : combinations.filter((x) => holds(x, c));
        add(key(c), members.map(key));
      }
      add(key(all), [key('any cohort'), key(none)]);
    }
  for (const org of orgs.keys())
    for (const g of groups)
      for (const kind of ['age', 'imd'])
        add(
          `${org}|${g}|all`,
          [...(breakdownsOf.get(kind) ?? [])].map((b) => `${org}|${g}|${b}`),
        );

  // practice -> PCN -> place -> system, from the pcn_code and place columns.
  const byLevel = (level: string) => [...orgs].filter(([, o]) => o.level === level);
  const children = new Map<string, string[]>();
  for (const [pcn] of byLevel('pcn'))
    children.set(
      pcn,
      byLevel('practice')
        .filter(([, o]) => `pcn|${o.pcn}` === pcn)
        .map(([k]) => k),
    );
  for (const [place, p] of byLevel('place')) {
    const practices = byLevel('practice').filter(([, o]) => o.place === p.place);
    const pcns = byLevel('pcn').filter(([, o]) => o.place === p.place);
    const whole = practices.every(([, o]) => pcns.some(([k]) => k === `pcn|${o.pcn}`));
    children.set(
      place,
      (whole ? pcns : practices).map(([k]) => k),
    );
  }
  for (const [system] of byLevel('system'))
    children.set(
      system,
      byLevel('place').map(([k]) => k),
    );
  const suffixes = new Set([...cells.keys()].map((k) => k.split('|').slice(2).join('|')));
  for (const [parent, kids] of children)
    for (const s of suffixes)
      add(
        `${parent}|${s}`,
        kids.map((k) => `${k}|${s}`),
      );

  // Attrition steps that name a group count the same people.
  const same: [RegExp, string][] = [
    [/^adults$/, all],
    [/^rule: \d+\+ chronic conditions/, 'multimorbidity'],
    [/^cohort: multimorbidity/, 'multimorbidity'],
    [/^cohort: frailty/, 'frailty'],
    [/^cohort: predicted high cost/, 'high cost'],
    [/^any cohort$/, 'any cohort'],
  ];
  for (const org of orgs.keys())
    for (const step of steps) {
      const group = same.find(([re]) => re.test(step))?.[1];
      if (group) add(`${org}|step ${step}`, [`${org}|${group}|all`]);
    }
  return { cells, sums };
}

/** The true count's range given its shown value, by trying every count the rule could round to it. */
function countRange(v: number, rules: AttackRules): [number, number] {
  const shownAs = (n: number) => Math.floor((n + rules.roundTo / 2) / rules.roundTo) * rules.roundTo;
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = Math.max(rules.suppressMax + 1, v - rules.roundTo); n <= v + rules.roundTo; n++)
    if (shownAs(n) === v) [lo, hi] = [Math.min(lo, n), Math.max(hi, n)];
  if (lo === Infinity) throw new Error(`no count is shown as ${v}`);
  return [lo, hi];
}

export async function attack(
  release: Release,
  rules: AttackRules,
  protection: Protection,
): Promise<AttackResult> {
  const { cells, sums } = relations(release);
  const highs: Highs = await loadHighs();
  const result: AttackResult = { hidden: 0, exact: [], narrowed: [], relations: sums.length };
  for (const measure of ['patients', 'observed', 'predicted'] as const) {
    const keys = [...cells.keys()].filter((k) => measure === 'patients' || cells.get(k)!.costs);
    const col = new Map(keys.map((k, i) => [k, i]));
    // Costs in units of their rounding, so the solver's tolerances fit totals of millions.
    const unit = measure === 'patients' ? 1 : rules.costRoundTo;
    const lower = keys.map(() => 0);
    const upper = keys.map(() => highs.infinity);
    keys.forEach((k, i) => {
      const c = cells.get(k)!;
      if (c.suppressed) lower[i] = measure === 'patients' ? 1 : 0;
      else if (c.patients === 0) upper[i] = 0;
      else if (measure === 'patients') [lower[i], upper[i]] = countRange(c.patients!, rules);
      else {
        const shown = c.costs![measure]!;
        [lower[i], upper[i]] = [Math.max(0, shown / unit - 0.5), shown / unit + 0.5];
      }
    });
    const rows = sums.filter(([t, parts]) => [t, ...parts].every((k) => col.has(k)));
    const starts = [0];
    const indices: number[] = [];
    const values: number[] = [];
    for (const [t, parts] of rows) {
      indices.push(col.get(t)!, ...parts.map((p) => col.get(p)!));
      values.push(1, ...parts.map(() => -1));
      starts.push(indices.length);
    }
    const zeros = rows.map(() => 0);
    const model = highs.createModel({
      numCols: keys.length,
      numRows: rows.length,
      colCost: keys.map(() => 0),
      colLower: lower,
      colUpper: upper,
      rowLower: zeros,
      rowUpper: zeros,
      matrix: { format: 'csr', numRows: rows.length, numCols: keys.length, starts, indices, values },
    });
    try {
      // Primal simplex from the last optimum (still feasible when only the objective changes),
      // with Devex pricing: HiGHS's choice, steepest edge, costs far more per step here.
      model.options.set({
        output_flag: false,
        presolve: 'off',
        simplex_strategy: 4,
        simplex_primal_edge_weight_strategy: 1,
      });
      const hidden = keys.flatMap((k, i) => (cells.get(k)!.suppressed ? [i] : []));
      result.hidden += hidden.length;
      // Values each hidden cell has taken in the optimal tables found so far: once they
      // differ by the protection the cell is safe, whatever the attacker's next programme.
      const seenLow = new Map<number, number>();
      const seenHigh = new Map<number, number>();
      const remember = () => {
        const x = model.getSolution().colValue;
        for (const i of hidden) {
          seenLow.set(i, Math.min(seenLow.get(i) ?? Infinity, x[i]! * unit));
          seenHigh.set(i, Math.max(seenHigh.get(i) ?? -Infinity, x[i]! * unit));
        }
      };
      const protect = measure === 'patients' ? protection.count : protection.cost;
      const safe = (i: number) => seenHigh.get(i)! - seenLow.get(i)! >= protect - 1e-6;
      for (const i of hidden) {
        for (const direction of [1, -1]) {
          if (seenLow.has(i) && safe(i)) break;
          model.changeColCost(i, direction);
          model.run();
          let status = model.getModelStatus();
          const { optimal, unbounded } = highs.constants.modelStatus;
          if (status !== optimal && status !== unbounded) {
            // A warm start can misjudge these nearly degenerate programmes; a cold one settles it.
            model.clearSolver();
            model.run();
            status = model.getModelStatus();
          }
          if (status === optimal) remember();
          // Changing the objective discards the solution, so only after it is read.
          model.changeColCost(i, 0);
          if (status === unbounded) {
            seenHigh.set(i, Infinity);
            seenLow.set(i, seenLow.get(i) ?? 0);
            break;
          }
          if (status !== optimal)
            throw new Error(`the attacker's programme for ${keys[i]} ended with status ${status}`);
        }
        if (safe(i)) continue;
        const finding = { cell: keys[i]!, measure, low: seenLow.get(i)!, high: seenHigh.get(i)! };
        result.narrowed.push(finding);
        const single =
          measure === 'patients'
            ? Math.floor(finding.high + 1e-6) <= Math.ceil(finding.low - 1e-6)
            : finding.high - finding.low < PINNED_POUNDS;
        if (single) result.exact.push(finding);
      }
    } finally {
      model.dispose();
    }
  }
  return result;
}
