// Placeholder replaced by the published outputs.
import { join } from 'node:path';
import type { RunContext } from './stage.ts';

export async function writeOutputs(ctx: RunContext): Promise<void> {
  await ctx.conn.run(
    `copy (select * exclude (conditions, frailty_rules, efi_deficits), array_to_string(conditions, ';') conditions, array_to_string(frailty_rules, ';') frailty_rules from patient_list) to '${join(ctx.runDir, 'patient_list.csv')}' (header)`,
  );
}
