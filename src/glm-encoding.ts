// Feature encoding for the GLMs: learning an encoding from training rows (standardisation,
// pooling of rare categorical levels, reference levels), building a design from it, scoring
// raw rows or SQL rows through a fit without building the design, and the model card's
// description of each fitted term.

import { clampEta, INTERCEPT, LOG_ETA_LIMIT, LOGIT_ETA_LIMIT, type Design, type GlmFit } from './glm.ts';

export type Columns = Record<string, ArrayLike<number> | ArrayLike<string | null>>;

export interface FeatureSpec {
  numeric: string[];
  /**
   * Numeric columns that hold only 0 and 1, entered as they are rather than standardised: the
   * coefficient then compares having the thing with not, and the column stays zero on most
   * rows, where the fit's cross-products skip it (standardised, it would be non-zero on all).
   * The ridge is scaled by each column's spread either way, so the fit is the same model.
   */
  flags?: string[];
  categorical: string[];
  /** Levels seen on fewer training rows are pooled into "other". Default 30. */
  minLevelCount?: number;
}

export interface Encoding {
  /**
   * The training mean and sd of each numeric column. `constant` marks a column with sd 0 in
   * training; it is still emitted (and then dropped by fitGlm). `flag` marks a 0/1 column
   * entered as it is (FeatureSpec.flags), not standardised.
   */
  numeric: { name: string; mean: number; sd: number; constant?: boolean; flag?: boolean }[];
  categorical: { name: string; levels: string[]; reference: string }[];
}

export const OTHER_LEVEL = 'other';
export const MISSING_LEVEL = '(missing)';

function columnOf(rows: Columns, name: string, n: number | undefined, fn: string): ArrayLike<unknown> {
  const col = rows[name] as ArrayLike<unknown> | undefined;
  if (col === undefined) throw new RangeError(`${fn}: no column named ${name}`);
  if (n !== undefined && col.length < n)
    throw new RangeError(`${fn}: column ${name} has ${col.length} rows, need ${n}`);
  return col;
}

function numericValue(v: unknown, name: string, i: number, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RangeError(`${fn}: ${name} on row ${i} is not a finite number (impute before encoding)`);
  }
  return v;
}

function levelOf(v: unknown): string {
  return v === null || v === undefined ? MISSING_LEVEL : String(v);
}

/**
 * Learns the encoding from training rows: numeric columns standardised with the training mean
 * and sample sd; categorical levels seen on fewer than minLevelCount rows pooled into "other",
 * and the most frequent level (after pooling; ties to the lower code-unit order) made the
 * reference. A pooled "other" that is itself rarer than minLevelCount is folded into the
 * reference instead of getting a coefficient of its own. Null categorical values are the
 * level "(missing)".
 */
export function learnEncoding(rows: Columns, spec: FeatureSpec): Encoding {
  const minCount = spec.minLevelCount ?? 30;
  const all = [...spec.numeric, ...spec.categorical];
  if (new Set(all).size !== all.length) throw new RangeError('learnEncoding: a column is listed twice');
  const flags = new Set(spec.flags ?? []);
  for (const name of flags)
    if (!spec.numeric.includes(name))
      throw new RangeError(`learnEncoding: flag ${name} is not a numeric column`);
  const lengths = new Set(all.map((name) => columnOf(rows, name, undefined, 'learnEncoding').length));
  if (lengths.size > 1) throw new RangeError('learnEncoding: columns have different lengths');

  const numeric = spec.numeric.map((name) => {
    const col = columnOf(rows, name, undefined, 'learnEncoding');
    const n = col.length;
    const flag = flags.has(name);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = numericValue(col[i], name, i, 'learnEncoding');
      if (flag && v !== 0 && v !== 1)
        throw new RangeError(`learnEncoding: flag ${name} on row ${i} is ${v}, not 0 or 1`);
      sum += v;
    }
    const mean = n > 0 ? sum / n : 0;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = (col[i] as number) - mean;
      ss += d * d;
    }
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    return {
      name,
      mean,
      sd,
      ...(sd > 0 ? {} : { constant: true }),
      ...(flag ? { flag: true } : {}),
    };
  });

  const categorical = spec.categorical.map((name) => {
    const col = columnOf(rows, name, undefined, 'learnEncoding');
    const raw = new Map<string, number>();
    for (let i = 0; i < col.length; i++) {
      const level = levelOf(col[i]);
      raw.set(level, (raw.get(level) ?? 0) + 1);
    }
    const pooled = new Map<string, number>();
    for (const [level, count] of raw) {
      const to = count < minCount ? OTHER_LEVEL : level;
      pooled.set(to, (pooled.get(to) ?? 0) + count);
    }
    const otherCount = pooled.get(OTHER_LEVEL) ?? 0;
    const rareOther = otherCount > 0 && otherCount < minCount;
    if (rareOther) pooled.delete(OTHER_LEVEL);
    const byCode = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const ranked = [...pooled.entries()].sort((a, b) => b[1] - a[1] || byCode(a[0], b[0]));
    const reference = ranked.length > 0 ? ranked[0]![0] : OTHER_LEVEL;
    const levels = ranked
      .map(([level]) => level)
      .filter((level) => level !== reference)
      .sort((a, b) => (a === OTHER_LEVEL ? 1 : b === OTHER_LEVEL ? -1 : byCode(a, b)));
    return { name, levels, reference };
  });
  return { numeric, categorical };
}

/**
 * What encode subtracts from a numeric column and divides it by, and so what scoring undoes:
 * the training mean and sd; for a flag, nothing (it enters as 0/1); a constant is not scaled.
 */
function standardisation(num: Encoding['numeric'][number]): { centre: number; spread: number } {
  return num.flag ? { centre: 0, spread: 1 } : { centre: num.mean, spread: num.sd > 0 ? num.sd : 1 };
}

/** Design column name for a categorical level, e.g. `age_band=65-74`. */
export function levelColumn(name: string, level: string): string {
  return `${name}=${level}`;
}

/**
 * Builds the design for n rows: intercept, then the numerics (standardised, flags as they are), then one 0/1
 * column per kept categorical level. A level not kept (rare in training, or never seen)
 * scores as "other" when the encoding has an "other" column, otherwise as the reference.
 */
const ENCODE_BLOCK_ROWS = 256;

export function encode(rows: Columns, enc: Encoding, n: number): Design {
  const names = [INTERCEPT];
  for (const num of enc.numeric) names.push(num.name);
  for (const cat of enc.categorical) for (const level of cat.levels) names.push(levelColumn(cat.name, level));
  const p = names.length;
  const X = new Float64Array(n * p);
  const numeric = enc.numeric.map((num, k) => ({
    name: num.name,
    col: columnOf(rows, num.name, n, 'encode'),
    mean: standardisation(num).centre,
    scale: 1 / standardisation(num).spread,
    j: 1 + k,
  }));
  let next = 1 + enc.numeric.length;
  const categorical = enc.categorical.map((cat) => {
    const offset = new Map(cat.levels.map((level, k) => [level, next + k] as const));
    next += cat.levels.length;
    return {
      col: columnOf(rows, cat.name, n, 'encode'),
      offset,
      fallback: offset.get(OTHER_LEVEL),
      reference: cat.reference,
    };
  });
  // A block of rows at a time, so that the rows being written stay in cache while each
  // column is visited: column by column over all rows, every write would miss it.
  for (let start = 0; start < n; start += ENCODE_BLOCK_ROWS) {
    const end = Math.min(n, start + ENCODE_BLOCK_ROWS);
    for (let i = start; i < end; i++) X[i * p] = 1;
    for (const { name, col, mean, scale, j } of numeric)
      for (let i = start; i < end; i++)
        X[i * p + j] = (numericValue(col[i], name, i, 'encode') - mean) * scale;
    for (const { col, offset, fallback, reference } of categorical) {
      for (let i = start; i < end; i++) {
        const level = levelOf(col[i]);
        const at = offset.get(level) ?? (level === reference ? undefined : fallback);
        if (at !== undefined) X[i * p + at] = 1;
      }
    }
  }
  return { X, n, p, names };
}

export interface FitTerm {
  term: string;
  coefficient: number;
  /** exp(coefficient): a rate ratio for the log link, an odds ratio for binomial. */
  rate_ratio: number;
  /** What the ratio compares, e.g. "per 1 SD (12.4)" or "vs age_band=45-64". */
  comparison: string;
}

/**
 * Model-card rows: one per fitted term (dropped columns are listed in fit.dropped instead).
 * Numeric coefficients are per training standard deviation because encode standardises them;
 * a flag's compares having it with not.
 */
export function describeFit(fit: GlmFit, enc: Encoding): FitTerm[] {
  const comparisons = new Map<string, string>();
  comparisons.set(INTERCEPT, 'baseline: reference levels, numerics at their training mean');
  for (const num of enc.numeric)
    comparisons.set(num.name, num.flag ? 'present vs absent' : `per 1 SD (${Number(num.sd.toPrecision(4))})`);
  for (const cat of enc.categorical) {
    for (const level of cat.levels) {
      comparisons.set(levelColumn(cat.name, level), `vs ${levelColumn(cat.name, cat.reference)}`);
    }
  }
  const dropped = new Set(fit.dropped);
  const rows: FitTerm[] = [];
  fit.names.forEach((term, j) => {
    if (dropped.has(term)) return;
    const coefficient = fit.coefficients[j]!;
    rows.push({
      term,
      coefficient,
      rate_ratio: Math.exp(coefficient),
      comparison: comparisons.get(term) ?? '',
    });
  });
  return rows;
}

// ---------------------------------------------------------------------------------------
// Scoring from raw columns

/** A fit resolved against its encoding: what every prediction adds up, term by term. */
interface LinearPredictor {
  /** Intercept less each slope times its training mean. */
  base: number;
  /** Numeric terms with a non-zero slope, per unit of the raw column (not the standardised one). */
  numeric: { name: string; slope: number }[];
  categorical: { name: string; byLevel: Map<string, number>; reference: string; fallback: number }[];
  binomial: boolean;
  limit: number;
}

function linearPredictor(fit: GlmFit, enc: Encoding, fn: string): LinearPredictor {
  const dropped = new Set(fit.dropped);
  const coefficient = new Map(
    fit.names.map((name, j) => [name, dropped.has(name) ? 0 : fit.coefficients[j]!]),
  );
  const covered = new Set([INTERCEPT, ...enc.numeric.map((num) => num.name)]);
  for (const cat of enc.categorical)
    for (const level of cat.levels) covered.add(levelColumn(cat.name, level));
  const missing = fit.names.filter((name) => !dropped.has(name) && !covered.has(name));
  if (missing.length > 0) throw new RangeError(`${fn}: encoding lacks ${missing.join(', ')}`);
  const of = (name: string): number => coefficient.get(name) ?? 0;
  // c * (x - mean) / sd = (c / sd) * x - (c / sd) * mean: the second part is the same for
  // every row, and the first is nothing where x is 0 (most condition flags, most rows).
  let base = of(INTERCEPT);
  const numeric = enc.numeric
    .map((num) => {
      const { centre, spread } = standardisation(num);
      return { num, centre, slope: of(num.name) / spread };
    })
    .filter((t) => t.slope !== 0);
  for (const { centre, slope } of numeric) base -= slope * centre;
  const binomial = fit.family === 'binomial';
  return {
    base,
    numeric: numeric.map(({ num, slope }) => ({ name: num.name, slope })),
    categorical: enc.categorical.map((cat) => {
      const byLevel = new Map(cat.levels.map((level) => [level, of(levelColumn(cat.name, level))] as const));
      return { name: cat.name, byLevel, reference: cat.reference, fallback: byLevel.get(OTHER_LEVEL) ?? 0 };
    }),
    binomial,
    limit: binomial ? LOGIT_ETA_LIMIT : LOG_ETA_LIMIT,
  };
}

/**
 * The same predictions as predictGlm(fit, encode(rows, enc, n)), computed column by column
 * from the raw rows without building the design: scoring a million rows this way avoids
 * writing (and collecting) a million-by-p matrix.
 */
export function predictColumns(fit: GlmFit, enc: Encoding, rows: Columns, n: number): Float64Array {
  const lp = linearPredictor(fit, enc, 'predictColumns');
  const eta = new Float64Array(n).fill(lp.base);
  for (const { name, slope } of lp.numeric) {
    const col = columnOf(rows, name, n, 'predictColumns');
    for (let i = 0; i < n; i++) {
      const x = numericValue(col[i], name, i, 'predictColumns');
      if (x !== 0) eta[i]! += slope * x;
    }
  }
  for (const cat of lp.categorical) {
    const col = columnOf(rows, cat.name, n, 'predictColumns');
    for (let i = 0; i < n; i++) {
      const level = levelOf(col[i]);
      eta[i]! += cat.byLevel.get(level) ?? (level === cat.reference ? 0 : cat.fallback);
    }
  }
  for (let i = 0; i < n; i++) {
    const e = clampEta(eta[i]!, lp.limit);
    eta[i] = lp.binomial ? 1 / (1 + Math.exp(-e)) : Math.exp(e);
  }
  return eta;
}

/**
 * The same prediction as predictColumns, as a SQL expression, for scoring rows where they
 * are: in the database, side by side on every core, instead of carried out to JavaScript.
 * It reads columns named as the encoding's features (numeric ones never null, categorical
 * ones as text); every number and level is a bound parameter whose name starts with
 * `prefix`, and `identifier` quotes a column name. Sums run in predictColumns' order.
 */
export function predictSql(
  fit: GlmFit,
  enc: Encoding,
  prefix: string,
  identifier: (name: string) => string,
): { sql: string; params: Record<string, number | string> } {
  const lp = linearPredictor(fit, enc, 'predictSql');
  const params: Record<string, number | string> = {};
  const bind = (value: number | string): string => {
    const name = `${prefix}_${Object.keys(params).length}`;
    params[name] = value;
    return `$${name}`;
  };
  let eta = `${bind(lp.base)}::DOUBLE`;
  for (const { name, slope } of lp.numeric) eta = `(${eta} + ${bind(slope)} * ${identifier(name)})`;
  for (const cat of lp.categorical) {
    const whens = [...cat.byLevel].map(([level, c]) => `when ${bind(level)} then ${bind(c)}`);
    whens.push(`when ${bind(cat.reference)} then 0`);
    const level = `coalesce(${identifier(cat.name)}, ${bind(MISSING_LEVEL)})`;
    eta = `(${eta} + case ${level} ${whens.join(' ')} else ${bind(cat.fallback)} end)`;
  }
  const limit = bind(lp.limit);
  const clamped = `greatest(least(${eta}, ${limit}), -${limit})`;
  return { sql: lp.binomial ? `1 / (1 + exp(-${clamped}))` : `exp(${clamped})`, params };
}
