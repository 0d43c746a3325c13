// Writes the bad-delivery corpus in test/fixtures/bad-deliveries/: a small, readable
// good delivery, and one folder per fault holding the whole delivery with that fault and
// an expected.json saying what strata must do with it. Run with `npm run fixtures`.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectPath } from '../src/paths.ts';
import { fileFaults } from './bad-deliveries/file-faults.ts';
import { base, type Files } from './bad-deliveries/good-delivery.ts';
import { rowFaults } from './bad-deliveries/row-faults.ts';

const cases = { ...fileFaults, ...rowFaults };

function write(root: string, files: Files) {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    if (content === null) {
      rmSync(full, { recursive: true, force: true });
      continue;
    }
    if (typeof content === 'object' && !Buffer.isBuffer(content)) {
      rmSync(full, { recursive: true, force: true });
      mkdirSync(dirname(full), { recursive: true });
      symlinkSync((content as { link: string }).link, full);
      continue;
    }
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

const root = projectPath('test', 'fixtures', 'bad-deliveries');
rmSync(root, { recursive: true, force: true });
write(join(root, '..', 'good-delivery'), base);
for (const [name, c] of Object.entries(cases)) {
  const dir = join(root, name);
  write(dir, base);
  write(dir, c.files);
  writeFileSync(join(dir, 'expected.json'), JSON.stringify(c.expected, null, 2) + '\n');
}
console.log(`wrote ${Object.keys(cases).length} bad deliveries to ${root}`);
