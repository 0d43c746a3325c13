// The attrition table goes into the manifest: how many people each step kept, by organisation.
import { queryRows } from './db.ts';
import type { RunContext } from './stage.ts';

export async function recordAttrition(ctx: RunContext): Promise<void> {
  const rows = await queryRows<{ level: string; org_code: string; step: string; patients: number }>(
    ctx.conn,
    'select level, org_code, step, patients from attrition order by level_order, org_code, step_order',
  );
  const system = rows.filter((r) => r.level === 'system');
  ctx.manifest.attrition = {
    system: Object.fromEntries(system.map((r) => [r.step, r.patients])),
    practices: groupBy(rows.filter((r) => r.level === 'practice')),
  };
  ctx.manifest.counts = Object.fromEntries(system.map((r) => [r.step, r.patients]));
}

function groupBy(rows: { org_code: string; step: string; patients: number }[]) {
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) (out[r.org_code] ??= {})[r.step] = r.patients;
  return out;
}
