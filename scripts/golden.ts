// `npm run golden`: rewrites test/golden/dashboard-schemas.json from the feed declarations in
// src/dashboard.ts, and test/golden/sample-outputs.json from a run on the bundled sample. Run
// it on purpose, when a feed's columns (raise FEED_SCHEMA_VERSION too) or the published
// outputs are meant to change; the dashboard and golden-output tests fail until they agree.
import { writeFileSync } from 'node:fs';
import { feedSchemas } from '../src/dashboard.ts';
import { projectPath } from '../src/paths.ts';
import { GOLDEN_OUTPUTS, sampleOutputFingerprints } from '../test/support/golden-outputs.ts';

const file = projectPath('test', 'golden', 'dashboard-schemas.json');
writeFileSync(file, JSON.stringify(feedSchemas(), null, 2) + '\n');
console.log(`wrote ${file}`);
writeFileSync(GOLDEN_OUTPUTS, JSON.stringify(await sampleOutputFingerprints(), null, 2) + '\n');
console.log(`wrote ${GOLDEN_OUTPUTS}`);
