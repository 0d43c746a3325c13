// The report's cohort charts: the overlap of the three cohorts and the cost of each exclusive
// combination, the risk pyramid, cohorts by place and PCN, and the age-sex pyramid. Drawn with
// the renderer and the shared styles of charts.ts, under the same rules: labelled directly,
// never by colour alone, suppressed values named, not drawn.
import { poundsShort } from './html.ts';
import { COLOURS, fmt, hidden, pct, shown, style, type Measured, type Renderer } from './charts.ts';

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
          r.plot.dot([c], {
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
        r.plot.text(circles, {
          x: 'lx',
          y: 'ly',
          text: 'name',
          fontSize: 14,
          fontWeight: 'bold',
          fill: COLOURS.text,
        }),
        r.plot.text(labels, {
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
        r.plot.barX(rows, {
          y: 'cohort',
          x: 'predicted',
          fill: COLOURS.blue,
          fillOpacity: 0.85,
          insetTop: 6,
          insetBottom: 6,
        }),
        r.plot.tickX(rows, { y: 'cohort', x: 'observed', stroke: COLOURS.text, strokeWidth: 3 }),
        r.plot.text(rows, {
          y: 'cohort',
          x: (d: { predicted: number; observed: number }) => Math.max(d.predicted, d.observed),
          text: (d: { predicted: number }) => poundsShort(d.predicted),
          textAnchor: 'start',
          dx: 6,
          fill: COLOURS.text,
        }),
        r.plot.text(hidden(data), {
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
        r.plot.barX(rows, {
          y: 'tier',
          x1: 0,
          x2: (d: { people: number }) => -d.people,
          fill: COLOURS.grey,
          fillOpacity: 0.55,
        }),
        r.plot.barX(rows, { y: 'tier', x1: 0, x2: 'cost', fill: COLOURS.blue }),
        r.plot.text(rows, {
          y: 'tier',
          x: (d: { people: number }) => -d.people,
          text: (d: { people: number }) => `${pct(d.people)} of adults`,
          textAnchor: 'end',
          dx: -5,
          fill: COLOURS.text,
        }),
        r.plot.text(rows, {
          y: 'tier',
          x: 'cost',
          text: (d: { cost: number }) => `${pct(d.cost)} of cost`,
          textAnchor: 'start',
          dx: 5,
          fill: COLOURS.text,
        }),
        r.plot.text(hidden(data), { y: 'tier', x: 0, text: () => 'suppressed', fill: COLOURS.grey }),
        r.plot.ruleX([0], { stroke: COLOURS.text }),
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
        r.plot.barX(rows, {
          fx: 'cohort',
          y: 'org_name',
          x: 'per_1000',
          fill: (d: OrgCohortDatum) => style(d.cohort).colour,
          insetTop: 5,
          insetBottom: 5,
        }),
        r.plot.text(rows, {
          fx: 'cohort',
          y: 'org_name',
          x: 'per_1000',
          text: (d: { per_1000: number }) => d.per_1000.toFixed(0),
          textAnchor: 'start',
          dx: 4,
          fill: COLOURS.text,
        }),
        r.plot.text(gaps, {
          fx: 'cohort',
          y: 'org_name',
          x: 0,
          text: () => 'suppressed',
          textAnchor: 'start',
          dx: 3,
          fill: COLOURS.grey,
        }),
        r.plot.ruleX([0], { stroke: COLOURS.text }),
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
        r.plot.barX(rows, {
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
            r.plot.text(
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
            r.plot.text(
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
        r.plot.ruleX([0], { stroke: COLOURS.text }),
      ],
    },
  );
}
