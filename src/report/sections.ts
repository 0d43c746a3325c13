// The report's sections as HTML: each takes the report's figures and draws its charts and the
// table that carries the same numbers for those who cannot see the chart.
import type { GroupFairness } from '../fairness.ts';
import * as chart from './charts.ts';
import * as cohortChart from './cohort-charts.ts';
import { count, decimal, esc, figure, percent, pounds, rate, table, type Column } from './html.ts';
import { COHORTS, type Calibration, type GroupRow, type ReportData } from './data.ts';

const measureColumns = <
  T extends {
    patients: number | null;
    observed: number | null;
    predicted: number | null;
    suppressed: boolean;
  },
>(): Column<T>[] => [
  { head: 'People', value: (r) => count(r.patients, r.suppressed), numeric: true },
  { head: 'Observed cost, last 12 months', value: (r) => pounds(r.observed, r.suppressed), numeric: true },
  { head: 'Predicted cost, next 12 months', value: (r) => pounds(r.predicted, r.suppressed), numeric: true },
];

const HEADLINES: { key: string; label: string }[] = [
  { key: 'all adults', label: 'Adults' },
  { key: 'multimorbidity', label: 'Multimorbidity' },
  { key: 'frailty', label: 'Frailty' },
  { key: 'high cost', label: 'Predicted high cost' },
  { key: 'any cohort', label: 'Any cohort' },
];

export function headline(d: ReportData): string {
  const r = d.rules;
  const about: Record<string, string> = {
    'all adults': `aged ${r.adultAge} and over`,
    multimorbidity: `${r.multimorbidityMin} or more chronic conditions`,
    frailty:
      'coded moderate or severe frailty, eFI-style moderate or severe, or HFRS intermediate or high risk',
    'high cost': d.model.notAvailable
      ? `NOT AVAILABLE in this run: ${d.model.notAvailable}`
      : `predicted cost at least ${r.highCostMultiple}× the adult mean`,
    'any cohort': 'in at least one of the three cohorts',
  };
  const card = (
    key: string,
    label: string,
    note: string,
    g: Pick<GroupRow, 'patients' | 'suppressed'> & Partial<GroupRow>,
  ) => {
    const costs =
      g.observed !== undefined
        ? `<dl class="costs">
<div><dt>Observed, last 12 months</dt><dd data-field="observed">${pounds(g.observed ?? null, g.suppressed)}</dd></div>
<div><dt>Predicted, next 12 months</dt><dd data-field="predicted">${pounds(g.predicted ?? null, g.suppressed)}</dd></div>
</dl>`
        : '';
    return `<article class="card" data-headline="${esc(key)}">
<h3>${esc(label)}</h3>
<p class="big" data-field="patients">${count(g.patients, g.suppressed)}</p>
<p class="card-note">${esc(note)}</p>
${costs}
</article>`;
  };
  const cards = [
    card(
      'eligible',
      'Eligible population',
      'registered with a practice and alive on the as-of date; all ages',
      d.eligible,
    ),
  ];
  for (const h of HEADLINES) {
    const g = d.groups.find((x) => x.cohort === h.key);
    if (g) cards.push(card(h.key, h.label, about[h.key] ?? '', g));
  }
  const banner = d.model.notAvailable
    ? `<p class="notice" data-notice="predictions-not-available"><strong>The predicted high cost cohort, the risk tiers and the admission risk are not available in this run</strong>: ${esc(d.model.notAvailable)}. The multimorbidity and frailty cohorts do not depend on the models; the high cost cohort counts no one and predicted costs are shown as 0.</p>\n`
    : '';
  return `${banner}<div class="cards">${cards.join('\n')}</div>`;
}

export function overlapSection(r: chart.Renderer, d: ReportData): string {
  const any = d.groups.find((g) => g.cohort === 'any cohort');
  const rows = [...d.combinations, ...(any ? [{ ...any, cohort: 'any cohort (total)' }] : [])];
  const dataTable = table(
    'Adults and attributable cost in each exclusive combination of cohorts',
    [{ head: 'Combination', value: (x: GroupRow) => x.cohort }, ...measureColumns<GroupRow>()],
    rows,
    (x) => `data-combination="${esc(x.cohort)}"`,
  );
  return `<div class="two-up">
${figure('overlap', 'Who is in which cohorts', cohortChart.overlapDiagram(r, d.combinations), 'People in each of the seven exclusive combinations; each adult is counted once.', dataTable)}
${figure('overlap-cost', 'Attributable cost by combination', cohortChart.combinationCost(r, d.combinations), 'Bars: predicted cost, next 12 months. Black ticks: observed cost, last 12 months.', dataTable)}
</div>`;
}

export function tierSection(r: chart.Renderer, d: ReportData): string {
  if (d.model.notAvailable)
    return `<p data-notice="predictions-not-available">Risk tiers are not available in this run: ${esc(d.model.notAvailable)}.</p>`;
  const dataTable = table(
    'Adults and cost by risk tier',
    [
      { head: 'Tier', value: (x: ReportData['tiers'][number]) => x.cohort },
      ...measureColumns<ReportData['tiers'][number]>(),
      { head: 'Share of adults', value: (x) => percent(x.share_of_adults, x.suppressed), numeric: true },
      {
        head: 'Share of predicted cost',
        value: (x) => percent(x.share_of_predicted_cost, x.suppressed),
        numeric: true,
      },
    ],
    d.tiers,
  );
  const svg = cohortChart.tierPyramid(
    r,
    d.tiers.map((t) => ({ ...t, tier: t.cohort })),
  );
  return figure(
    'tiers-figure',
    'Share of adults and of predicted cost by tier',
    svg,
    'Adults ranked by predicted cost. A small very high tier carries a large share of the cost.',
    dataTable,
  );
}

export function orgSection(r: chart.Renderer, d: ReportData, level: 'place' | 'pcn', name: string): string {
  const rows = d.byOrg.filter((x) => x.level === level);
  const data = rows
    .filter((x) => x.group_type === 'cohort')
    .map((x) => ({
      org_name: x.org_name,
      cohort: x.cohort,
      per_1000: x.per_1000,
      patients: x.patients,
      suppressed: x.suppressed,
    }));
  const svg = cohortChart.cohortsByOrg(r, `by-${level}-chart`, name, COHORTS, data);
  const dataTable = table(
    `Cohorts and attributable cost by ${name}`,
    [
      { head: name[0]!.toUpperCase() + name.slice(1), value: (x: GroupRow) => x.org_name },
      { head: 'Group', value: (x) => x.cohort },
      ...measureColumns<GroupRow>(),
      {
        head: 'Per 1,000 adults',
        value: (x) => (x.group_type === 'all' ? '' : rate(x.per_1000, x.suppressed)),
        numeric: true,
      },
    ],
    rows,
    (x) => `data-org="${esc(x.org_code)}"`,
  );
  return figure(
    `by-${level}`,
    `Cohorts by ${name}`,
    svg,
    'People in each cohort per 1,000 adults; the table gives counts and attributable cost.',
    dataTable,
  );
}

export function ageSexSection(r: chart.Renderer, d: ReportData): string {
  const bands = [...new Set(d.ageSex.map((x) => x.age_band))].sort();
  const svg = cohortChart.ageSexPyramid(
    r,
    COHORTS,
    bands,
    d.ageSex.filter((x) => (COHORTS as readonly string[]).includes(x.cohort)),
  );
  const dataTable = table(
    'People by cohort, age band and sex',
    [
      { head: 'Group', value: (x: ReportData['ageSex'][number]) => x.cohort },
      { head: 'Age band', value: (x) => x.age_band },
      { head: 'Sex', value: (x) => (x.sex === 'F' ? 'female' : x.sex === 'M' ? 'male' : x.sex) },
      ...measureColumns<ReportData['ageSex'][number]>(),
    ],
    d.ageSex,
  );
  return figure(
    'age-sex',
    'Age and sex',
    svg,
    'Women to the left, men to the right; oldest at the top.',
    dataTable,
  );
}

export function deprivationSection(r: chart.Renderer, d: ReportData): string {
  const label = (q: string) => (q === '1' ? '1 most deprived' : q === '5' ? '5 least deprived' : q);
  const series = d.deprivation
    .filter(
      (x) =>
        x.group_type === 'cohort' && /^[1-5]$/.test(x.imd_quintile) && x.per_1000 !== null && !x.suppressed,
    )
    .map((x) => ({ group: x.cohort, x: label(x.imd_quintile), y: x.per_1000! }));
  const quintiles = ['1', '2', '3', '4', '5'].map(label);
  const svg = chart.lineChart(r, series, {
    id: 'deprivation-chart',
    title: 'Cohorts per 1,000 adults by deprivation quintile',
    description: `People in each cohort per 1,000 adults living in each IMD quintile, from most deprived (1) to least (5). ${series
      .map((s) => `${s.group}, quintile ${s.x}: ${s.y.toFixed(0)}`)
      .join('; ')}.`,
    xLabel: 'IMD quintile of the area of residence',
    yLabel: 'per 1,000 adults',
    x: { type: 'point', domain: quintiles, padding: 0.3 },
    y: { zero: true },
    labelFormat: (y) => y.toFixed(0),
    width: 860,
  });
  const dataTable = table(
    'People and attributable cost by cohort and deprivation quintile',
    [
      { head: 'Group', value: (x: ReportData['deprivation'][number]) => x.cohort },
      { head: 'IMD quintile', value: (x) => label(x.imd_quintile) },
      ...measureColumns<ReportData['deprivation'][number]>(),
      {
        head: 'Per 1,000 adults in the quintile',
        value: (x) => (x.group_type === 'all' ? '' : rate(x.per_1000, x.suppressed)),
        numeric: true,
      },
    ],
    d.deprivation,
  );
  return figure(
    'deprivation',
    'Deprivation gradient',
    svg,
    'People with no known area of residence are in the table as "unknown".',
    dataTable,
  );
}

export function trendSection(r: chart.Renderer, d: ReportData): string {
  const dates = [...new Set(d.trend.map((t) => t.as_of))].sort();
  const find = (asOf: string, cohort: string) => d.trend.find((t) => t.as_of === asOf && t.cohort === cohort);
  const series = d.trend
    .filter((t) => (COHORTS as readonly string[]).includes(t.cohort) && !t.suppressed && t.patients !== null)
    .map((t) => ({ group: t.cohort, x: new Date(`${t.as_of}T00:00:00Z`), y: t.patients! }));
  const svg = chart.lineChart(r, series, {
    id: 'trend-chart',
    title: 'People in each cohort at each as-of date',
    description: `One point per as-of date with a published run (${dates.length} so far). ${series
      .map((s) => `${s.group} on ${s.x.toISOString().slice(0, 10)}: ${s.y}`)
      .join('; ')}.`,
    xLabel: 'as-of date',
    yLabel: 'people',
    x: {
      type: 'utc',
      ...(dates.length === 1
        ? {
            domain: [
              new Date(`${dates[0]}T00:00:00Z`).getTime() - 90 * 86_400_000,
              new Date(`${dates[0]}T00:00:00Z`).getTime() + 90 * 86_400_000,
            ],
          }
        : {}),
      ticks: dates.map((x) => new Date(`${x}T00:00:00Z`)),
      tickFormat: (v: Date) => v.toISOString().slice(0, 10),
    },
    y: { zero: true },
    labelFormat: (y) => new Intl.NumberFormat('en-GB').format(y),
    width: 860,
  });
  const row = (asOf: string) => ({
    asOf,
    runId: find(asOf, 'all adults')?.run_id ?? find(asOf, 'eligible')?.run_id ?? '',
  });
  const cell =
    (cohort: string, what: 'patients' | 'predicted' | 'observed' = 'patients') =>
    (x: { asOf: string }) => {
      const t = find(x.asOf, cohort);
      if (!t) return 'not published';
      return what === 'patients' ? count(t.patients, t.suppressed) : pounds(t[what], t.suppressed);
    };
  const dataTable = table(
    'The headline figures at each as-of date',
    [
      { head: 'As-of date', value: (x: { asOf: string; runId: string }) => x.asOf },
      { head: 'Eligible', value: cell('eligible'), numeric: true },
      { head: 'Adults', value: cell('all adults'), numeric: true },
      { head: 'Multimorbidity', value: cell('multimorbidity'), numeric: true },
      { head: 'Frailty', value: cell('frailty'), numeric: true },
      { head: 'High cost', value: cell('high cost'), numeric: true },
      { head: 'Any cohort', value: cell('any cohort'), numeric: true },
      { head: 'Any cohort: observed cost', value: cell('any cohort', 'observed'), numeric: true },
      { head: 'Any cohort: predicted cost', value: cell('any cohort', 'predicted'), numeric: true },
      { head: 'Run', value: (x) => x.runId },
    ],
    dates.map(row),
    (x) => `data-trend-point="${esc(x.asOf)}"${x.asOf === d.asOf ? ' class="current"' : ''}`,
  );
  const note =
    dates.length > 1
      ? `${dates.length} as-of dates, from ${dates[0]} to ${dates[dates.length - 1]}; each is the latest run for that date.`
      : 'Only this run so far: the trend grows with each scheduled run for a new as-of date.';
  return figure('trend', 'Trends across runs', svg, note, dataTable, true);
}

export function dataQualitySection(r: chart.Renderer, d: ReportData): string {
  const name = (x: ReportData['dataQuality'][number]) =>
    `${x.practice_name ?? x.practice_code} (${x.practice_code})`;
  const svg = chart.dataQualityChart(
    r,
    d.dataQuality.map((x) => ({
      practice: name(x),
      share_not_kept: x.share_not_kept,
      lines: x.lines,
      status: x.status,
    })),
  );
  const n = (v: number) => new Intl.NumberFormat('en-GB').format(v);
  const dataTable = table(
    'Lines in each practice’s files and what became of them (lines, not people)',
    [
      { head: 'Practice', value: (x: ReportData['dataQuality'][number]) => name(x) },
      { head: 'Place', value: (x) => x.place ?? '' },
      { head: 'Status', value: (x) => x.status },
      { head: 'Lines', value: (x) => n(x.lines), numeric: true },
      { head: 'Rejected at load', value: (x) => n(x.rejected), numeric: true },
      { head: 'Dropped when cleaning', value: (x) => n(x.dropped), numeric: true },
      { head: 'Kept', value: (x) => n(x.kept), numeric: true },
      { head: 'Not kept', value: (x) => percent(x.share_not_kept), numeric: true },
    ],
    d.dataQuality,
  );
  return figure(
    'data-quality',
    'Data quality by practice',
    svg,
    'Lines rejected at load (wrong columns, values that do not fit the contract) or dropped when cleaning (duplicates, resent files, invalid codes, impossible dates).',
    dataTable,
  );
}

export function modelSection(r: chart.Renderer, d: ReportData): string {
  const m = d.model;
  if (m.notAvailable)
    return `<p data-notice="predictions-not-available">No models were fitted in this run: ${esc(m.notAvailable)}.</p>`;
  const metric = (label: string, value: string, note: string) =>
    `<div class="metric"><dt>${esc(label)}</dt><dd>${esc(value)}</dd><p>${esc(note)}</p></div>`;
  const metrics = `<dl class="metrics">
${metric('Cost model R²', decimal(m.rSquared), 'share of the variation in next-year cost explained; negative means worse than the mean')}
${metric('Deviance explained', m.devianceExplained === undefined ? 'not available' : `${(m.devianceExplained * 100).toFixed(0)}%`, 'by the cost model when fitted (backtest)')}
${metric('AUROC, high cost', decimal(m.highCostAuroc), 'how well the ranking finds next year’s high-cost people (0.5 = chance, 1 = perfect)')}
${metric('AUROC, emergency admission', decimal(m.admissionAuroc), 'the same for one or more emergency admissions')}
${metric('Mean absolute error', m.mae === undefined ? 'not available' : `£${Math.round(m.mae).toLocaleString('en-GB')}`, 'per person, next-year cost')}
</dl>`;
  const period = m.fittedOn
    ? `Backtest: fitted on features at ${m.fittedOn.features_at ?? '?'} with the year to ${m.fittedOn.outcome_to ?? '?'}, then scored at ${m.scoredAt ?? '?'} and checked against the year to ${m.outcomeTo ?? '?'}${m.patients ? ` (${m.patients.toLocaleString('en-GB')} people sampled)` : ''}.`
    : '';
  const svg = m.calibration.length ? chart.calibrationChart(r, m.calibration) : '';
  const dataTable = table(
    'Calibration by decile of predicted cost (backtest)',
    [
      { head: 'Decile', value: (x: Calibration) => x.decile },
      {
        head: 'Mean predicted',
        value: (x) => pounds(x.mean_predicted === null ? null : Math.round(x.mean_predicted)),
        numeric: true,
      },
      {
        head: 'Mean observed',
        value: (x) => pounds(x.mean_observed === null ? null : Math.round(x.mean_observed)),
        numeric: true,
      },
      {
        head: 'Observed ÷ predicted',
        value: (x) => (x.ratio === null ? 'suppressed' : x.ratio.toFixed(2)),
        numeric: true,
      },
    ],
    m.calibration,
  );
  const fairness = m.fairness.length
    ? table(
        'Fairness: observed ÷ predicted cost and share flagged by group (backtest, adults still registered; target: within the 95% interval plus 10%)',
        [
          { head: 'Dimension', value: (g: GroupFairness) => g.dimension },
          { head: 'Group', value: (g) => g.group },
          { head: 'Adults', value: (g) => g.patients.toLocaleString('en-GB'), numeric: true },
          {
            head: 'Observed ÷ predicted',
            value: (g) =>
              g.ratio === null
                ? 'n/a'
                : `${g.ratio.toFixed(2)} ± ${(g.ratio_standard_error ?? NaN).toFixed(3)}`,
            numeric: true,
          },
          {
            head: 'Within target',
            value: (g) => (g.within_target === null ? 'n/a' : g.within_target ? 'yes' : 'no'),
          },
          {
            head: 'Share flagged',
            value: (g) =>
              `${(100 * g.share_flagged).toFixed(1)}% ± ${(100 * g.share_flagged_standard_error).toFixed(1)}`,
            numeric: true,
          },
        ],
        m.fairness,
      )
    : '';
  return `<p>${esc(period)} The full model card is model-card.md in the run folder.</p>
${metrics}
${fairness}
${svg ? figure('calibration', 'Calibration', svg, 'Points on the dashed and solid lines close together mean predictions match what followed.', dataTable) : ''}`;
}
