// `npm run golden`: rewrites test/golden/dashboard-schemas.json from the feed declarations in
// src/dashboard.ts. Run it on purpose, when a feed's columns are meant to change (and raise
// FEED_SCHEMA_VERSION); the dashboard test fails until the golden file agrees.
import { writeFileSync } from 'node:fs';
import { feedSchemas } from '../src/dashboard.ts';
import { projectPath } from '../src/paths.ts';

const file = projectPath('test', 'golden', 'dashboard-schemas.json');
writeFileSync(file, JSON.stringify(feedSchemas(), null, 2) + '\n');
console.log(`wrote ${file}`);
