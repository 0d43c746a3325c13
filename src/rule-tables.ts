// The declarations (codelists, condition rules, eFI-style deficits, HFRS points, unit
// costs, contract patterns) become tables and variables in the work database, so the SQL
// in sql/ joins them and never has a code or threshold spliced into its text.
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import { attritionSteps } from '../pipeline/attrition-steps.ts';
import { codedCareContexts, RECENT_DISCHARGE } from '../pipeline/care-context.ts';
import { conditions } from '../pipeline/conditions.ts';
import { CODED_FRAILTY, deficits, EFI_DEFICIT_COUNT, HFRS } from '../pipeline/frailty.ts';
import { codelistRows, loadCodelists } from './codelists.ts';
import type { Config } from './config.ts';
import { csvFiles, EARLIEST_DATE } from './contract.ts';
import { appendRows, setVariables } from './db.ts';
import { loadHfrsPoints } from './codelists.ts';
import { isValidSctid } from './snomed.ts';
import { serviceRatioRows } from './service-need.ts';
import type { RunContext } from './stage.ts';

/**
 * Reference dates, a year apart: the as-of date (to score), a year earlier (to train), two years
 * earlier (to backtest), and further back as far as the experience rating's history reaches from
 * the backtest's date (the clinical record as it stood at the start of each history year; dates
 * before the delivery's secondary care begins are removed in reference_dates.sql).
 */
export async function createReferenceDates(
  conn: DuckDBConnection,
  asOf: string,
  experienceMonths: number,
): Promise<void> {
  const deepest = 2 + Math.ceil(experienceMonths / 12);
  const names = Array.from({ length: deepest + 1 }, (_, years) =>
    years === 0 ? 'current' : years === 1 ? 'train' : years === 2 ? 'backtest' : `history_${years}y`,
  );
  // An enum, not text: every large table is keyed on (ref, patient_key), and keys holding a
  // small integer join faster than names (docs/performance.md).
  await conn.run(`create type reference_name as enum (${names.map((n) => `'${n}'`).join(', ')})`);
  await conn.run(
    `create or replace table reference_date as
    select
        list_extract($names::VARCHAR[], years_back + 1)::reference_name as ref,
        ($as_of::DATE - to_months(12 * years_back))::DATE as ref_date,
        years_back::INTEGER as years_back
    from range(0, $deepest + 1) t(years_back)`,
    { as_of: asOf, deepest, names: listValue(names) },
  );
}

const polypharmacy = deficits.find((d) => d.distinctDrugs)!.distinctDrugs!;

export async function createRuleTables(
  conn: DuckDBConnection,
  config: Config,
  asOf: string,
  extractDate: string,
): Promise<void> {
  const lists = loadCodelists();
  await appendRows(
    conn,
    'attrition_step',
    { step_order: 'INTEGER', step_id: 'VARCHAR', step: 'VARCHAR', same_as: 'VARCHAR' },
    attritionSteps(config.cohorts).map((s, i) => [i + 1, s.id, s.label, s.sameAs]),
  );
  await appendRows(
    conn,
    'codelist',
    { codelist: 'VARCHAR', system: 'VARCHAR', code: 'VARCHAR' },
    codelistRows(lists).map((r) => [r.codelist, r.system, r.code]),
  );
  await appendRows(
    conn,
    'condition_rule',
    {
      condition_id: 'VARCHAR',
      condition_name: 'VARCHAR',
      criterion_no: 'INTEGER',
      kind: 'VARCHAR',
      codelist: 'VARCHAR',
      medication: 'VARCHAR',
      within_months: 'INTEGER',
      first_within_months: 'INTEGER',
      min_issues: 'INTEGER',
      unless_codelist: 'VARCHAR',
      resolved_codelist: 'VARCHAR',
    },
    conditions.flatMap((c) =>
      c.criteria.map((k, i) => [
        c.id,
        c.name,
        i + 1,
        k.kind,
        'codelist' in k ? k.codelist : null,
        'medication' in k ? k.medication : null,
        k.kind === 'diagnosis' ? (k.withinMonths ?? null) : k.withinMonths,
        k.kind === 'diagnosis' ? (k.firstWithinMonths ?? null) : null,
        k.kind === 'diagnosis' ? null : (k.minIssues ?? 1),
        k.kind === 'prescriptions' ? (k.unlessDiagnosed ?? null) : null,
        c.resolved ?? null,
      ]),
    ),
  );
  await appendRows(
    conn,
    'deficit_rule',
    { deficit_id: 'VARCHAR', deficit_name: 'VARCHAR', codelist: 'VARCHAR', min_distinct_drugs: 'INTEGER' },
    deficits.map((d) => [d.id, d.name, d.codelist ?? null, d.distinctDrugs?.min ?? null]),
  );
  await appendRows(
    conn,
    'frailty_severity',
    { severity: 'VARCHAR', codelist: 'VARCHAR', rank: 'INTEGER' },
    Object.entries(CODED_FRAILTY.codelists).map(([severity, id], i) => [severity, id, i + 1]),
  );
  await appendRows(
    conn,
    'hfrs_points',
    { icd10_code: 'VARCHAR', points: 'DOUBLE' },
    [...loadHfrsPoints()].map(([code, points]) => [code, points]),
  );
  await appendRows(
    conn,
    'care_context_rule',
    {
      context_id: 'VARCHAR',
      codelist: 'VARCHAR',
      ends: 'BOOLEAN',
      since: 'VARCHAR',
      within_months: 'INTEGER',
    },
    codedCareContexts.flatMap((c) => [
      [c.id, c.codelist, false, c.since ?? null, c.withinMonths ?? null],
      ...(c.endedBy ? [[c.id, c.endedBy, true, null, null]] : []),
    ]),
  );
  await appendRows(
    conn,
    'unit_cost',
    { setting: 'VARCHAR', cost_gbp: 'DOUBLE' },
    Object.entries(config.unitCosts).map(([s, c]) => [s, c]),
  );
  await appendRows(
    conn,
    'service_ratio',
    {
      service_order: 'INTEGER',
      service: 'VARCHAR',
      cohort: 'VARCHAR',
      share_needing: 'DOUBLE',
      caseload_per_wte: 'DOUBLE',
    },
    serviceRatioRows(config.serviceNeed),
  );
  await createReferenceDates(conn, asOf, config.model.experienceMonths);
  await conn.run('create or replace table dropped_row (file_id INTEGER, reason VARCHAR, rows BIGINT)');

  const patterns: Record<string, string> = {};
  const ranges: Record<string, number> = {};
  for (const f of csvFiles)
    for (const [name, c] of Object.entries(f.columns)) {
      patterns[`pattern_${f.name}_${name}`] = c.pattern;
      if (c.range) {
        ranges[`min_${f.name}_${name}`] = c.range.min;
        ranges[`max_${f.name}_${name}`] = c.range.max;
      }
    }
  await setVariables(conn, {
    ...patterns,
    ...ranges,
    earliest_date: EARLIEST_DATE,
    // Declaration order: bit k of a patient's condition set is condition k (see patient_condition_set in conditions.sql).
    condition_ids: listValue(conditions.map((c) => c.id)),
    as_of: asOf,
    extract_date: extractDate,
    adult_age: config.cohorts.adultAge,
    multimorbidity_min: config.cohorts.multimorbidityMin,
    hfrs_marker_at_least: config.cohorts.hfrsMarkerAtLeast,
    efi_deficit_count: EFI_DEFICIT_COUNT,
    coded_frailty_months: CODED_FRAILTY.withinMonths,
    hfrs_months: HFRS.withinMonths,
    hfrs_settings: listValue([...HFRS.settings]),
    polypharmacy_chapter_from: polypharmacy.bnfChapters.from,
    polypharmacy_chapter_to: polypharmacy.bnfChapters.to,
    polypharmacy_months: polypharmacy.withinMonths,
    high_cost_multiple: config.cohorts.highCostMultiple,
    experience_months: config.model.experienceMonths,
    tier_very_high: config.tiers.veryHigh,
    tier_high: config.tiers.high,
    tier_moderate: config.tiers.moderate,
    recent_discharge_days: RECENT_DISCHARGE.days,
    recent_discharge_settings: listValue([...RECENT_DISCHARGE.settings]),
    system_code: config.system.code,
    system_name: config.system.name,
  });
  // Variables are typed by their values; dates must compare as dates.
  await conn.run(`set variable as_of = getvariable('as_of')::DATE`);
  await conn.run(`set variable extract_date = getvariable('extract_date')::DATE`);
  await conn.run(`set variable earliest_date = getvariable('earliest_date')::DATE`);
}

/** SNOMED CT codes in the extract that fail the check digit, found once per distinct code. */
export async function createInvalidSnomed(conn: DuckDBConnection): Promise<number> {
  const reader = await conn.runAndReadAll(
    'select distinct snomed_code from raw_observations where snomed_code is not null',
  );
  const invalid = reader
    .getRows()
    .map((r) => String(r[0]))
    .filter((code) => !isValidSctid(code));
  await appendRows(
    conn,
    'invalid_snomed',
    { code: 'VARCHAR' },
    invalid.map((c) => [c]),
  );
  return invalid.length;
}

/** Before staging: rules, codelists and variables in place; check digits tested once per code. */
export async function prepareStaging(ctx: RunContext): Promise<void> {
  const extractDate = ctx.ingest!.delivery.manifest.extract_date;
  await createRuleTables(ctx.conn, ctx.config, ctx.asOf, extractDate);
  const invalid = await createInvalidSnomed(ctx.conn);
  ctx.log.debug('SNOMED CT codes failing the check digit', { distinct_codes: invalid });
}
