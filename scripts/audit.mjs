// Dependency audit for CI: high or critical advisories in runtime dependencies fail;
// an advisory service that cannot be reached is reported but does not fail the build.
import { spawnSync } from 'node:child_process';

const r = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(r.stdout);
} catch {
  report = null;
}
const counts = report?.metadata?.vulnerabilities;
if (!counts) {
  console.log(
    `npm audit: advisory service not reachable (${(report?.error?.summary ?? r.stderr.trim().split('\n').pop() ?? 'no answer').slice(0, 120)}); not checked`,
  );
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
console.log(`npm audit (runtime dependencies): ${JSON.stringify(counts)}`);
process.exit(serious > 0 ? 1 : 0);
