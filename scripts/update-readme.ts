// Regenerates the README's table of delivery columns from the data contract.
// Run with `npm run readme`; a test fails when the README and the contract disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { contractMarkdown } from '../src/contract.ts';
import { projectPath } from '../src/paths.ts';

const path = projectPath('README.md');
const readme = readFileSync(path, 'utf8');
const start = '<!-- contract:start -->';
const end = '<!-- contract:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md has no contract markers');
writeFileSync(path, `${readme.slice(0, a + start.length)}\n${contractMarkdown()}\n${readme.slice(b)}`);
console.log('README.md contract table updated');
