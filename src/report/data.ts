// The report's figures, read from the dashboard feeds (system level), the history of earlier
// runs' feeds for the trends, the run's model summary and its system-level change counts
// (already disclosure-controlled): everything the page shows, before any of it is drawn.
import type { ListChangeSummary } from '../list-changes.ts';
import type { GroupFairness } from '../fairness.ts';
import { quotedString, type DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../db.ts';
import { historyGlob, historyHas } from '../history.ts';
import type { AgeSexDatum } from './cohort-charts.ts';
import type { FittedModels } from '../cost-model.ts';
import type { RunContext } from '../stage.ts';
import type { ServiceNeedRow } from './service-need.ts';

export interface GroupRow {
  level: string;
  org_code: string;
  org_name: string;
  group_type: string;
  cohort: string;
  group_order: number;
  patients: number | null;
  observed: number | null;
  predicted: number | null;
  suppressed: boolean;
  per_1000: number | null;
}

interface TrendRow {
  as_of: string;
  run_id: string;
  cohort: string;
  patients: number | null;
  observed: number | null;
  predicted: number | null;
  suppressed: boolean;
}

export interface Calibration {
  decile: number;
  patients: number;
  mean_predicted: number | null;
  mean_observed: number | null;
  ratio: number | null;
}

interface ModelSummary {
  /** Why the run has no models (and so no high cost cohort, tiers or admission risk), if so. */
  notAvailable?: string;
  fittedOn?: { features_at?: string; outcome_to?: string };
  scoredAt?: string;
  outcomeTo?: string;
  patients?: number;
  rSquared?: number;
  mae?: number;
  highCostAuroc?: number;
  admissionAuroc?: number;
  devianceExplained?: number;
  calibration: Calibration[];
  /** By sex, age band, deprivation quintile and place; groups under the disclosure threshold left out. */
  fairness: GroupFairness[];
}

export interface ReportData {
  runId: string;
  asOf: string;
  system: { code: string; name: string };
  eligible: { patients: number | null; suppressed: boolean };
  groups: GroupRow[];
  combinations: (GroupRow & { multimorbidity: boolean; frailty: boolean; high_cost: boolean })[];
  tiers: (GroupRow & { share_of_adults: number | null; share_of_predicted_cost: number | null })[];
  byOrg: GroupRow[];
  ageSex: (AgeSexDatum & { observed: number | null; predicted: number | null })[];
  deprivation: (GroupRow & { imd_quintile: string })[];
  trend: TrendRow[];
  serviceNeed: ServiceNeedRow[];
  dataQuality: {
    practice_code: string;
    practice_name: string | null;
    place: string | null;
    status: string;
    lines: number;
    loaded: number;
    rejected: number;
    dropped: number;
    kept: number;
    share_not_kept: number | null;
  }[];
  model: ModelSummary;
  /** System-level counts of who joined and left each cohort and tier, already disclosure-controlled. */
  listChanges?: ListChangeSummary;
  rules: {
    suppressBelow: number;
    roundTo: number;
    adultAge: number;
    multimorbidityMin: number;
    highCostMultiple: number;
  };
}

const MEASURES = `patients, observed_cost_12m as observed, predicted_cost_12m as predicted, suppressed`;
export const COHORTS = ['multimorbidity', 'frailty', 'high cost', 'any cohort'] as const;

/** The system-level rows of a feed in every as-of date's history, with this run's in place of its own date's. */
async function trendRows(
  conn: DuckDBConnection,
  outDir: string,
  asOf: string,
  feed: string,
  select: string,
  where: string,
): Promise<TrendRow[]> {
  const current = `select strftime(as_of, '%Y-%m-%d') as as_of, run_id, ${select} from dashboard_${feed} where ${where}`;
  const past = historyHas(outDir, feed)
    ? `select strftime(as_of, '%Y-%m-%d') as as_of, run_id, ${select}
       from read_parquet(${quotedString(historyGlob(outDir, feed))}, hive_partitioning = true, union_by_name = true)
       where ${where} and as_of <> $as_of::date
       union all `
    : '';
  return queryRows<TrendRow & Record<string, unknown>>(
    conn,
    `${past}${current} order by as_of`,
    past ? { as_of: asOf } : undefined,
  );
}

function modelSummary(models: FittedModels | undefined, suppressBelow: number): ModelSummary {
  if (!models) return { calibration: [], fairness: [] };
  if (!models.available) return { notAvailable: models.reason, calibration: [], fairness: [] };
  const { backtest, periods } = models.summary;
  const { validation } = backtest;
  const num = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return {
    fittedOn: periods.backtest.fitted_on,
    scoredAt: periods.backtest.scored_at,
    outcomeTo: periods.backtest.outcome_to,
    patients: num(validation.patients),
    rSquared: num(validation.cost.r_squared),
    mae: num(validation.cost.mean_absolute_error),
    highCostAuroc: num(validation.high_cost.auroc),
    admissionAuroc: num(validation.admission.auroc),
    devianceExplained: num(backtest.cost.deviance_explained),
    fairness: (validation.still_registered.fairness ?? []).filter((g) => g.patients >= suppressBelow),
    // A decile's means describe its people: hidden, like any cost, when they are few.
    calibration: validation.cost.calibration_by_decile.map((d) => {
      const small = !(d.patients >= suppressBelow);
      return {
        decile: d.decile,
        patients: d.patients,
        mean_predicted: small ? null : (num(d.mean_predicted) ?? null),
        mean_observed: small ? null : (num(d.mean_observed) ?? null),
        ratio: small ? null : (num(d.ratio) ?? null),
      };
    }),
  };
}

export async function reportData(ctx: RunContext): Promise<ReportData> {
  const { conn } = ctx;
  const groups = await queryRows<GroupRow & Record<string, unknown>>(
    conn,
    `select level, org_code, org_name, group_type, cohort, group_order, ${MEASURES}, patients_per_1000_adults as per_1000
     from dashboard_cohorts_by_org where level = 'system' order by group_order`,
  );
  const combinations = await queryRows<ReportData['combinations'][number] & Record<string, unknown>>(
    conn,
    `select c.level, c.org_code, c.org_name, c.group_type, c.cohort, c.group_order, c.patients,
            c.observed_cost_12m as observed, c.predicted_cost_12m as predicted, c.suppressed,
            c.patients_per_1000_adults as per_1000, d.multimorbidity, d.frailty, d.high_cost
     from dashboard_cohorts_by_org c join cohort_group_definition d using (group_type, cohort)
     where c.level = 'system' and c.group_type = 'combination' and c.cohort <> 'no cohort' order by c.group_order`,
  );
  const tiers = await queryRows<ReportData['tiers'][number] & Record<string, unknown>>(
    conn,
    `select level, org_code, org_name, 'tier' as group_type, tier as cohort, tier_order as group_order, ${MEASURES},
            null as per_1000, share_of_adults, share_of_predicted_cost
     from dashboard_tier_pyramid where level = 'system' order by tier_order`,
  );
  const byOrg = await queryRows<GroupRow & Record<string, unknown>>(
    conn,
    `select level, org_code, org_name, group_type, cohort, group_order, ${MEASURES}, patients_per_1000_adults as per_1000
     from dashboard_cohorts_by_org where level in ('pcn', 'place') and group_type in ('cohort', 'all')
     order by level_order desc, org_name, group_order`,
  );
  const ageSex = await queryRows<ReportData['ageSex'][number] & Record<string, unknown>>(
    conn,
    `select cohort, age_band, sex, ${MEASURES} from dashboard_age_sex_pyramid
     where level = 'system' order by group_order, age_band, sex`,
  );
  const deprivation = await queryRows<ReportData['deprivation'][number] & Record<string, unknown>>(
    conn,
    `select level, org_code, org_name, group_type, cohort, group_order, imd_quintile, ${MEASURES}, patients_per_1000_adults as per_1000
     from dashboard_deprivation_gradient where level = 'system' order by group_order, imd_quintile`,
  );
  const eligible = await queryRows<{ patients: number | null; suppressed: boolean }>(
    conn,
    `select patients, suppressed from dashboard_attrition where level = 'system' and step like 'eligible%'`,
  );
  const cohortTrend = await trendRows(
    conn,
    ctx.outDir,
    ctx.asOf,
    'cohorts_by_org',
    `cohort, ${MEASURES}`,
    `level = 'system' and group_type in ('cohort', 'all')`,
  );
  const eligibleTrend = await trendRows(
    conn,
    ctx.outDir,
    ctx.asOf,
    'attrition',
    `'eligible' as cohort, patients, null::bigint as observed, null::bigint as predicted, suppressed`,
    `level = 'system' and step like 'eligible%'`,
  );
  const serviceNeed = await queryRows<ServiceNeedRow & Record<string, unknown>>(
    conn,
    `select level, org_code, org_name, service, cohorts, cohort_patients, share_needing, people_needing,
            caseload_per_wte, wte, suppressed
     from dashboard_service_need order by level_order desc, org_name, service_order`,
  );
  const dataQuality = await queryRows<ReportData['dataQuality'][number] & Record<string, unknown>>(
    conn,
    `select practice_code, practice_name, place, status, lines, loaded, rejected, dropped, kept, share_not_kept
     from dashboard_data_quality_by_practice order by place, practice_name, practice_code`,
  );
  const system = groups[0] ?? { org_code: ctx.config.system.code, org_name: ctx.config.system.name };
  const c = ctx.config;
  return {
    runId: ctx.runId,
    asOf: ctx.asOf,
    system: { code: system.org_code, name: system.org_name },
    eligible: eligible[0] ?? { patients: null, suppressed: true },
    groups,
    combinations,
    tiers,
    byOrg,
    ageSex,
    deprivation,
    trend: [...eligibleTrend, ...cohortTrend],
    serviceNeed,
    dataQuality,
    model: modelSummary(ctx.results.models, c.disclosure.suppressBelow),
    ...(ctx.results.listChanges ? { listChanges: ctx.results.listChanges } : {}),
    rules: {
      suppressBelow: c.disclosure.suppressBelow,
      roundTo: c.disclosure.roundTo,
      adultAge: c.cohorts.adultAge,
      multimorbidityMin: c.cohorts.multimorbidityMin,
      highCostMultiple: c.cohorts.highCostMultiple,
    },
  };
}
