// The report's charts: Observable Plot, rendered to SVG on the server with jsdom so the page
// needs no script to show them. Every chart is labelled directly (values at the bars, names
// at the ends of lines, distinct symbols and dash patterns), so none depends on colour, and
// each carries a <title> and <desc> for screen readers. Suppressed values are never drawn
// as bars or points; the word "suppressed" stands in their place.
// This module holds the renderer and the styles every chart shares, and the line, data-quality
// and calibration charts; the cohort charts are in cohort-charts.ts.
import type * as PlotModule from '@observablehq/plot';
import { poundsShort } from './html.ts';

// Plot and jsdom take about a second to load, and only the report needs them: they are
// loaded with the first renderer, so every other command (and a run's earlier stages)
// starts without them. Chart functions reach Plot through the renderer they are given.
let Plot: typeof PlotModule | undefined;

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

export const style = (group: string) =>
  GROUP_STYLE[group] ?? { colour: COLOURS.grey, symbol: 'cross', dash: 'none' };

export interface Renderer {
  /** Observable Plot, loaded with the renderer. */
  plot: typeof PlotModule;
  chart(id: string, title: string, description: string, options: PlotModule.PlotOptions): string;
  close(): void;
}

export async function renderer(): Promise<Renderer> {
  const plot = (Plot ??= await import('@observablehq/plot'));
  const { JSDOM } = await import('jsdom');
  const dom = new JSDOM('<!doctype html><html><body></body></html>');
  const document = dom.window.document;
  return {
    plot,
    chart(id, title, description, options) {
      const node = plot.plot({
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

export const shown = <T extends Measured>(rows: readonly T[]) =>
  rows.filter((r) => !r.suppressed && r.patients !== null);
export const hidden = <T extends Measured>(rows: readonly T[]) =>
  rows.filter((r) => r.suppressed || r.patients === null);
export const fmt = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
export const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;

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
      r.plot.line(rows, { x: 'x', y: 'y', stroke: s.colour, strokeWidth: 2, strokeDasharray: s.dash }),
      r.plot.dot(rows, { x: 'x', y: 'y', symbol: () => s.symbol, fill: s.colour, r: 5, stroke: 'white' }),
    );
  }
  const labels = spreadLabels(
    groups.map((g) => data.filter((d) => d.group === g).at(-1)!),
    domain,
    log,
    height - margin.top - margin.bottom,
  );
  marks.push(
    r.plot.text(labels, {
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
        r.plot.barX(rows, { y: 'practice', x: 'share', fill: COLOURS.green, insetTop: 4, insetBottom: 4 }),
        r.plot.text(rows, {
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
