// CSV files leave strata for spreadsheets, where a cell starting with = + - @ or a control
// character is run as a formula (CSV injection). Every CSV writer neutralises such cells.
import { listValue } from '@duckdb/node-api';

/** First characters that make a spreadsheet treat a cell as a formula (CSV injection). */
export const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'] as const;

/** A CSV cell as a spreadsheet will show it: a would-be formula is kept as text by a leading quote. */
export function neutraliseCell(value: string): string {
  return (FORMULA_START as readonly string[]).includes(value.charAt(0)) ? `'${value}` : value;
}

/**
 * The same rule as neutraliseCell, in SQL, for a VARCHAR expression. The characters are
 * bound as $formula_start by whoever runs the statement (macros cannot take parameters).
 */
export function neutraliseSql(expr: string): string {
  return `case when list_contains($formula_start, left(${expr}, 1)) then '''' || ${expr} else ${expr} end`;
}

export const formulaStartParam = () => ({ formula_start: listValue([...FORMULA_START]) });
