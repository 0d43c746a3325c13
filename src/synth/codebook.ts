// The codes the generator may write. A condition's codes are drawn from the whole published
// list its codelist was derived from, skewed as GP records are (most entries use a handful of
// common concepts, the rest a long tail), so a list cut short shows as disagreement with the
// ground truth; beside them, published near-miss codes the rules must not count.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { conditions } from '../../pipeline/conditions.ts';
import { deficits, CODED_FRAILTY } from '../../pipeline/frailty.ts';
import {
  deriveCodelists,
  loadCodelists,
  loadHfrsPoints,
  nearMissCodes,
  SOURCE_DIR,
  type Codelist,
} from '../codelists.ts';
import { verhoeffValid } from '../snomed.ts';
import type { Rng } from './random.ts';

export interface UnrelatedCode {
  code: string;
  unit: string;
  value: (rng: Rng) => string;
}

export interface Codebook {
  /** Codes of a diagnosis list that belong to no other condition list (so writing one marks only
   * that condition), the common concepts first. */
  diagnosisCodes(list: string): string[];
  /** One of `codes` (as diagnosisCodes orders them), drawn as records use them: mostly the
   * first few, otherwise any. */
  pickCommon(rng: Rng, codes: string[]): string;
  /** Published codes close to a list that mark nothing. */
  nearMissCodes(list: string): string[];
  onList(list: string, code: string): boolean;
  medicationCodes(list: string): string[];
  /** Codes of an eFI-style deficit list that mark no chronic condition. */
  deficitOnlyCodes(list: string): string[];
  deficitsOfCode(code: string): string[];
  /** Every published code of a list (care contexts: their marking and ending lists). */
  publishedCodes(list: string): ReadonlySet<string>;
  /** Codes of a list that mark no condition, deficit or frailty severity. */
  codesMarkingNothingElse(list: string): string[];
  frailtySeverityOf(code: string): 'mild' | 'moderate' | 'severe' | null;
  breakCheckDigit(code: string, rng: Rng): string;
  background: string[];
  /** BNF chemical codes of dressings and appliances (chapters 20-23). */
  appliances: string[];
  unrelated: UnrelatedCode[];
  hfrsCodes: string[];
  otherIcd10: string[];
  hfrsPoints: Map<string, number>;
}

// ICD-10 3-character codes for admissions that carry no HFRS points (checked below).
const OTHER_ICD10 = [
  'K35',
  'K80',
  'K40',
  'I21',
  'I48',
  'J44',
  'J45',
  'C50',
  'C18',
  'O80',
  'N80',
  'H25',
  'M17',
  'M16',
  'K57',
  'E11',
  'I50',
  'R07',
  'R10',
  'L02',
];

// Most records use a handful of concepts: this many take this share of the draws, and every
// code of the list (those included) shares the rest evenly.
const COMMON_CONCEPTS = 5;
const COMMON_SHARE = 0.6;

export function buildCodebook(): Codebook {
  const lists = loadCodelists();
  // A derived list's codes come from its published sources, not from the list file the
  // pipeline reads: a list cut short then misses codes the records carry.
  const published = deriveCodelists();
  const get = (id: string): Pick<Codelist, 'codes'> => {
    const l = published.get(id) ?? lists.get(id);
    if (!l) throw new Error(`codelist ${id} is declared but missing from pipeline/codelists/index.csv`);
    return l;
  };
  const codes = (id: string) => get(id).codes.map((c) => c.code);

  // Every list whose code would mark a condition or a coded frailty severity.
  const markingLists = new Set<string>();
  for (const c of conditions) {
    if (c.resolved) markingLists.add(c.resolved);
    for (const k of c.criteria) if ('codelist' in k) markingLists.add(k.codelist);
  }
  for (const id of Object.values(CODED_FRAILTY.codelists)) markingLists.add(id);
  const owners = new Map<string, Set<string>>();
  for (const id of markingLists)
    for (const code of codes(id)) (owners.get(code) ?? owners.set(code, new Set()).get(code)!).add(id);

  const medicationLists = new Set<string>();
  for (const c of conditions)
    for (const k of c.criteria) if ('medication' in k) medicationLists.add(k.medication);
  const medOwners = new Map<string, number>();
  for (const id of medicationLists)
    for (const code of codes(id)) medOwners.set(code, (medOwners.get(code) ?? 0) + 1);

  const deficitOf = new Map<string, string[]>();
  for (const d of deficits)
    if (d.codelist)
      for (const code of codes(d.codelist))
        (deficitOf.get(code) ?? deficitOf.set(code, []).get(code)!).push(d.id);

  const severityOf = new Map<string, 'mild' | 'moderate' | 'severe'>();
  for (const [severity, id] of Object.entries(CODED_FRAILTY.codelists))
    for (const code of codes(id)) severityOf.set(code, severity as 'mild');

  const memo = new Map<string, string[]>();
  const diagnosisCodes = (id: string) => {
    let out = memo.get(id);
    if (!out) {
      // The shortest terms name the general concepts ("Asthma", "Malignant neoplasm of
      // breast"), which records use most; the qualified ones follow.
      const own = get(id)
        .codes.filter((c) => owners.get(c.code)!.size === 1)
        .sort((a, b) => a.term.length - b.term.length || (a.code < b.code ? -1 : 1))
        .map((c) => c.code);
      out = own.length ? own : codes(id);
      memo.set(id, out);
    }
    return out;
  };
  const medicationCodes = (id: string) => {
    let out = memo.get(id);
    if (!out) {
      const own = codes(id).filter((c) => medOwners.get(c) === 1);
      out = own.length ? own : codes(id);
      memo.set(id, out);
    }
    return out;
  };
  const deficitOnlyCodes = (id: string) => {
    let out = memo.get(`deficit:${id}`);
    if (!out) {
      out = codes(id).filter((c) => !owners.has(c));
      memo.set(`deficit:${id}`, out);
    }
    return out;
  };

  const everyListed = new Set<string>([...owners.keys(), ...deficitOf.keys()]);
  const unrelated: UnrelatedCode[] = codes('noise_unrelated')
    .filter((c) => !everyListed.has(c))
    .map((code, i) =>
      i % 3 === 0
        ? { code, unit: 'kg', value: (rng: Rng) => (50 + rng.next() * 60).toFixed(1) }
        : { code, unit: '', value: () => '' },
    );
  const publishedSets = new Map<string, ReadonlySet<string>>();
  const publishedCodes = (id: string) => {
    let out = publishedSets.get(id);
    if (!out) publishedSets.set(id, (out = new Set(codes(id))));
    return out;
  };
  const nearMiss = new Map<string, string[]>();
  for (const [list, dropped] of nearMissCodes(published))
    nearMiss.set(
      list,
      [...new Set(dropped.map((c) => c.code))].filter((c) => !everyListed.has(c) && verhoeffValid(c)),
    );
  const allMedCodes = new Set(medOwners.keys());
  const background = codes('med_background').filter((c) => !allMedCodes.has(c));
  const hfrsPoints = loadHfrsPoints();
  const bnf: { chapter_code: string; code: string }[] = parse(
    readFileSync(join(SOURCE_DIR, 'nhsbsa-bnf', 'bnf-chemical-substances.csv')),
    { columns: true },
  );
  const appliances = bnf.filter((r) => r.chapter_code >= '20').map((r) => r.code);

  return {
    diagnosisCodes,
    pickCommon: (rng, list) =>
      rng.chance(COMMON_SHARE)
        ? list[rng.int(0, Math.min(COMMON_CONCEPTS, list.length) - 1)]!
        : rng.pick(list),
    nearMissCodes: (list) => nearMiss.get(list) ?? [],
    onList: (list, code) =>
      (owners.get(code)?.has(list) ?? false) || (deficitOf.get(code) ?? []).includes(list),
    medicationCodes,
    deficitOnlyCodes,
    deficitsOfCode: (code) => deficitOf.get(code) ?? [],
    publishedCodes,
    codesMarkingNothingElse: (id) => {
      const own = codes(id).filter((c) => !everyListed.has(c));
      return own.length ? own : codes(id);
    },
    frailtySeverityOf: (code) => severityOf.get(code) ?? null,
    breakCheckDigit(code, rng) {
      // A code that lost or changed its last digit, the usual spreadsheet damage.
      for (;;) {
        const broken = rng.chance(0.5) ? code.slice(0, -1) : code.slice(0, -1) + String(rng.int(0, 9));
        if (!verhoeffValid(broken) && broken.length >= 6) return broken;
      }
    },
    background,
    appliances,
    unrelated,
    hfrsCodes: [...hfrsPoints.keys()],
    otherIcd10: OTHER_ICD10.filter((c) => !hfrsPoints.has(c)),
    hfrsPoints,
  };
}
