// Runs the PostgreSQL peer once on a delivery: `tsx bench/peer/try.ts <delivery> [as-of]`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { postgresAvailable, runPostgresPeer } from './postgres.ts';

const delivery = process.argv[2];
if (!delivery) {
  console.error('usage: tsx bench/peer/try.ts <delivery> [as-of YYYY-MM-DD]');
  process.exit(2);
}
// Without an explicit date the extract date is the as-of date, as in strata.
const asOf =
  process.argv[3] ??
  (JSON.parse(readFileSync(join(delivery, 'delivery.json'), 'utf8')) as { extract_date: string })
    .extract_date;

if (!(await postgresAvailable())) {
  console.error('PostgreSQL not found: skipping the PostgreSQL peer');
  process.exit(0);
}
const started = Date.now();
const result = await runPostgresPeer({
  delivery,
  asOf,
  workDir: join(process.cwd(), 'bench', 'work'),
  log: (msg) => console.error(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s ${msg}`),
});
console.log(JSON.stringify(result, null, 2));
