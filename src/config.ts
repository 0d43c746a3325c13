// One configuration file (JSON), validated; every setting has a documented default and
// an unknown key is an error, so a typo never silently falls back to a default.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import { serviceNeedSchema } from './service-need.ts';

/**
 * The weakest disclosure settings a run accepts without allowBelowFloors. NHS Digital's HES
 * rules suppress 1 to 7 and round to 5; below 1 to 4 or rounding to less than 5, a
 * published count comes too close to a person (ONS and the HES analysis guide treat counts
 * under 5 as small numbers whatever else is done). Costs are rounded to at least GBP 100 so
 * that a cost never identifies one patient's bill to the pound.
 */
export const DISCLOSURE_FLOORS = { suppressBelow: 5, roundTo: 5, costRoundTo: 100 } as const;

const unitCosts = z
  .object({
    APC_NEL: z.number().positive().default(1600).describe('Non-elective admission, GBP'),
    APC_EL: z.number().positive().default(3700).describe('Elective admission, GBP'),
    APC_DC: z.number().positive().default(740).describe('Day case, GBP'),
    OP: z.number().positive().default(120).describe('Outpatient attendance, GBP'),
    AE: z.number().positive().default(150).describe('A&E attendance, GBP'),
  })
  .strict()
  .describe('GBP per unit of activity sent without a cost (NHS National Cost Collection, rounded)');

/** A DuckDB memory size, as its settings take it. */
export const MEMORY_SIZE = /^\d+(\.\d+)?\s?(KB|MB|GB|KiB|MiB|GiB)$/;

export const configSchema = z
  .object({
    system: z
      .object({
        code: z.string().min(1).max(20).default('LLR').describe('Code of the system level in summaries'),
        name: z
          .string()
          .min(1)
          .max(200)
          .default('Leicester, Leicestershire and Rutland')
          .describe('Name of the system level'),
      })
      .strict()
      .default({ code: 'LLR', name: 'Leicester, Leicestershire and Rutland' })
      .describe('The integrated care system the run describes'),
    cohorts: z
      .object({
        adultAge: z
          .number()
          .int()
          .min(0)
          .default(18)
          .describe('Adults are this age or older on the as-of date'),
        multimorbidityMin: z
          .number()
          .int()
          .min(2)
          .default(5)
          .describe('Chronic conditions for the multimorbidity cohort'),
        highCostMultiple: z
          .number()
          .positive()
          .default(3)
          .describe('Predicted cost at least this multiple of the mean'),
        hfrsMarkerAtLeast: z
          .number()
          .positive()
          .default(5)
          .describe('HFRS at which the frailty marker fires'),
      })
      .strict()
      .default({ adultAge: 18, multimorbidityMin: 5, highCostMultiple: 3, hfrsMarkerAtLeast: 5 }),
    tiers: z
      .object({
        veryHigh: z.number().positive().default(0.005).describe('Top share of adults by predicted cost'),
        high: z.number().positive().default(0.05).describe('Cumulative share down to the end of "high"'),
        moderate: z
          .number()
          .positive()
          .default(0.2)
          .describe('Cumulative share down to the end of "moderate"'),
      })
      .strict()
      .default({ veryHigh: 0.005, high: 0.05, moderate: 0.2 }),
    model: z
      .object({
        sampleSize: z.number().int().positive().default(120_000).describe('Adults sampled to fit each model'),
        ridge: z.number().min(0).default(1e-4).describe('L2 penalty (on standardised features)'),
        tweediePower: z
          .number()
          .min(1)
          .max(2)
          .default(1.3)
          .describe('Variance power of the Tweedie cost model'),
        seed: z.number().int().default(20_240_401).describe('Seed of the fitting sample'),
        experienceMonths: z
          .number()
          .int()
          .min(12)
          .max(120)
          .default(48)
          .describe(
            "Months of secondary-care history behind each patient's experience rating (less where the delivery holds less); the clinical record is read on dates a year apart back this far from the backtest date",
          ),
        minimumWithCost: z
          .number()
          .int()
          .min(1)
          .default(100)
          .describe(
            'Fewest adults with any secondary-care cost in a fitting year for the models to be fitted; below it the predicted high cost cohort and the tiers are not available',
          ),
        minimumAdmitted: z
          .number()
          .int()
          .min(1)
          .default(20)
          .describe(
            'Fewest adults with an emergency admission in a fitting year for the models to be fitted',
          ),
      })
      .strict()
      .default({
        sampleSize: 120_000,
        ridge: 1e-4,
        tweediePower: 1.3,
        seed: 20_240_401,
        experienceMonths: 48,
        minimumWithCost: 100,
        minimumAdmitted: 20,
      }),
    unitCosts: unitCosts.default({ APC_NEL: 1600, APC_EL: 3700, APC_DC: 740, OP: 120, AE: 150 }),
    disclosure: z
      .object({
        suppressBelow: z
          .number()
          .int()
          .min(1)
          .default(8)
          .describe(
            `Counts 1 to this minus one are suppressed (at least ${DISCLOSURE_FLOORS.suppressBelow})`,
          ),
        roundTo: z
          .number()
          .int()
          .min(1)
          .default(5)
          .describe(
            `Published counts are rounded to the nearest multiple of this (at least ${DISCLOSURE_FLOORS.roundTo})`,
          ),
        costRoundTo: z
          .number()
          .int()
          .min(1)
          .default(1000)
          .describe(
            `Published costs (GBP) are rounded to the nearest multiple of this, half up (at least ${DISCLOSURE_FLOORS.costRoundTo})`,
          ),
        countProtection: z
          .number()
          .int()
          .min(1)
          .optional()
          .describe(
            'Narrowest interval (largest minus smallest, patients) an attacker may derive for a suppressed count (default: roundTo minus 1, so it holds as many values as a rounded count)',
          ),
        costProtection: z
          .number()
          .positive()
          .default(500)
          .describe('Narrowest interval (GBP) an attacker may derive for a suppressed cost'),
        allowBelowFloors: z
          .boolean()
          .default(false)
          .describe(
            'Run with suppressBelow, roundTo or costRoundTo under their floors; logged as a warning and recorded in the manifest',
          ),
      })
      .strict()
      .default({
        suppressBelow: 8,
        roundTo: 5,
        costRoundTo: 1000,
        costProtection: 500,
        allowBelowFloors: false,
      }),
    resources: z
      .object({
        memoryLimit: z
          .string()
          .regex(MEMORY_SIZE)
          .default('768MB')
          .describe(
            "DuckDB's memory limit; it spills to disk beyond it. The whole process needs up to about 0.9 GB more at scale 1",
          ),
        threads: z.number().int().min(1).max(64).optional().describe('DuckDB threads (default: all cores)'),
        concurrency: z
          .number()
          .int()
          .min(1)
          .max(32)
          .default(4)
          .describe('Files read at once (when loading, at most the libuv thread pool size)'),
        ingestMode: z
          .enum(['set', 'per-file'])
          .default('set')
          .describe(
            'Load each kind of file with one set-based statement, or file by file on parallel connections',
          ),
        workDatabase: z
          .enum(['memory', 'file'])
          .default('file')
          .describe(
            'Where the run keeps its working tables: in a compressed file under OUT/.work that DuckDB pages to disk (removed when the run ends), or in memory (needs a memory limit of about 4GB at scale 1)',
          ),
      })
      .strict()
      .default({ memoryLimit: '768MB', concurrency: 4, ingestMode: 'set', workDatabase: 'file' }),
    query: z
      .object({
        timeoutSeconds: z
          .number()
          .positive()
          .max(86_400)
          .default(60)
          .describe('`strata query` stops a question after this many seconds'),
        memoryLimit: z
          .string()
          .regex(MEMORY_SIZE)
          .default('1GB')
          .describe('Memory one `strata query` question may use (it never spills to disk)'),
        threads: z.number().int().min(1).max(64).default(2).describe('DuckDB threads for `strata query`'),
      })
      .strict()
      .default({ timeoutSeconds: 60, memoryLimit: '1GB', threads: 2 }),
    serviceNeed: serviceNeedSchema,
    retention: z
      .object({
        keepRuns: z.number().int().min(1).default(10).describe('Published runs kept under OUT/runs'),
      })
      .strict()
      .default({ keepRuns: 10 }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export const defaultConfig: Config = configSchema.parse({});

export function loadConfig(path: string | undefined): Config {
  if (!path) return defaultConfig;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(
      `cannot read configuration ${path}: ${err instanceof SyntaxError ? 'not valid JSON' : 'file not readable'}`,
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
      .join('; ');
    throw new ConfigError(`configuration ${path} is not valid: ${problems}`);
  }
  checkDisclosureFloors(parsed.data);
  return parsed.data;
}

/**
 * The disclosure settings weaker than DISCLOSURE_FLOORS, one phrase each. Refused with a
 * ConfigError unless disclosure.allowBelowFloors is set; with it, the caller logs and
 * records what it returns.
 */
export function checkDisclosureFloors(config: Config): string[] {
  const d = config.disclosure;
  const below = (Object.keys(DISCLOSURE_FLOORS) as (keyof typeof DISCLOSURE_FLOORS)[])
    .filter((key) => d[key] < DISCLOSURE_FLOORS[key])
    .map((key) => `disclosure.${key} ${d[key]} is below its floor of ${DISCLOSURE_FLOORS[key]}`);
  if (below.length && !d.allowBelowFloors)
    throw new ConfigError(
      `${below.join('; ')}: published counts would come too close to single people (set disclosure.allowBelowFloors to run anyway; it is logged and recorded)`,
    );
  return below;
}

/** disclosure.countProtection, or its default: as many values as a rounded count can stand for. */
export function countProtection(config: Config): number {
  return config.disclosure.countProtection ?? Math.max(1, config.disclosure.roundTo - 1);
}

/** The README's table of settings, generated from the schema so it cannot drift. */
export function configMarkdown(): string {
  const lines = ['| setting | default | meaning |', '| --- | --- | --- |'];
  const walk = (schema: z.ZodType, path: string[], fallback: unknown) => {
    let inner: z.ZodType = schema;
    const description = schema.description;
    while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional)
      inner = (inner as z.ZodDefault<z.ZodType> | z.ZodOptional<z.ZodType>).unwrap() as z.ZodType;
    if (inner instanceof z.ZodObject) {
      for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>))
        walk(child, [...path, key], (fallback as Record<string, unknown> | undefined)?.[key]);
      return;
    }
    const shown = fallback === undefined ? '(unset)' : `\`${JSON.stringify(fallback)}\``;
    lines.push(`| \`${path.join('.')}\` | ${shown} | ${description ?? inner.description ?? ''} |`);
  };
  walk(configSchema, [], defaultConfig);
  return lines.join('\n');
}
