// Codelists are data: pipeline/codelists/<id>.csv in the OpenCodelists `code,term`
// layout, described by pipeline/codelists/index.csv (coding system, source, version,
// licence). They are loaded into DuckDB tables and joined; never spliced into SQL.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { conditions } from '../pipeline/conditions.ts';
import { deficits, CODED_FRAILTY } from '../pipeline/frailty.ts';
import { isValidSctid } from './snomed.ts';
import { projectPath } from './paths.ts';

export const CODELIST_DIR = projectPath('pipeline', 'codelists');

const indexRow = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/),
    system: z.enum(['snomedct', 'bnf', 'dmd', 'icd10']),
    source: z.string().min(1),
    version_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    licence: z.string().min(1),
    description: z.string(),
  })
  .strict();
export type CodelistInfo = z.infer<typeof indexRow>;

export interface Codelist extends CodelistInfo {
  codes: { code: string; term: string }[];
}

function readCsv(path: string): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true, skip_empty_lines: true, bom: true, trim: true });
}

const codePattern: Record<CodelistInfo['system'], (code: string) => boolean> = {
  snomedct: isValidSctid,
  dmd: isValidSctid,
  // BNF chemical substance: chapter, section, paragraph, sub-paragraph, substance.
  bnf: (c) => /^[0-9]{7}[0-9A-Z]{2}$/.test(c),
  icd10: (c) => /^[A-Z][0-9]{2}[0-9X]?$/.test(c),
};

let cache: Map<string, Codelist> | undefined;

/** Every codelist in the index, checked: codes valid for their system, no empty list. */
export function loadCodelists(dir = CODELIST_DIR): Map<string, Codelist> {
  if (dir === CODELIST_DIR && cache) return cache;
  const lists = new Map<string, Codelist>();
  for (const raw of readCsv(join(dir, 'index.csv'))) {
    const info = indexRow.parse(raw);
    const rows = readCsv(join(dir, `${info.id}.csv`));
    const codes = rows.map((r) => ({ code: String(r.code), term: String(r.term ?? '') }));
    const bad = codes.filter((c) => !codePattern[info.system](c.code));
    if (bad.length)
      throw new Error(`codelist ${info.id}: ${bad.length} codes are not valid ${info.system} codes`);
    if (!codes.length) throw new Error(`codelist ${info.id} is empty`);
    lists.set(info.id, { ...info, codes });
  }
  if (dir === CODELIST_DIR) cache = lists;
  return lists;
}

/** Ids of every codelist the declarations refer to. */
export function referencedCodelists(): string[] {
  const ids = new Set<string>();
  for (const c of conditions) {
    if (c.resolved) ids.add(c.resolved);
    for (const k of c.criteria) {
      if ('codelist' in k) ids.add(k.codelist);
      if ('medication' in k) ids.add(k.medication);
    }
  }
  for (const d of deficits) if (d.codelist) ids.add(d.codelist);
  for (const id of Object.values(CODED_FRAILTY.codelists)) ids.add(id);
  return [...ids].sort();
}

/** Rows for the `codelist` table: one row per (codelist, code). */
export function codelistRows(lists = loadCodelists()): { codelist: string; system: string; code: string }[] {
  const rows: { codelist: string; system: string; code: string }[] = [];
  for (const l of lists.values())
    for (const c of l.codes) rows.push({ codelist: l.id, system: l.system, code: c.code });
  return rows;
}

/** The Hospital Frailty Risk Score's points by 3-character ICD-10 code (pipeline/reference). */
export function loadHfrsPoints(): Map<string, number> {
  const rows: { icd10_code: string; points: string }[] = parse(
    readFileSync(projectPath('pipeline', 'reference', 'hfrs_points.csv')),
    {
      columns: true,
      skip_empty_lines: true,
    },
  );
  return new Map(rows.map((r) => [r.icd10_code, Number(r.points)]));
}
