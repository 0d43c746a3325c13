// Each stage in pipeline/stages.ts declares the tables it reads and writes. Walked one stage at
// a time on a small synthetic delivery, the work database shows what each really did: every
// table or view it created or replaced must be declared in `writes` (and nothing declared
// there may be missing afterwards), and every table its SQL reads that an earlier stage made
// must be declared in `reads`, so the list in pipeline/stages.ts stays a true map of the flow.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stages } from '../pipeline/stages.ts';
import { sqlFileText } from '../src/db.ts';
import { walkStages } from '../src/stage.ts';
import { smallDelivery } from './support/cli.ts';
import { runStages, type StagedRun } from './support/pipeline.ts';

interface Relation {
  name: string;
  oid: number;
}

async function relations(run: StagedRun): Promise<Map<string, number>> {
  const rows = await run.query<Relation & Record<string, unknown>>(
    `select table_name as name, table_oid::BIGINT as oid from duckdb_tables() where database_name = current_database()
     union all
     select view_name, view_oid::BIGINT from duckdb_views() where database_name = current_database() and not internal`,
  );
  return new Map(rows.map((r) => [r.name, Number(r.oid)]));
}

const seen: { stage: string; created: string[]; read: string[]; before: Set<string> }[] = [];
let run: StagedRun;

beforeAll(async () => {
  const delivery = await smallDelivery(join(mkdtempSync(join(tmpdir(), 'strata-stages-')), 'delivery'));
  // No stage yet: the database as the runner receives it.
  run = await runStages(delivery, null);
  for (const stage of stages) {
    const before = await relations(run);
    await walkStages([stage], run.ctx);
    const after = await relations(run);
    const created = [...after].filter(([name, oid]) => before.get(name) !== oid).map(([name]) => name);
    // A table its SQL names (outside comments) that existed when the stage began.
    const text = stage.sql
      .map((file) => sqlFileText(file))
      .join('\n')
      .replace(/--[^\n]*/g, '')
      // A qualified name is an attached database's table or an alias's column, not a work table.
      .replace(/\b[a-z_]\w*\.[a-z_]\w*/gi, '');
    const words = new Set(text.match(/[a-z_][a-z0-9_]*/gi) ?? []);
    const read = new Set([...before.keys()].filter((t) => words.has(t)));
    seen.push({ stage: stage.name, created, read: [...read], before: new Set(before.keys()) });
  }
}, 300_000);

afterAll(() => run?.close());

describe('the stage list', () => {
  it.each(stages.map((s) => [s.name, s] as const))(
    '%s declares every table it creates or replaces',
    (name, stage) => {
      const s = seen.find((x) => x.stage === name)!;
      expect([...s.created].sort()).toEqual([...stage.writes].sort());
    },
  );

  it.each(stages.map((s) => [s.name, s] as const))(
    '%s declares every table its SQL reads from earlier stages',
    (name, stage) => {
      const s = seen.find((x) => x.stage === name)!;
      const fromEarlier = s.read.filter((t) => s.before.has(t));
      expect(fromEarlier.filter((t) => !stage.reads.includes(t)).sort()).toEqual([]);
      // Nothing declared that the database did not hold when the stage began.
      expect(stage.reads.filter((t) => !s.before.has(t))).toEqual([]);
    },
  );
});
