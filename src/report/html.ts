// Small pieces of the report's HTML: escaping, number formats and data tables. Every value
// that reaches the page passes through `esc` or one of the formatters, and a suppressed
// count is always the word "suppressed", never a number.

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Trusted markup (already escaped), kept apart from text so nothing is escaped twice. */
export class Html {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export const html = (s: string) => new Html(s);

const cell = (v: unknown) => (v instanceof Html ? v.html : esc(v));

const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const SUPPRESSED = html('<span class="suppressed">suppressed</span>');

export function count(n: number | null, suppressed = false): Html | string {
  if (suppressed || n === null) return SUPPRESSED;
  return integer.format(n);
}

export function pounds(n: number | null, suppressed = false): Html | string {
  if (suppressed || n === null) return SUPPRESSED;
  return `£${integer.format(n)}`;
}

/** £1.2m, £56k: for chart labels, where the exact figure is in the table below. */
export function poundsShort(n: number): string {
  if (Math.abs(n) >= 1e6) return `£${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}m`;
  if (Math.abs(n) >= 1e3) return `£${Math.round(n / 1e3)}k`;
  return `£${Math.round(n)}`;
}

/** A rate or share that cannot be worked out (no adults to divide by) is not a suppressed one. */
const NOT_AVAILABLE = 'not available';

export function percent(share: number | null, suppressed = false): Html | string {
  if (suppressed) return SUPPRESSED;
  if (share === null || !Number.isFinite(share)) return NOT_AVAILABLE;
  return `${oneDecimal.format(share * 100)}%`;
}

export function rate(n: number | null, suppressed = false): Html | string {
  if (suppressed) return SUPPRESSED;
  if (n === null || !Number.isFinite(n)) return NOT_AVAILABLE;
  return oneDecimal.format(n);
}

export function decimal(n: number | null | undefined, digits = 2): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return NOT_AVAILABLE;
  return n.toFixed(digits);
}

export interface Column<T> {
  head: string;
  value: (row: T) => unknown;
  numeric?: boolean;
}

/** A data table; `rowAttr` adds attributes to each row (used to find rows in tests and styles). */
export function table<T>(
  caption: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  rowAttr?: (row: T) => string,
): string {
  const head = columns.map((c) => `<th scope="col"${c.numeric ? ' class="num"' : ''}>${esc(c.head)}</th>`);
  const body = rows.map((r) => {
    const cells = columns.map((c, i) => {
      const tag = i === 0 ? 'th scope="row"' : 'td';
      const end = i === 0 ? 'th' : 'td';
      return `<${tag}${c.numeric ? ' class="num"' : ''}>${cell(c.value(r))}</${end}>`;
    });
    return `<tr${rowAttr ? ` ${rowAttr(r)}` : ''}>${cells.join('')}</tr>`;
  });
  return `<div class="table-wrap"><table><caption>${esc(caption)}</caption><thead><tr>${head.join('')}</tr></thead><tbody>${body.join('\n')}</tbody></table></div>`;
}

/** A chart with its data table, which a screen reader or a keyboard user can open. */
export function figure(
  id: string,
  heading: string,
  svg: string,
  note: string,
  dataTable: string,
  open = false,
): string {
  return `<figure class="chart" id="${esc(id)}">
<figcaption><span class="fig-title">${esc(heading)}</span>${note ? `<span class="fig-note">${esc(note)}</span>` : ''}</figcaption>
${svg}
<details${open ? ' open' : ''}><summary>Data table: ${esc(heading)}</summary>${dataTable}</details>
</figure>`;
}
