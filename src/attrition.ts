// The attrition table as a run's result: how many people each step kept, by organisation.
import { queryRows } from './db.ts';
import type { RunContext } from './stage.ts';

export interface AttritionSummary {
  /** Step -> people, for the whole system. */
  system: Record<string, number>;
  /** Practice -> step -> people. */
  practices: Record<string, Record<string, number>>;
}

export async function recordAttrition(ctx: RunContext): Promise<{ attrition: AttritionSummary }> {
  const rows = await queryRows<{ level: string; org_code: string; step: string; patients: number }>(
    ctx.conn,
    'select level, org_code, step, patients from attrition order by level_order, org_code, step_order',
  );
  const system = rows.filter((r) => r.level === 'system');
  return {
    attrition: {
      system: Object.fromEntries(system.map((r) => [r.step, r.patients])),
      practices: groupBy(rows.filter((r) => r.level === 'practice')),
    },
  };
}

function groupBy(rows: { org_code: string; step: string; patients: number }[]) {
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) (out[r.org_code] ??= {})[r.step] = r.patients;
  return out;
}
