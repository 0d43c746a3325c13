// One pair of models, next-year cost and emergency admission, fitted on one sample with its
// experience rating, and scored where the rows are, in the database.
import { quotedIdentifier } from '@duckdb/node-api';
import type { Family, GlmFit } from './glm.ts';
import { encode, learnEncoding, predictSql, type Encoding } from './glm-encoding.ts';
import type { GlmPool } from './glm-pool.ts';
import { addExperience, shapeOf, type Experience, type FirstStage } from './experience-rating.ts';
import { FEATURES, modelFeatures, type FeatureRows, type Ref } from './model-features.ts';
import type { RunContext } from './stage.ts';

export interface FittedPair {
  experience: Experience;
  ref: Ref;
  encoding: Encoding;
  cost: GlmFit;
  admission: GlmFit;
  sampleRows: number;
  sampleMeanCost: number;
  sampleAdmissionRate: number;
}

export async function fitPair(
  ctx: RunContext,
  pool: GlmPool,
  ref: Ref,
  sample: FeatureRows,
  firstStage: FirstStage,
  costFamily: Family,
): Promise<FittedPair> {
  const { ridge, tweediePower } = ctx.config.model;
  if (sample.n === 0)
    throw new Error(`cost model: no adults with a complete outcome year at the ${ref} date`);
  const experience: Experience = { firstStage, shape: firstStage.fit ? shapeOf(sample) : null };
  addExperience(sample, experience.shape);
  const encoding = learnEncoding(sample.columns, FEATURES);
  const design = encode(sample.columns, encoding, sample.n);
  const [cost, admission] = await Promise.all([
    pool.fit(design, sample.cost, {
      family: costFamily,
      ridge,
      ...(costFamily === 'tweedie' ? { tweediePower } : {}),
    }),
    pool.fit(design, sample.admitted, { family: 'binomial', ridge }),
  ]);
  return {
    experience,
    ref,
    encoding,
    cost,
    admission,
    sampleRows: sample.n,
    sampleMeanCost: mean(sample.cost),
    sampleAdmissionRate: mean(sample.admitted),
  };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length > 0 ? s / xs.length : NaN;
}

/**
 * Scores every adult at a reference date into a temp table (pseudo_id, the two predictions,
 * the outcomes where known), in the database: a million rows never come out to JavaScript.
 * The experience term is worked out as addExperience does, from the first stage in SQL.
 */
export async function scoreInDatabase(
  ctx: RunContext,
  pair: FittedPair,
  ref: Ref,
  table: string,
): Promise<void> {
  const { experience } = pair;
  const cost = predictSql(pair.cost, pair.encoding, 'cost', quotedIdentifier);
  const admission = predictSql(pair.admission, pair.encoding, 'admission', quotedIdentifier);
  const rating =
    experience.shape === null ? '0::DOUBLE' : 'ln(($shape + history_events) / ($shape + expected_events))';
  await ctx.conn.run(
    `create or replace temp table ${quotedIdentifier(table)} as
     with features as (${modelFeatures()}),
     rated as (select *, ${rating} as experience from features)
     select pseudo_id, ${cost.sql} as predicted_cost_12m, ${admission.sql} as admission_probability_12m,
            next_cost_12m, next_admitted
     from rated`,
    {
      ...cost.params,
      ...admission.params,
      ...(experience.shape === null ? {} : { shape: experience.shape }),
      ref,
    },
  );
}
