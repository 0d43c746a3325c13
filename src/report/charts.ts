// The report's charts: Observable Plot, rendered to SVG on the server with jsdom so the page
// needs no script to show them. Every chart is labelled directly (values at the bars, names
// at the ends of lines, distinct symbols and dash patterns), so none depends on colour, and
// each carries a <title> and <desc> for screen readers. Suppressed values are never drawn
// as bars or points; the word "suppressed" stands in their place.
import type * as PlotModule from '@observablehq/plot';
import { poundsShort } from './html.ts';

// Plot and jsdom take about a second to load, and only the report needs them: they are
// loaded with the first renderer, so every other command (and a run's earlier stages)
// starts without them. Chart functions are only ever called with a renderer in hand.
let Plot: typeof PlotModule;

export const COLOURS = {
  blue: '#005eb8',
  darkBlue: '#003087',
  pink: '#ae2573',
  orange: '#c05e00',
  purple: '#330072',
  green: '#007f3b',
  grey: '#425563',
  paleBlue: '#e8f1fa',
  text: '#212b32',
} as const;

/** How each group is told apart without colour: a symbol and a dash pattern. */
export const GROUP_STYLE: Record<string, { colour: string; symbol: string; dash: string }> = {
  multimorbidity: { colour: COLOURS.blue, symbol: 'circle', dash: 'none' },
  frailty: { colour: COLOURS.pink, symbol: 'square', dash: '6,3' },
  'high cost': { colour: COLOURS.orange, symbol: 'triangle', dash: '2,3' },
  'any cohort': { colour: COLOURS.purple, symbol: 'diamond', dash: '10,3,2,3' },
  'all adults': { colour: COLOURS.grey, symbol: 'star', dash: 'none' },
  predicted: { colour: COLOURS.blue, symbol: 'circle', dash: '6,3' },
  observed: { colour: COLOURS.text, symbol: 'square', dash: 'none' },
};

const style = (group: string) =>
  GROUP_STYLE[group] ?? { colour: COLOURS.grey, symbol: 'cross', dash: 'none' };

export interface Renderer {
  chart(id: string, title: string, description: string, options: PlotModule.PlotOptions): string;
  close(): void;
}

export async function renderer(): Promise<Renderer> {
  Plot ??= await import('@observablehq/plot');
  const { JSDOM } = await import('jsdom');
  const dom = new JSDOM('<!doctype html><html><body></body></html>');
  const document = dom.window.document;
  return {
    chart(id, title, description, options) {
      const node = Plot.plot({
        document,
        style: { fontSize: '12px', color: COLOURS.text, background: 'transparent' },
        ...options,
      });
      const svg = node.tagName.toLowerCase() === 'svg' ? node : node.querySelector('svg');
      if (!svg) throw new Error(`chart ${id} rendered no SVG`);
      svg.setAttribute('role', 'img');
      svg.removeAttribute('aria-label');
      svg.setAttribute('aria-labelledby', `${id}-title ${id}-desc`);
      const titleEl = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      titleEl.setAttribute('id', `${id}-title`);
      titleEl.textContent = title;
      const descEl = document.createElementNS('http://www.w3.org/2000/svg', 'desc');
      descEl.setAttribute('id', `${id}-desc`);
      descEl.textContent = description;
      svg.insertBefore(descEl, svg.firstChild);
      svg.insertBefore(titleEl, svg.firstChild);
      return node.outerHTML;
    },
    close() {
      dom.window.close();
    },
  };
}

export interface Measured {
  patients: number | null;
  suppressed: boolean;
}

const shown = <T extends Measured>(rows: readonly T[]) =>
  rows.filter((r) => !r.suppressed && r.patients !== null);
const hidden = <T extends Measured>(rows: readonly T[]) =>
  rows.filter((r) => r.suppressed || r.patients === null);
const fmt = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

export interface CombinationDatum extends Measured {
  cohort: string;
  multimorbidity: boolean;
  frailty: boolean;
  high_cost: boolean;
  observed: number | null;
  predicted: number | null;
}

/** The seven exclusive combinations as regions of three overlapping circles. */
export function overlapDiagram(r: Renderer, data: readonly CombinationDatum[]): string {
  const W = 460;
  const H = 410;
  const R = 112;
  const circles = [
    { name: 'Multimorbidity', x: 175, y: 165, lx: 95, ly: 32, anchor: 'middle', key: 'multimorbidity' },
    { name: 'Frailty', x: 287, y: 165, lx: 367, ly: 32, anchor: 'middle', key: 'frailty' },
    { name: 'High cost', x: 231, y: 262, lx: 231, ly: 396, anchor: 'middle', key: 'high cost' },
  ];
  // Region label positions for circles of radius R whose centres are R apart.
  const spot = (d: CombinationDatum): [number, number] => {
    const key = `${+d.multimorbidity}${+d.frailty}${+d.high_cost}`;
    const spots: Record<string, [number, number]> = {
      '100': [120, 135],
      '010': [342, 135],
      '001': [231, 325],
      '110': [231, 112],
      '101': [170, 232],
      '011': [292, 232],
      '111': [231, 197],
    };
    return spots[key] ?? [0, 0];
  };
  const labels = data.map((d) => {
    const [x, y] = spot(d);
    return { x, y, text: d.suppressed || d.patients === null ? 'suppressed' : fmt.format(d.patients) };
  });
  return r.chart(
    'overlap-diagram',
    'Cohort overlap: adults in each of the seven exclusive combinations',
    `Three overlapping circles (multimorbidity, frailty, high cost). ${data
      .map(
        (d) => `${d.cohort}: ${d.suppressed || d.patients === null ? 'suppressed' : fmt.format(d.patients)}`,
      )
      .join('; ')}.`,
    {
      width: W,
      height: H,
      margin: 0,
      x: { domain: [0, W], range: [0, W], axis: null },
      y: { domain: [0, H], range: [0, H], axis: null },
      marks: [
        ...circles.map((c) =>
          Plot.dot([c], {
            x: 'x',
            y: 'y',
            r: R,
            fill: style(c.key).colour,
            fillOpacity: 0.1,
            stroke: style(c.key).colour,
            strokeWidth: 2,
            strokeDasharray: style(c.key).dash,
          }),
        ),
        Plot.text(circles, {
          x: 'lx',
          y: 'ly',
          text: 'name',
          fontSize: 14,
          fontWeight: 'bold',
          fill: COLOURS.text,
        }),
        Plot.text(labels, {
          x: 'x',
          y: 'y',
          text: 'text',
          fontSize: (d: { text: string }) => (d.text === 'suppressed' ? 10 : 15),
          fontWeight: 'bold',
          fill: COLOURS.text,
          stroke: 'white',
          strokeWidth: 3,
          paintOrder: 'stroke',
        }),
      ],
    },
  );
}

/** Predicted cost of each exclusive combination as bars, observed cost as a tick. */
export function combinationCost(r: Renderer, data: readonly CombinationDatum[]): string {
  const rows = shown(data).map((d) => ({ ...d, predicted: d.predicted ?? 0, observed: d.observed ?? 0 }));
  const max = Math.max(1, ...rows.map((d) => Math.max(d.predicted, d.observed)));
  return r.chart(
    'combination-cost',
    'Attributable cost of each exclusive combination of cohorts',
    'Horizontal bars: predicted cost for the next 12 months; black ticks: observed cost in the last 12 months. Each adult is in one combination, so these costs add up without counting a pound twice.',
    {
      width: 500,
      height: 40 + data.length * 34,
      marginLeft: 232,
      marginRight: 52,
      x: {
        label: 'GBP',
        domain: [0, max * 1.05],
        tickFormat: (v: number) => poundsShort(v),
        ticks: 4,
        grid: true,
      },
      y: { label: null, domain: data.map((d) => d.cohort) },
      marks: [
        Plot.barX(rows, {
          y: 'cohort',
          x: 'predicted',
          fill: COLOURS.blue,
          fillOpacity: 0.85,
          insetTop: 6,
          insetBottom: 6,
        }),
        Plot.tickX(rows, { y: 'cohort', x: 'observed', stroke: COLOURS.text, strokeWidth: 3 }),
        Plot.text(rows, {
          y: 'cohort',
          x: (d: { predicted: number; observed: number }) => Math.max(d.predicted, d.observed),
          text: (d: { predicted: number }) => poundsShort(d.predicted),
          textAnchor: 'start',
          dx: 6,
          fill: COLOURS.text,
        }),
        Plot.text(hidden(data), {
          y: 'cohort',
          x: 0,
          text: () => 'suppressed',
          textAnchor: 'start',
          dx: 4,
          fill: COLOURS.grey,
        }),
      ],
    },
  );
}

export interface TierDatum extends Measured {
  tier: string;
  share_of_adults: number | null;
  share_of_predicted_cost: number | null;
}

/** The risk pyramid: each tier's share of adults (left) against its share of predicted cost (right). */
export function tierPyramid(r: Renderer, data: readonly TierDatum[]): string {
  const rows = shown(data).map((d) => ({
    ...d,
    people: d.share_of_adults ?? 0,
    cost: d.share_of_predicted_cost ?? 0,
  }));
  // Room beyond the longest bar on each side for its label.
  const maxPeople = Math.max(0.05, ...rows.map((d) => d.people));
  const maxCost = Math.max(0.05, ...rows.map((d) => d.cost));
  return r.chart(
    'tier-pyramid',
    'Risk pyramid: share of adults and share of predicted cost by tier',
    `Bars to the left show each tier's share of adults, bars to the right its share of predicted cost. ${rows
      .map((d) => `${d.tier}: ${pct(d.people)} of adults, ${pct(d.cost)} of predicted cost`)
      .join('; ')}.`,
    {
      width: 900,
      height: 230,
      marginLeft: 90,
      marginRight: 30,
      x: {
        domain: [-Math.min(1, maxPeople + 0.3), Math.min(1, maxCost + 0.25)],
        tickFormat: (v: number) => `${Math.round(Math.abs(v * 100))}%`,
        ticks: 8,
        label: '← share of adults    |    share of predicted cost →',
        labelAnchor: 'center',
        grid: true,
      },
      y: { domain: data.map((d) => d.tier), label: null, padding: 0.15 },
      marks: [
        Plot.barX(rows, {
          y: 'tier',
          x1: 0,
          x2: (d: { people: number }) => -d.people,
          fill: COLOURS.grey,
          fillOpacity: 0.55,
        }),
        Plot.barX(rows, { y: 'tier', x1: 0, x2: 'cost', fill: COLOURS.blue }),
        Plot.text(rows, {
          y: 'tier',
          x: (d: { people: number }) => -d.people,
          text: (d: { people: number }) => `${pct(d.people)} of adults`,
          textAnchor: 'end',
          dx: -5,
          fill: COLOURS.text,
        }),
        Plot.text(rows, {
          y: 'tier',
          x: 'cost',
          text: (d: { cost: number }) => `${pct(d.cost)} of cost`,
          textAnchor: 'start',
          dx: 5,
          fill: COLOURS.text,
        }),
        Plot.text(hidden(data), { y: 'tier', x: 0, text: () => 'suppressed', fill: COLOURS.grey }),
        Plot.ruleX([0], { stroke: COLOURS.text }),
      ],
    },
  );
}

export interface OrgCohortDatum extends Measured {
  org_name: string;
  cohort: string;
  per_1000: number | null;
}

/** Each cohort per 1,000 adults by organisation: one panel per cohort. */
export function cohortsByOrg(
  r: Renderer,
  id: string,
  levelName: string,
  cohorts: readonly string[],
  data: readonly OrgCohortDatum[],
): string {
  const rows = data.filter((d) => !d.suppressed && d.per_1000 !== null) as (OrgCohortDatum & {
    per_1000: number;
  })[];
  const gaps = data.filter((d) => d.suppressed || d.per_1000 === null);
  const orgs = [...new Set(data.map((d) => d.org_name))];
  const max = Math.max(1, ...rows.map((d) => d.per_1000));
  return r.chart(
    id,
    `Cohorts per 1,000 adults by ${levelName}`,
    `One panel per cohort; bars show people in the cohort per 1,000 adults of each ${levelName}. ${rows
      .map((d) => `${d.org_name}, ${d.cohort}: ${d.per_1000.toFixed(0)}`)
      .join('; ')}.`,
    {
      width: 1000,
      height: 70 + orgs.length * 34,
      marginLeft: 190,
      marginRight: 20,
      marginTop: 30,
      fx: { domain: cohorts, label: null, padding: 0.12 },
      x: { domain: [0, max * 1.35], ticks: 3, label: 'per 1,000 adults', grid: true },
      y: { domain: orgs, label: null },
      marks: [
        Plot.barX(rows, {
          fx: 'cohort',
          y: 'org_name',
          x: 'per_1000',
          fill: (d: OrgCohortDatum) => style(d.cohort).colour,
          insetTop: 5,
          insetBottom: 5,
        }),
        Plot.text(rows, {
          fx: 'cohort',
          y: 'org_name',
          x: 'per_1000',
          text: (d: { per_1000: number }) => d.per_1000.toFixed(0),
          textAnchor: 'start',
          dx: 4,
          fill: COLOURS.text,
        }),
        Plot.text(gaps, {
          fx: 'cohort',
          y: 'org_name',
          x: 0,
          text: () => 'suppressed',
          textAnchor: 'start',
          dx: 3,
          fill: COLOURS.grey,
        }),
        Plot.ruleX([0], { stroke: COLOURS.text }),
      ],
    },
  );
}

export interface AgeSexDatum extends Measured {
  cohort: string;
  age_band: string;
  sex: string;
}

/** An age-sex pyramid per cohort: women to the left, men to the right. */
export function ageSexPyramid(
  r: Renderer,
  cohorts: readonly string[],
  bands: readonly string[],
  data: readonly AgeSexDatum[],
): string {
  const rows = shown(data).map((d) => ({ ...d, x: (d.sex === 'F' ? -1 : 1) * d.patients! }));
  const gaps = hidden(data).map((d) => ({ ...d, x: 0 }));
  const max = Math.max(1, ...rows.map((d) => Math.abs(d.x)));
  return r.chart(
    'age-sex-pyramid',
    'Age-sex pyramid of each cohort',
    `One pyramid per cohort: women to the left of the centre line, men to the right, oldest band at the top. ${rows
      .map((d) => `${d.cohort}, ${d.sex === 'F' ? 'women' : 'men'} ${d.age_band}: ${d.patients}`)
      .join('; ')}.`,
    {
      width: 1000,
      height: 260,
      marginLeft: 50,
      marginTop: 30,
      fx: { domain: cohorts, label: null, padding: 0.1 },
      x: {
        domain: [-max * 1.45, max * 1.45],
        tickFormat: (v: number) => fmt.format(Math.abs(v)),
        ticks: 4,
        label: '← women    people    men →',
        labelAnchor: 'center',
      },
      y: { domain: [...bands].reverse(), label: null, padding: 0.12 },
      marks: [
        Plot.barX(rows, {
          fx: 'cohort',
          y: 'age_band',
          x1: 0,
          x2: 'x',
          fill: (d: AgeSexDatum) => (d.sex === 'F' ? COLOURS.pink : COLOURS.blue),
          fillOpacity: (d: AgeSexDatum) => (d.sex === 'F' ? 0.6 : 0.9),
        }),
        // Plot takes text anchors and offsets as constants, so each side is its own mark.
        ...(['F', 'M'] as const).flatMap((sex) => {
          const side = { textAnchor: sex === 'F' ? 'end' : 'start', dx: sex === 'F' ? -3 : 3 } as const;
          return [
            Plot.text(
              rows.filter((d) => d.sex === sex),
              {
                fx: 'cohort',
                y: 'age_band',
                x: 'x',
                text: (d: AgeSexDatum) => fmt.format(d.patients!),
                fill: COLOURS.text,
                fontSize: 10,
                ...side,
              },
            ),
            Plot.text(
              gaps.filter((d) => d.sex === sex),
              {
                fx: 'cohort',
                y: 'age_band',
                x: 0,
                text: () => 'suppressed',
                fill: COLOURS.grey,
                fontSize: 9,
                ...side,
              },
            ),
          ];
        }),
        Plot.ruleX([0], { stroke: COLOURS.text }),
      ],
    },
  );
}

export interface SeriesDatum {
  group: string;
  x: number | string | Date;
  y: number;
}

interface LineChartOptions {
  id: string;
  title: string;
  description: string;
  xLabel: string;
  yLabel: string;
  x: PlotModule.ScaleOptions;
  y?: PlotModule.ScaleOptions;
  labelFormat: (y: number) => string;
  width?: number;
}

/** Lines with a distinct symbol and dash per group and the group's name at its last point. */
export function lineChart(r: Renderer, data: readonly SeriesDatum[], o: LineChartOptions): string {
  const groups = [...new Set(data.map((d) => d.group))];
  const log = o.y?.type === 'log';
  const ys = data.map((d) => d.y);
  const top = Math.max(1, ...ys);
  const domain: [number, number] = log ? [Math.min(...ys) / 1.3, top * 1.3] : [0, top * 1.12];
  const height = 300;
  const margin = { top: 24, bottom: 40 };
  const marks: PlotModule.Markish[] = [];
  for (const g of groups) {
    const s = style(g);
    const rows = data.filter((d) => d.group === g);
    marks.push(
      Plot.line(rows, { x: 'x', y: 'y', stroke: s.colour, strokeWidth: 2, strokeDasharray: s.dash }),
      Plot.dot(rows, { x: 'x', y: 'y', symbol: () => s.symbol, fill: s.colour, r: 5, stroke: 'white' }),
    );
  }
  const labels = spreadLabels(
    groups.map((g) => data.filter((d) => d.group === g).at(-1)!),
    domain,
    log,
    height - margin.top - margin.bottom,
  );
  marks.push(
    Plot.text(labels, {
      x: 'x',
      y: 'labelY',
      text: (d: SeriesDatum) => `${d.group} ${o.labelFormat(d.y)}`,
      textAnchor: 'start',
      dx: 10,
      fill: COLOURS.text,
    }),
  );
  return r.chart(o.id, o.title, o.description, {
    width: o.width ?? 760,
    height,
    marginTop: margin.top,
    marginBottom: margin.bottom,
    marginLeft: 60,
    marginRight: 200,
    symbol: { type: 'identity' },
    x: { label: o.xLabel, labelAnchor: 'center', labelOffset: 34, ...o.x },
    y: { label: o.yLabel, grid: true, ...o.y, domain },
    marks,
  });
}

/**
 * The label of each line sits at its last point, moved apart vertically where two would
 * overlap (lines often end close together), so every name stays legible.
 */
function spreadLabels(
  last: readonly SeriesDatum[],
  domain: [number, number],
  log: boolean,
  innerHeight: number,
): (SeriesDatum & { labelY: number })[] {
  const t = (v: number) => (log ? Math.log(v) : v);
  const span = t(domain[1]) - t(domain[0]);
  const toPx = (v: number) => ((t(v) - t(domain[0])) / span) * innerHeight;
  const fromPx = (p: number) => {
    const v = t(domain[0]) + (p / innerHeight) * span;
    return log ? Math.exp(v) : v;
  };
  const gap = 15;
  const placed = last.map((d) => ({ d, p: toPx(d.y) })).sort((a, b) => a.p - b.p);
  for (let i = 1; i < placed.length; i++) placed[i]!.p = Math.max(placed[i]!.p, placed[i - 1]!.p + gap);
  const overflow = (placed.at(-1)?.p ?? 0) - innerHeight;
  if (overflow > 0) for (const x of placed) x.p -= overflow;
  return placed.map(({ d, p }) => ({ ...d, labelY: fromPx(p) }));
}

export interface PracticeQualityDatum {
  practice: string;
  share_not_kept: number | null;
  lines: number;
  status: string;
}

export function dataQualityChart(r: Renderer, data: readonly PracticeQualityDatum[]): string {
  const rows = data.map((d) => ({ ...d, share: d.share_not_kept ?? 0 }));
  const max = Math.max(0.01, ...rows.map((d) => d.share));
  return r.chart(
    'data-quality-chart',
    'Share of lines rejected or dropped, by practice',
    `Bars show the share of each practice's data lines that were rejected at load or dropped when cleaning. ${rows
      .map((d) => `${d.practice}: ${pct(d.share)}`)
      .join('; ')}.`,
    {
      width: 980,
      height: 64 + rows.length * 28,
      marginBottom: 44,
      marginLeft: 380,
      marginRight: 170,
      x: {
        domain: [0, max * 1.2],
        tickFormat: (v: number) => `${(v * 100).toFixed(1)}%`,
        ticks: 4,
        label: 'share of lines not kept',
        labelAnchor: 'center',
        labelOffset: 34,
        grid: true,
      },
      y: { domain: rows.map((d) => d.practice), label: null },
      marks: [
        Plot.barX(rows, { y: 'practice', x: 'share', fill: COLOURS.green, insetTop: 4, insetBottom: 4 }),
        Plot.text(rows, {
          y: 'practice',
          x: 'share',
          text: (d: { share: number; lines: number; status: string }) =>
            d.status === 'loaded' ? `${pct(d.share)} of ${fmt.format(d.lines)} lines` : `${d.status}`,
          textAnchor: 'start',
          dx: 5,
          fill: COLOURS.text,
        }),
      ],
    },
  );
}

export interface CalibrationDatum {
  decile: number;
  mean_predicted: number | null;
  mean_observed: number | null;
}

/** Calibration: mean predicted and mean observed cost in each decile of predicted cost. */
export function calibrationChart(r: Renderer, data: readonly CalibrationDatum[]): string {
  const series: SeriesDatum[] = [];
  for (const d of data) {
    if (d.mean_predicted !== null && d.mean_predicted > 0)
      series.push({ group: 'predicted', x: d.decile, y: d.mean_predicted });
    if (d.mean_observed !== null && d.mean_observed > 0)
      series.push({ group: 'observed', x: d.decile, y: d.mean_observed });
  }
  return lineChart(r, series, {
    id: 'calibration-chart',
    title: 'Calibration of the cost model by decile of predicted cost (backtest)',
    description:
      'For each tenth of people ranked by predicted cost, the mean predicted cost (circles, dashed line) and the mean cost that followed (squares, solid line), on a log scale.',
    xLabel: 'decile of predicted cost',
    yLabel: 'mean cost (GBP, log scale)',
    x: { type: 'point', domain: data.map((d) => d.decile) },
    y: { type: 'log', tickFormat: (v: number) => poundsShort(v) },
    labelFormat: (y) => poundsShort(y),
  });
}
