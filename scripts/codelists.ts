// `npm run codelists`: derives pipeline/codelists/<id>.csv from the published files in
// pipeline/codelists/source/ by the declarations in pipeline/codelist-sources/, and writes each
// derived list's provenance, row counts and source checksums into index.csv. Run it on purpose,
// when a source or a declaration is meant to change; test/codelists.test.ts fails until it is.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { careContextDescriptions } from '../pipeline/codelist-sources/care-context.ts';
import {
  CODELIST_DIR,
  derivations,
  deriveCodelists,
  sha256Of,
  SOURCE_DIR,
  sourceFiles,
} from '../src/codelists.ts';

const COLUMNS = [
  'id',
  'system',
  'source',
  'version_date',
  'licence',
  'description',
  'source_rows',
  'kept_rows',
  'source_sha256',
] as const;
type IndexRow = Record<(typeof COLUMNS)[number], string>;

// Lists that first appear with their derivation.
const NEW_LISTS: Record<string, { system: string; description: string }> = {
  depression_anxiety: {
    system: 'snomedct',
    description:
      'Depression (QOF DEPR_COD) and anxiety, phobic, panic, obsessive-compulsive and stress-related disorders.',
  },
  med_antidepressants: { system: 'bnf', description: 'Antidepressant drugs (BNF 4.3).' },
  med_anxiolytics_hypnotics: {
    system: 'bnf',
    description: 'Hypnotics and anxiolytics (BNF 4.1.1 and 4.1.2).',
  },
  med_laxatives: { system: 'bnf', description: 'Laxatives (BNF 1.6).' },
};
const RETIRED = new Set(['anxiety', 'depression']);

const indexPath = join(CODELIST_DIR, 'index.csv');
const rows: IndexRow[] = (
  parse(readFileSync(indexPath), { columns: true, skip_empty_lines: true, bom: true }) as IndexRow[]
).filter((r) => !RETIRED.has(r.id));
const derived = deriveCodelists();
// The date the sources were copied in; a re-derivation from the same files writes the same index.
const today = '2026-12-04';

for (const d of derivations) {
  const list = derived.get(d.id)!;
  const files = list.sources.map((f) => sourceFiles.find((s) => s.file === f)!);
  const scope = d.from
    .map((u) => {
      const origin = files.find((f) => f.file === u.file)!.origin;
      if (u.bnfPrefixes) return `${origin}: chemical substances under BNF ${u.bnfPrefixes.join(', ')}`;
      return u.keep ? `${origin} (rows whose term matches ${u.keep})` : origin;
    })
    .join(' + ');
  const drops = (d.drop ?? []).map((x) => `dropped: ${x.why}`).join('; ');
  let row = rows.find((r) => r.id === d.id);
  if (!row) {
    const care = careContextDescriptions[d.id];
    const fresh = NEW_LISTS[d.id] ?? (care && { system: 'snomedct', description: care });
    if (!fresh) throw new Error(`${d.id}: no index row and no description for a new list`);
    row = { id: d.id, system: fresh.system, description: fresh.description } as IndexRow;
    rows.push(row);
  }
  row.source = drops ? `${scope}; ${drops}` : scope;
  row.version_date = today;
  row.licence = [...new Set(files.map((f) => f.licence))].join(' | ');
  row.source_rows = String(list.inScope.length);
  row.kept_rows = String(list.codes.length);
  row.source_sha256 = list.sources.map((f) => sha256Of(join(SOURCE_DIR, f))).join(';');
  writeFileSync(
    join(CODELIST_DIR, `${d.id}.csv`),
    stringify(list.codes, { header: true, columns: ['code', 'term'] }),
  );
  console.log(
    `${d.id.padEnd(30)} ${String(list.inScope.length).padStart(5)} in scope ${String(list.codes.length).padStart(5)} kept`,
  );
}
for (const r of rows) for (const c of COLUMNS) r[c] ??= '';
rows.sort((a, b) => (a.id < b.id ? -1 : 1));
writeFileSync(indexPath, stringify(rows, { header: true, columns: [...COLUMNS] }));
console.log(`wrote ${indexPath}`);
