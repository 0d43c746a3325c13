// The data contract of a delivery, declared once. The loader's column types, the
// synthetic generator's output and the README's table of columns all come from here.
import { z } from 'zod';

export const SCHEMA_VERSION = '1.0';

/** Every file is UTF-8 text (a byte order mark is allowed); a line that is not is rejected. */
export const ENCODING = 'UTF-8';

/** No date in a delivery is earlier: a date before it is impossible and its row is dropped. */
export const EARLIEST_DATE = '1900-01-01';

/**
 * The extract date, and any as-of date, must fall in these years: the contract's coded
 * record (SNOMED CT, ICD-10, dm+d) describes nothing earlier.
 */
export const EXTRACT_DATES = { earliest: '2000-01-01', latest: '2099-12-31' } as const;

export const SETTINGS = ['APC_NEL', 'APC_EL', 'APC_DC', 'OP', 'AE'] as const;
export type Setting = (typeof SETTINGS)[number];
export const SEXES = ['F', 'M', 'I', 'U'] as const;
export const PLACES = ['Leicester City', 'Leicestershire County', 'Rutland'] as const;
export type Place = (typeof PLACES)[number];

const isoDate = /^\d{4}-\d{2}-\d{2}$/;
export const ODS_PRACTICE = /^[A-Z][0-9]{5}$/;
const pseudoId = /^[0-9a-f]{16,64}$/;
const snomed = /^[1-9][0-9]{5,17}$/;
const lsoa = /^E0[12][0-9]{6}$/;
export const ICD10 = /^[A-Z][0-9]{2}[0-9X]?$/;
const diagnosisText = /^[A-Za-z0-9;.X ]{1,400}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
const name = /^[^\x00-\x1f]{1,200}$/;

export interface Column {
  /** Validates one value as it appears in the file (text), or null when empty. */
  schema: z.ZodType<string | null>;
  /** The same rule as a regular expression (whole value), for validation inside DuckDB. */
  pattern: string;
  /** DuckDB type the loader reads the column as. */
  sqlType: string;
  nullable: boolean;
  description: string;
  /** For a numeric column: the finite values it may hold, inclusive. Others are dropped. */
  range?: { min: number; max: number };
}

type Rule = RegExp | readonly string[];

function patternOf(rule: Rule): string {
  if (Array.isArray(rule)) return `(${rule.map((v) => v.replace(/[.*+?^${}()|[\]\\&]/g, '\\$&')).join('|')})`;
  return (rule as RegExp).source.replace(/^\^/, '').replace(/\$$/, '');
}

/** An ICD-10 code without its dot, as a whole-value pattern for DuckDB. */
export const ICD10_PATTERN = patternOf(ICD10);

function schemaOf(rule: Rule, what: string): z.ZodType<string> {
  return Array.isArray(rule) ? z.enum(rule as [string, ...string[]]) : z.string().regex(rule as RegExp, what);
}

function column(rule: Rule, sqlType: string, description: string): Column {
  return {
    schema: schemaOf(rule, description),
    pattern: patternOf(rule),
    sqlType,
    nullable: false,
    description,
  };
}
function optional(rule: Rule, sqlType: string, description: string): Column {
  return {
    schema: schemaOf(rule, description).nullable(),
    pattern: patternOf(rule),
    sqlType,
    nullable: true,
    description,
  };
}
/** An optional number: its text matches `rule` and its value lies in `range`. */
function optionalNumber(rule: RegExp, range: { min: number; max: number }, description: string): Column {
  const inRange = (v: string) =>
    Number.isFinite(Number(v)) && Number(v) >= range.min && Number(v) <= range.max;
  return {
    schema: z
      .string()
      .regex(rule, description)
      .refine(inRange, `${description}: from ${range.min} to ${range.max}`)
      .nullable(),
    pattern: patternOf(rule),
    sqlType: 'DOUBLE',
    nullable: true,
    description,
    range,
  };
}

export interface FileContract {
  /** Stable name, also the staging table's stem. */
  name: string;
  /** Where the file sits in a delivery; `<ODS>` is a practice code. */
  path: string;
  grain: string;
  /** Whether there is one such file per practice. */
  perPractice: boolean;
  columns: Record<string, Column>;
}

const settingSql = `ENUM(${SETTINGS.map((s) => `'${s}'`).join(', ')})`;

export const practicesFile: FileContract = {
  name: 'practices',
  path: 'reference/practices.csv',
  grain: 'one row per GP practice',
  perPractice: false,
  columns: {
    practice_code: column(ODS_PRACTICE, 'VARCHAR', 'ODS code of the practice'),
    practice_name: column(name, 'VARCHAR', 'Practice name'),
    pcn_code: column(/^U[0-9]{5}$/, 'VARCHAR', 'ODS code of its Primary Care Network'),
    pcn_name: column(name, 'VARCHAR', 'PCN name'),
    place: column(PLACES, 'VARCHAR', 'Place (upper-tier local authority)'),
  },
};

export const lsoaFile: FileContract = {
  name: 'lsoa',
  path: 'reference/lsoa.csv',
  grain: 'one row per lower-layer super output area',
  perPractice: false,
  columns: {
    lsoa_code: column(lsoa, 'VARCHAR', 'LSOA code'),
    imd_decile: column(/^([1-9]|10)$/, 'TINYINT', 'IMD decile, 1 = most deprived'),
    place: column(PLACES, 'VARCHAR', 'Place the LSOA lies in'),
  },
};

export const patientsFile: FileContract = {
  name: 'patients',
  path: 'practices/<ODS>/patients.csv',
  grain: 'one row per registration of a patient at the practice',
  perPractice: true,
  columns: {
    pseudo_id: column(pseudoId, 'VARCHAR', 'Keyed pseudonym, stable across practices and secondary care'),
    sex: column(SEXES, 'VARCHAR', 'F, M, I (indeterminate) or U (unknown)'),
    birth_month: column(/^\d{4}-(0[1-9]|1[0-2])$/, 'VARCHAR', 'Year and month of birth, YYYY-MM'),
    lsoa_code: optional(lsoa, 'VARCHAR', 'LSOA of residence'),
    registered_from: column(isoDate, 'DATE', 'Start of this registration'),
    registered_to: optional(isoDate, 'DATE', 'End of this registration (empty while registered)'),
    date_of_death: optional(isoDate, 'DATE', 'Date of death, if known'),
  },
};

export const observationsFile: FileContract = {
  name: 'observations',
  path: 'practices/<ODS>/observations.csv',
  grain: 'one row per coded entry in the GP record',
  perPractice: true,
  columns: {
    pseudo_id: column(pseudoId, 'VARCHAR', 'Patient pseudonym'),
    recorded_date: column(isoDate, 'DATE', 'Date the entry refers to'),
    snomed_code: column(snomed, 'VARCHAR', 'SNOMED CT concept id'),
    // Wide enough for a viral load in copies/ml; what it refuses is a number no test reports.
    value: optionalNumber(/^-?\d+(\.\d+)?$/, { min: -1e9, max: 1e9 }, 'Numeric value, if any'),
    // eslint-disable-next-line no-control-regex -- control characters are exactly what it refuses
    unit: optional(/^[^\x00-\x1f,]{0,20}$/, 'VARCHAR', 'Unit of the value'),
  },
};

export const medicationsFile: FileContract = {
  name: 'medications',
  path: 'practices/<ODS>/medications.csv',
  grain: 'one row per prescription issue',
  perPractice: true,
  columns: {
    pseudo_id: column(pseudoId, 'VARCHAR', 'Patient pseudonym'),
    issue_date: column(isoDate, 'DATE', 'Date the prescription was issued'),
    dmd_code: column(snomed, 'VARCHAR', 'dm+d product code'),
    bnf_code: column(/^[0-9A-Z]{9,15}$/, 'VARCHAR', 'BNF presentation code'),
    quantity: optionalNumber(/^\d+(\.\d+)?$/, { min: 0, max: 1e6 }, 'Quantity issued'),
  },
};

export const activityFile: FileContract = {
  name: 'activity',
  path: 'secondary-care/*.csv',
  grain: 'one row per hospital spell, outpatient or A&E attendance',
  perPractice: false,
  columns: {
    activity_id: column(/^[A-Za-z0-9_-]{1,40}$/, 'VARCHAR', 'Provider activity id'),
    pseudo_id: column(pseudoId, 'VARCHAR', 'Patient pseudonym'),
    setting: column(SETTINGS, settingSql, 'APC_NEL, APC_EL, APC_DC, OP or AE'),
    provider_code: column(/^[A-Z0-9]{3,5}$/, 'VARCHAR', 'ODS code of the provider'),
    start_date: column(isoDate, 'DATE', 'Admission or attendance date'),
    end_date: optional(isoDate, 'DATE', 'Discharge date (spells)'),
    hrg_code: optional(/^[A-Z]{2}[0-9]{2}[A-Z]$/, 'VARCHAR', 'Healthcare Resource Group'),
    // A damaged diagnosis code is removed in staging, not the spell: its cost is real.
    primary_diagnosis: optional(
      diagnosisText,
      'VARCHAR',
      'Primary diagnosis, ICD-10 without a dot (invalid codes are removed)',
    ),
    secondary_diagnoses: optional(
      diagnosisText,
      'VARCHAR',
      'Secondary diagnoses, ICD-10, ;-separated (invalid codes are removed)',
    ),
    // One spell's cost: the most expensive stays cost hundreds of thousands of pounds.
    cost_gbp: optionalNumber(
      /^\d+(\.\d+)?$/,
      { min: 0, max: 1e7 },
      'Cost in GBP; empty means use the unit cost',
    ),
  },
};

export const csvFiles = [
  practicesFile,
  lsoaFile,
  patientsFile,
  observationsFile,
  medicationsFile,
  activityFile,
];

/**
 * Why `text` cannot be an extract or as-of date, or null when it can: a real calendar date,
 * YYYY-MM-DD, within EXTRACT_DATES. The value itself is not repeated.
 */
export function extractDateProblem(text: string): string | null {
  if (!isoDate.test(text)) return 'is not a date written YYYY-MM-DD';
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d)
    return 'is not a real calendar date';
  if (text < EXTRACT_DATES.earliest || text > EXTRACT_DATES.latest)
    return `is outside ${EXTRACT_DATES.earliest} to ${EXTRACT_DATES.latest}`;
  return null;
}

export const deliveryManifest = z
  .object({
    extract_date: z
      .string()
      .superRefine((v, ctx) => {
        const problem = extractDateProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Date the extract was taken (the default as-of date)'),
    source_system: z.string().min(1).max(100).describe('System the extract came from'),
    schema_version: z.literal(SCHEMA_VERSION).describe('Version of this contract'),
    description: z.string().max(500).optional().describe('Free text'),
  })
  .strict();
export type DeliveryManifest = z.infer<typeof deliveryManifest>;

/** Zod schema for one row of a file, as text cells (empty cell = null). */
export function rowSchema(file: FileContract) {
  return z.object(Object.fromEntries(Object.entries(file.columns).map(([k, c]) => [k, c.schema]))).strict();
}

/** DuckDB `columns={...}` struct for read_csv, in file order. */
export function duckdbColumns(file: FileContract): Record<string, string> {
  return Object.fromEntries(Object.entries(file.columns).map(([k, c]) => [k, c.sqlType]));
}

/** The README's table of columns, generated so it cannot drift from the declaration. */
export function contractMarkdown(): string {
  const lines: string[] = [];
  lines.push(
    `Every file is ${ENCODING} text (a byte order mark is allowed). No date is before ${EARLIEST_DATE}; ` +
      `the extract date lies from ${EXTRACT_DATES.earliest} to ${EXTRACT_DATES.latest}. Numbers are finite and ` +
      'within the range shown beside their column.',
  );
  lines.push('');
  lines.push(
    '`delivery.json`: ' +
      Object.keys(deliveryManifest.shape)
        .map((k) => `\`${k}\``)
        .join(', ') +
      '.',
  );
  lines.push('');
  for (const f of csvFiles) {
    lines.push(`**\`${f.path}\`** (${f.grain})`);
    lines.push('');
    lines.push('| column | type | required | meaning |');
    lines.push('| --- | --- | --- | --- |');
    for (const [name, c] of Object.entries(f.columns)) {
      const type = c.sqlType.startsWith('ENUM') ? 'text (one of the listed values)' : c.sqlType.toLowerCase();
      const range = c.range
        ? ` (${c.range.min.toLocaleString('en-GB')} to ${c.range.max.toLocaleString('en-GB')})`
        : '';
      lines.push(`| \`${name}\` | ${type} | ${c.nullable ? 'no' : 'yes'} | ${c.description}${range} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
