// Codelists are data: pipeline/codelists/<id>.csv in the OpenCodelists `code,term`
// layout, described by pipeline/codelists/index.csv (coding system, source, version,
// licence, and for lists derived from a published file its row counts and checksum). They
// are loaded into DuckDB tables and joined; never spliced into SQL.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import {
  derivations as conditionDerivations,
  nearMisses as conditionNearMisses,
  sourceFiles as conditionSourceFiles,
  type Derivation,
  type Drop,
} from '../pipeline/codelist-sources/index.ts';
import {
  careContextDerivations,
  careContextNearMisses,
  careContextSourceFiles,
} from '../pipeline/codelist-sources/care-context.ts';
import { conditions } from '../pipeline/conditions.ts';
import { deficits, CODED_FRAILTY } from '../pipeline/frailty.ts';
import { isValidSctid } from './snomed.ts';
import { projectPath } from './paths.ts';

export const CODELIST_DIR = projectPath('pipeline', 'codelists');

/** Every declared source file, derivation and near-miss file: the conditions' and the care contexts'. */
export const sourceFiles = [...conditionSourceFiles, ...careContextSourceFiles];
export const derivations = [...conditionDerivations, ...careContextDerivations];
const nearMisses = [...conditionNearMisses, ...careContextNearMisses];

const indexRow = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/),
    system: z.enum(['snomedct', 'bnf', 'dmd', 'icd10']),
    source: z.string().min(1),
    version_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    licence: z.string().min(1),
    description: z.string(),
    // Lists derived from a published file: its distinct codes in scope, the codes kept, and
    // the SHA-256 of each source file (';'-separated).
    source_rows: z.string().regex(/^\d*$/),
    kept_rows: z.string().regex(/^\d*$/),
    source_sha256: z.string().regex(/^([0-9a-f]{64}(;[0-9a-f]{64})*)?$/),
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

export const SOURCE_DIR = join(CODELIST_DIR, 'source');

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface DroppedCode {
  code: string;
  term: string;
  why: string;
  nearMiss: boolean;
}

export interface DerivedCodelist {
  id: string;
  /** Distinct codes the sources offer in the declared scope (all rows, or `keep` / BNF prefixes). */
  inScope: { code: string; term: string }[];
  codes: { code: string; term: string }[];
  dropped: DroppedCode[];
  sources: string[];
}

function readSource(path: string, headerless = false): Record<string, string>[] {
  if (!headerless) return readCsv(path);
  return parse(readFileSync(path), {
    delimiter: '\t',
    columns: ['code', 'term'],
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
  });
}

function sourceFile(file: string) {
  const s = sourceFiles.find((f) => f.file === file);
  if (!s) throw new Error(`codelist source ${file} is not declared in pipeline/codelist-sources/`);
  return s;
}

function inScope(d: Derivation, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const use of d.from) {
    const src = sourceFile(use.file);
    for (const row of readSource(join(dir, use.file), src.headerless)) {
      const code = String(row[src.codeColumn] ?? '').trim();
      const term = String(row[src.termColumn] ?? '').trim();
      if (!code || code === 'NA') continue;
      if (use.keep && !use.keep.test(term)) continue;
      if (use.bnfPrefixes && !use.bnfPrefixes.some((p) => code.startsWith(p))) continue;
      if (!out.has(code)) out.set(code, term);
    }
  }
  return out;
}

function dropOf(
  drops: Drop[],
  code: string,
  term: string,
  others: Map<string, Set<string>>,
): Drop | undefined {
  return drops.find(
    (x) =>
      x.termMatches?.test(term) ||
      x.codes?.includes(code) ||
      x.onLists?.some((id) => others.get(id)?.has(code)),
  );
}

/**
 * Every derived list, from its published sources and declared drops. A drop `onLists` removes
 * the codes another list holds in scope (before that list's own drops), so each code counts
 * towards one condition and the order of the declarations does not matter.
 */
export function deriveCodelists(dir = SOURCE_DIR): Map<string, DerivedCodelist> {
  const scopes = new Map(derivations.map((d) => [d.id, inScope(d, dir)]));
  const scopeCodes = new Map([...scopes].map(([id, m]) => [id, new Set(m.keys())]));
  const out = new Map<string, DerivedCodelist>();
  for (const d of derivations) {
    const scope = scopes.get(d.id)!;
    const codes: { code: string; term: string }[] = [];
    const dropped: DroppedCode[] = [];
    for (const [code, term] of scope) {
      const drop = dropOf(d.drop ?? [], code, term, scopeCodes);
      if (drop) dropped.push({ code, term, why: drop.why, nearMiss: drop.nearMiss ?? false });
      else codes.push({ code, term });
    }
    codes.sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
    out.set(d.id, {
      id: d.id,
      inScope: [...scope].map(([code, term]) => ({ code, term })),
      codes,
      dropped,
      sources: [...new Set(d.from.map((f) => f.file))],
    });
  }
  return out;
}

/** Per list, the published codes that must not mark it: its drops marked `nearMiss` and the
 * declared near-miss files. The synthetic generator writes them; the rules must ignore them. */
export function nearMissCodes(derived = deriveCodelists(), dir = SOURCE_DIR): Map<string, DroppedCode[]> {
  const out = new Map<string, DroppedCode[]>();
  const add = (list: string, c: DroppedCode) => (out.get(list) ?? out.set(list, []).get(list)!).push(c);
  for (const l of derived.values()) for (const c of l.dropped) if (c.nearMiss) add(l.id, c);
  for (const n of nearMisses) {
    const src = sourceFile(n.file);
    for (const row of readSource(join(dir, n.file), src.headerless))
      add(n.list, {
        code: String(row[src.codeColumn]),
        term: String(row[src.termColumn]),
        why: n.why,
        nearMiss: true,
      });
  }
  return out;
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
