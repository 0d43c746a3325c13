// What the commissioner folder says about itself: the metadata table's rows and README.txt,
// both built from the configuration the run used, so the rules they state are the ones applied.
import { EFI_VALIDATED_FROM_AGE, HFRS } from '../pipeline/frailty.ts';
import type { SuppressionRules } from './disclosure.ts';
import type { Protection } from './disclosure-audit.ts';
import { predictionsNotAvailable } from './cost-model.ts';
import type { RunContext } from './stage.ts';
import { SERVICE_DEFAULTS, type ServiceNeedConfig } from './service-need.ts';

export function metadata(
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

function serviceNeedLines(config: ServiceNeedConfig): string {
  return Object.entries(config)
    .map(([id, s]) => {
      const d = SERVICE_DEFAULTS[id as keyof typeof SERVICE_DEFAULTS];
      const share = s.share === d.share ? ` (${d.shareSource})` : ' (set in the configuration)';
      const caseload =
        s.caseloadPerWte === d.caseloadPerWte ? ` (${d.caseloadSource})` : ' (set in the configuration)';
      return wrapLines(
        `${d.name}: responds to ${s.groups.join(' + ')}; ${+(s.share * 100).toFixed(2)}% need it in a year${share}; ${s.caseloadPerWte} people per whole-time worker a year${caseload}.`,
      );
    })
    .join('\n');
}

/** Plain text wrapped at 92 characters, each paragraph starting with "  - ". */
function wrapLines(text: string, width = 92): string {
  const lines: string[] = [];
  let line = '  -';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > width) {
      lines.push(line);
      line = '   ';
    }
    line += ` ${word}`;
  }
  return [...lines, line].join('\n');
}

export function commissionerReadme(
  ctx: RunContext,
  rules: SuppressionRules,
  protection: Protection,
  withheld: readonly string[],
  summaryTables: readonly { name: string; about: string }[],
): string {
  const tables = summaryTables.map((t) => `  ${t.name.padEnd(22)} ${t.about}`).join('\n');
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

Service need (service_need): for each PCN, place and the system, the published count of the
groups a service responds to (added, for tiers; suppressed if any of them is), times the share
of their people who need it in a year, over the caseload one whole-time worker carries. It is
worked out from the published counts alone, so it shows nothing they do not. The ratios:
${serviceNeedLines(ctx.config.serviceNeed)}

Tables (each in summary.duckdb, and as <table>.parquet and <table>.csv):
${tables}

Query them with: strata query cohorts --level place (see strata query --help).
`;
}
