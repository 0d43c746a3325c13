// Regenerates the README's tables of delivery columns and settings from their declarations.
// Run with `npm run readme`; a test fails when the README and the contract disagree.
import { readFileSync, writeFileSync } from 'node:fs';
import { configMarkdown } from '../src/config.ts';
import { contractMarkdown } from '../src/contract.ts';
import { projectPath } from '../src/paths.ts';

const path = projectPath('README.md');
let readme = readFileSync(path, 'utf8');
for (const [name, text] of [
  ['contract', contractMarkdown()],
  ['config', configMarkdown()],
] as const) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md has no ${name} markers`);
  readme = `${readme.slice(0, a + start.length)}\n${text}\n${readme.slice(b)}`;
}
writeFileSync(path, readme);
console.log('README.md tables updated');
