// The care-context columns against the synthetic generator's ground truth: the generator writes
// codes from the published lists for some patients and near-misses for others (ending codes
// after the marking one, codes before the rule's start or window or after the as-of date, the
// codes a list drops: care home staff, care planning declined or offered), and works out the
// truth from the record it wrote.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listValue } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { codedCareContexts, RECENT_DISCHARGE } from '../pipeline/care-context.ts';
import { loadCodelists, nearMissCodes } from '../src/codelists.ts';
import { synthesise } from '../src/synth/index.ts';
import { readGroundTruth, type TruthRow } from './support/ground-truth.ts';
import { runStages } from './support/pipeline.ts';

interface Row {
  pseudo_id: string;
  care_contexts: string[];
  recently_discharged: boolean;
}

const AS_OF = '2026-03-31';

describe('care context against the ground truth (scale 0.01)', () => {
  const delivery = mkdtempSync(join(tmpdir(), 'strata-care-'));
  let rows: Row[];
  let truth: Map<string, TruthRow>;
  const nearMisses: Record<string, number> = {};
  // Unmarked patients whose only marking codes fall on or before the window's first day, and
  // unmarked patients holding a code the list drops.
  const outsideWindow: Record<string, number> = {};
  const droppedOnly: Record<string, number> = {};
  beforeAll(async () => {
    await synthesise({ scale: 0.01, seed: 27, out: delivery, asOf: AS_OF });
    truth = new Map(
      readGroundTruth(delivery)
        .filter((r) => r.eligible)
        .map((r) => [r.pseudo_id, r]),
    );
    const run = await runStages(delivery, 'care context');
    try {
      rows = (
        await run.query<Row & Record<string, unknown>>(
          `select p.pseudo_id, c.care_contexts, c.recently_discharged
           from population p join patient_care_context c using (patient_key)
           where p.ref = 'current'`,
        )
      ).map((r) => ({ ...r, care_contexts: [...r.care_contexts] }));
      // Eligible patients the truth does not mark but whose delivered record holds a code from
      // the context's lists or its near-miss codes (ended, too early, future-dated, staff):
      // so the agreement above is not merely all-false.
      const near = nearMissCodes();
      for (const c of codedCareContexts) {
        const codes = [c.codelist, c.endedBy]
          .filter((x): x is string => !!x)
          .flatMap((id) =>
            loadCodelists()
              .get(id)!
              .codes.map((x) => x.code),
          )
          .concat((near.get(c.codelist) ?? []).map((x) => x.code));
        const holders = await run.ctx.conn.runAndReadAll(
          'select distinct pseudo_id from raw_observations where list_contains($codes::VARCHAR[], snomed_code)',
          { codes: listValue(codes) },
        );
        nearMisses[c.id] = holders.getRows().filter(([id]) => {
          const t = truth.get(String(id));
          return t && !t.care_contexts.includes(c.id);
        }).length;
        const unmarked = (ids: unknown[][]) =>
          ids.filter(([id]) => truth.get(String(id)) && !truth.get(String(id))!.care_contexts.includes(c.id))
            .length;
        if (c.withinMonths) {
          const stale = await run.ctx.conn.runAndReadAll(
            `select distinct pseudo_id from raw_observations
             where list_contains($codes::VARCHAR[], snomed_code)
               and recorded_date <= $as_of::DATE - to_months($months::INTEGER)`,
            {
              codes: listValue(
                loadCodelists()
                  .get(c.codelist)!
                  .codes.map((x) => x.code),
              ),
              as_of: AS_OF,
              months: c.withinMonths,
            },
          );
          outsideWindow[c.id] = unmarked(stale.getRows());
        }
        const dropped = (near.get(c.codelist) ?? []).map((x) => x.code);
        if (dropped.length) {
          const holding = await run.ctx.conn.runAndReadAll(
            'select distinct pseudo_id from raw_observations where list_contains($codes::VARCHAR[], snomed_code)',
            { codes: listValue(dropped) },
          );
          droppedOnly[c.id] = unmarked(holding.getRows());
        }
      }
    } finally {
      run.close();
    }
  }, 300_000);

  it('covers exactly the eligible population', () => {
    expect(rows.length).toBe(truth.size);
  });

  it.each(codedCareContexts.map((c) => [c.id]))('marks exactly the patients the truth says: %s', (id) => {
    let positives = 0;
    const wrong: string[] = [];
    for (const r of rows) {
      const want = truth.get(r.pseudo_id)!.care_contexts.includes(id);
      if (want) positives++;
      if (want !== r.care_contexts.includes(id)) wrong.push(r.pseudo_id);
    }
    expect(wrong).toEqual([]);
    expect(positives, 'too few patients to judge').toBeGreaterThanOrEqual(10);
    expect(nearMisses[id] ?? 0, 'too few near-misses to judge').toBeGreaterThanOrEqual(5);
  });

  it.each(codedCareContexts.filter((c) => c.withinMonths).map((c) => [c.id]))(
    'leaves unmarked patients whose codes are all before the window: %s',
    (id) => {
      expect(outsideWindow[id] ?? 0, 'too few codes before the window to judge').toBeGreaterThanOrEqual(5);
    },
  );

  it('does not count the codes a list drops (care home staff, care planning declined or offered)', () => {
    expect(droppedOnly.care_home_resident ?? 0).toBeGreaterThanOrEqual(5);
    expect(droppedOnly.has_care_plan ?? 0).toBeGreaterThanOrEqual(5);
  });

  it(`flags exactly the emergency discharges of the last ${RECENT_DISCHARGE.days} days`, () => {
    const wrong = rows.filter((r) => r.recently_discharged !== truth.get(r.pseudo_id)!.recently_discharged);
    expect(wrong.map((r) => r.pseudo_id)).toEqual([]);
    expect(rows.filter((r) => r.recently_discharged).length).toBeGreaterThanOrEqual(10);
  });

  it('reads only published lists that are vendored, with their provenance', () => {
    const lists = loadCodelists();
    for (const c of codedCareContexts)
      for (const id of [c.codelist, c.endedBy].filter((x): x is string => !!x)) {
        expect(lists.get(id), id).toBeDefined();
        expect(lists.get(id)!.source_sha256).toMatch(/^[0-9a-f]{64}/);
      }
  });
});
