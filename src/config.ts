// One configuration file (JSON), validated; every setting has a documented default and
// an unknown key is an error, so a typo never silently falls back to a default.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './errors.ts';

const unitCosts = z
  .object({
    APC_NEL: z.number().positive().default(1600),
    APC_EL: z.number().positive().default(3700),
    APC_DC: z.number().positive().default(740),
    OP: z.number().positive().default(120),
    AE: z.number().positive().default(150),
  })
  .strict()
  .describe('GBP per unit of activity sent without a cost (NHS National Cost Collection, rounded)');

export const configSchema = z
  .object({
    system: z
      .object({
        code: z.string().min(1).max(20).default('LLR'),
        name: z.string().min(1).max(200).default('Leicester, Leicestershire and Rutland'),
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
        tweediePower: z.number().min(1).max(2).default(1.5),
        seed: z.number().int().default(20_240_401).describe('Seed of the fitting sample'),
      })
      .strict()
      .default({ sampleSize: 120_000, ridge: 1e-4, tweediePower: 1.5, seed: 20_240_401 }),
    unitCosts: unitCosts.default({ APC_NEL: 1600, APC_EL: 3700, APC_DC: 740, OP: 120, AE: 150 }),
    disclosure: z
      .object({
        suppressBelow: z
          .number()
          .int()
          .min(1)
          .default(8)
          .describe('Counts 1 to this minus one are suppressed'),
        roundTo: z.number().int().min(1).default(5),
      })
      .strict()
      .default({ suppressBelow: 8, roundTo: 5 }),
    resources: z
      .object({
        memoryLimit: z
          .string()
          .regex(/^\d+(\.\d+)?\s?(KB|MB|GB|KiB|MiB|GiB)$/)
          .default('4GB')
          .describe("DuckDB's memory limit; it spills to disk beyond it"),
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
      })
      .strict()
      .default({ memoryLimit: '4GB', concurrency: 4, ingestMode: 'set' }),
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
  return parsed.data;
}
