// The codes the generator may write, derived from the project's own codelists so that
// what it writes and what the pipeline counts share one source.
import { conditions } from '../../pipeline/conditions.ts';
import { deficits, CODED_FRAILTY } from '../../pipeline/frailty.ts';
import { loadCodelists, loadHfrsPoints, type Codelist } from '../codelists.ts';
import { verhoeffValid } from '../snomed.ts';
import type { Rng } from './random.ts';

export interface UnrelatedCode {
  code: string;
  unit: string;
  value: (rng: Rng) => string;
}

export interface Codebook {
  /** Codes of a diagnosis list that belong to no other condition list (so writing one marks only that condition). */
  diagnosisCodes(list: string): string[];
  medicationCodes(list: string): string[];
  /** Codes of an eFI-style deficit list that mark no chronic condition. */
  deficitOnlyCodes(list: string): string[];
  deficitsOfCode(code: string): string[];
  frailtySeverityOf(code: string): 'mild' | 'moderate' | 'severe' | null;
  breakCheckDigit(code: string, rng: Rng): string;
  background: string[];
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

export function buildCodebook(): Codebook {
  const lists = loadCodelists();
  const get = (id: string): Codelist => {
    const l = lists.get(id);
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
      const own = codes(id).filter((c) => owners.get(c)!.size === 1);
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
  const allMedCodes = new Set(medOwners.keys());
  const background = codes('med_background').filter((c) => !allMedCodes.has(c));
  const hfrsPoints = loadHfrsPoints();

  return {
    diagnosisCodes,
    medicationCodes,
    deficitOnlyCodes,
    deficitsOfCode: (code) => deficitOf.get(code) ?? [],
    frailtySeverityOf: (code) => severityOf.get(code) ?? null,
    breakCheckDigit(code, rng) {
      // A code that lost or changed its last digit, the usual spreadsheet damage.
      for (;;) {
        const broken = rng.chance(0.5) ? code.slice(0, -1) : code.slice(0, -1) + String(rng.int(0, 9));
        if (!verhoeffValid(broken) && broken.length >= 6) return broken;
      }
    },
    background,
    unrelated,
    hfrsCodes: [...hfrsPoints.keys()],
    otherIcd10: OTHER_ICD10.filter((c) => !hfrsPoints.has(c)),
    hfrsPoints,
  };
}
