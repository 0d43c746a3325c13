// The cohort rules restated as plain in-memory TypeScript, so property tests can check the
// SQL engine against something a reviewer can verify by reading. Speed and elegance are
// deliberately traded away: every rule is a loop over the raw rows, patient by patient, and
// nothing is shared with the SQL beyond the declarations themselves (conditions, deficits,
// codelists, HFRS points). Any shortcut added here weakens the check it exists to provide.
import { conditions, type ConditionDeclaration, type Criterion } from '../../pipeline/conditions.ts';
import { CODED_FRAILTY, EFI_DEFICIT_COUNT, HFRS, deficits, efiCategory } from '../../pipeline/frailty.ts';
import { loadCodelists, type Codelist } from '../../src/codelists.ts';
import { loadHfrsPoints } from '../../src/codelists.ts';
import { addMonths, ageOn, dayOf, isoOf } from '../../src/synth/calendar.ts';

export interface RefRegistration {
  pseudo_id: string;
  practice_code: string;
  sex: string;
  /** YYYY-MM */
  birth_month: string;
  registered_from: string;
  registered_to: string | null;
  date_of_death: string | null;
}

export interface RefObservation {
  pseudo_id: string;
  recorded_date: string;
  snomed_code: string;
}

export interface RefMedication {
  pseudo_id: string;
  issue_date: string;
  /** 9 to 15 characters; the first 9 are the chemical substance. */
  bnf_code: string;
}

export interface RefActivity {
  pseudo_id: string;
  /** APC_NEL, APC_EL, APC_DC, OP or AE */
  setting: string;
  start_date: string;
  primary_diagnosis: string | null;
  /** ';'-separated */
  secondary_diagnoses: string | null;
}

/** One cleaned delivery. All dates are YYYY-MM-DD. */
export interface RefInput {
  /** The reference date. */
  asOf: string;
  /** Practice codes in the reference list. */
  practices: string[];
  registrations: RefRegistration[];
  observations: RefObservation[];
  medications: RefMedication[];
  activity: RefActivity[];
}

export type CodedFrailty = 'none' | 'mild' | 'moderate' | 'severe';
export type FrailtyRule = 'coded_frailty' | 'efi' | 'hfrs';

export interface RefRow {
  pseudo_id: string;
  practice_code: string;
  age: number;
  /** Sorted condition ids. */
  conditions: string[];
  condition_count: number;
  multimorbidity_5plus: boolean;
  /** Sorted deficit ids. */
  efi_deficits: string[];
  efi_score: number;
  efi_category: string;
  coded_frailty: CodedFrailty;
  /** Rounded to 1 decimal place. */
  hfrs: number;
  /** In the order coded_frailty, efi, hfrs. */
  frailty_rules: FrailtyRule[];
  frailty: boolean;
}

const ICD10_CODE = /^[A-Z][0-9]{2}[0-9X]?$/;
const SEVERITY_ORDER: CodedFrailty[] = ['none', 'mild', 'moderate', 'severe'];

/** One row per patient eligible on `input.asOf`, ordered by pseudo_id. */
export function referenceCohorts(input: RefInput, codelists = loadCodelists()): RefRow[] {
  const ref = input.asOf;
  const hfrsPoints = loadHfrsPoints();
  const out: RefRow[] = [];

  const chosen = chooseRegistrations(input);
  const ids = [...chosen.keys()].sort();
  for (const id of ids) {
    const registration = chosen.get(id)!;
    const birthDay = `${registration.birth_month}-01`;
    const age = ageOn(dayOf(birthDay), dayOf(ref));

    // Records before birth are data errors, so the spec ignores them for GP data; hospital
    // activity has no such rule and is limited by its 24-month window alone.
    const observations: RefObservation[] = [];
    for (const o of input.observations) {
      if (o.pseudo_id === id && o.recorded_date <= ref && o.recorded_date >= birthDay) observations.push(o);
    }
    const medications: RefMedication[] = [];
    for (const m of input.medications) {
      if (m.pseudo_id === id && m.issue_date <= ref && m.issue_date >= birthDay) medications.push(m);
    }
    const activity: RefActivity[] = [];
    for (const a of input.activity) {
      if (a.pseudo_id === id && a.start_date <= ref) activity.push(a);
    }

    const conditionIds: string[] = [];
    for (const condition of conditions) {
      if (conditionPresent(condition, observations, medications, ref, codelists))
        conditionIds.push(condition.id);
    }
    conditionIds.sort();

    const deficitIds: string[] = [];
    for (const deficit of deficits) {
      let present = false;
      if (deficit.codelist !== undefined) {
        present = datesOfCodes(observations, codesOf(codelists, deficit.codelist)).length > 0;
      } else if (deficit.distinctDrugs !== undefined) {
        const chemicals = new Set<string>();
        const { from, to } = deficit.distinctDrugs.bnfChapters;
        for (const m of medications) {
          const chapter = m.bnf_code.slice(0, 2);
          if (chapter < from || chapter > to) continue;
          if (inWindow(m.issue_date, ref, deficit.distinctDrugs.withinMonths)) chemicals.add(chemicalOf(m));
        }
        present = chemicals.size >= deficit.distinctDrugs.min;
      }
      if (present) deficitIds.push(deficit.id);
    }
    deficitIds.sort();
    const efiScore = deficitIds.length / EFI_DEFICIT_COUNT;
    const efiCat = efiCategory(efiScore);

    const codedFrailty = codedFrailtyOf(observations, ref, codelists);
    const hfrs = hfrsOf(activity, ref, hfrsPoints);

    const rules: FrailtyRule[] = [];
    if (codedFrailty === 'moderate' || codedFrailty === 'severe') rules.push('coded_frailty');
    if (efiCat === 'moderate' || efiCat === 'severe') rules.push('efi');
    if (hfrs >= HFRS.markerAtLeast) rules.push('hfrs');

    out.push({
      pseudo_id: id,
      practice_code: registration.practice_code,
      age,
      conditions: conditionIds,
      condition_count: conditionIds.length,
      multimorbidity_5plus: age >= 18 && conditionIds.length >= 5,
      efi_deficits: deficitIds,
      efi_score: efiScore,
      efi_category: efiCat,
      coded_frailty: codedFrailty,
      hfrs,
      frailty_rules: rules,
      frailty: rules.length > 0,
    });
  }
  return out;
}

/** The registration each eligible patient is counted under. */
function chooseRegistrations(input: RefInput): Map<string, RefRegistration> {
  const ref = input.asOf;
  const chosen = new Map<string, RefRegistration>();
  for (const r of input.registrations) {
    if (!(r.registered_from <= ref)) continue;
    if (r.registered_to !== null && !(r.registered_to > ref)) continue;
    if (!input.practices.includes(r.practice_code)) continue;
    if (r.date_of_death !== null && !(r.date_of_death > ref)) continue;

    const current = chosen.get(r.pseudo_id);
    if (current === undefined) {
      chosen.set(r.pseudo_id, r);
    } else if (r.registered_from > current.registered_from) {
      chosen.set(r.pseudo_id, r);
    } else if (r.registered_from === current.registered_from && r.practice_code < current.practice_code) {
      chosen.set(r.pseudo_id, r);
    }
  }
  return chosen;
}

function conditionPresent(
  condition: ConditionDeclaration,
  observations: RefObservation[],
  medications: RefMedication[],
  ref: string,
  codelists: Map<string, Codelist>,
): boolean {
  let present = false;
  for (const criterion of condition.criteria) {
    if (criterionHolds(criterion, observations, medications, ref, codelists)) present = true;
  }
  if (!present || condition.resolved === undefined) return present;

  const diagnosisDates: string[] = [];
  for (const criterion of condition.criteria) {
    if (criterion.kind === 'diagnosis' || criterion.kind === 'treated') {
      for (const date of datesOfCodes(observations, codesOf(codelists, criterion.codelist))) {
        diagnosisDates.push(date);
      }
    }
  }
  const latestDiagnosis = latest(diagnosisDates);
  const latestResolved = latest(datesOfCodes(observations, codesOf(codelists, condition.resolved)));
  // With no diagnosis code there is nothing for a resolved code to come after (SQL's
  // `resolved > NULL` is not true either), so the condition stands on its other criteria.
  if (latestResolved !== null && latestDiagnosis !== null && latestResolved > latestDiagnosis) return false;
  return true;
}

function criterionHolds(
  criterion: Criterion,
  observations: RefObservation[],
  medications: RefMedication[],
  ref: string,
  codelists: Map<string, Codelist>,
): boolean {
  if (criterion.kind === 'diagnosis') {
    const dates = datesOfCodes(observations, codesOf(codelists, criterion.codelist));
    if (dates.length === 0) return false;
    if (criterion.withinMonths !== undefined) {
      let anyInWindow = false;
      for (const date of dates) if (inWindow(date, ref, criterion.withinMonths)) anyInWindow = true;
      if (!anyInWindow) return false;
    }
    if (criterion.firstWithinMonths !== undefined) {
      if (!inWindow(earliest(dates)!, ref, criterion.firstWithinMonths)) return false;
    }
    return true;
  }
  if (criterion.kind === 'treated') {
    const diagnosed = datesOfCodes(observations, codesOf(codelists, criterion.codelist)).length > 0;
    const issues = issuesInWindow(
      medications,
      codesOf(codelists, criterion.medication),
      ref,
      criterion.withinMonths,
    );
    return diagnosed && issues >= (criterion.minIssues ?? 1);
  }
  if (criterion.unlessDiagnosed !== undefined) {
    if (datesOfCodes(observations, codesOf(codelists, criterion.unlessDiagnosed)).length > 0) return false;
  }
  const issues = issuesInWindow(
    medications,
    codesOf(codelists, criterion.medication),
    ref,
    criterion.withinMonths,
  );
  return issues >= criterion.minIssues;
}

function codedFrailtyOf(
  observations: RefObservation[],
  ref: string,
  codelists: Map<string, Codelist>,
): CodedFrailty {
  const lists: [CodedFrailty, Set<string>][] = [
    ['mild', codesOf(codelists, CODED_FRAILTY.codelists.mild)],
    ['moderate', codesOf(codelists, CODED_FRAILTY.codelists.moderate)],
    ['severe', codesOf(codelists, CODED_FRAILTY.codelists.severe)],
  ];
  let bestDate: string | null = null;
  let best: CodedFrailty = 'none';
  for (const o of observations) {
    if (!inWindow(o.recorded_date, ref, CODED_FRAILTY.withinMonths)) continue;
    for (const [severity, codes] of lists) {
      if (!codes.has(o.snomed_code)) continue;
      if (bestDate === null || o.recorded_date > bestDate) {
        bestDate = o.recorded_date;
        best = severity;
      } else if (o.recorded_date === bestDate && moreSevere(severity, best)) {
        best = severity;
      }
    }
  }
  return best;
}

function hfrsOf(activity: RefActivity[], ref: string, points: Map<string, number>): number {
  const prefixes = new Set<string>();
  const admitted: readonly string[] = HFRS.settings;
  for (const a of activity) {
    if (!admitted.includes(a.setting)) continue;
    if (!inWindow(a.start_date, ref, HFRS.withinMonths)) continue;
    const codes: string[] = [];
    if (a.primary_diagnosis !== null) codes.push(a.primary_diagnosis);
    if (a.secondary_diagnoses !== null) {
      for (const code of a.secondary_diagnoses.split(';')) codes.push(code);
    }
    for (const code of codes) {
      if (ICD10_CODE.test(code)) prefixes.add(code.slice(0, 3));
    }
  }
  let sum = 0;
  for (const prefix of prefixes) sum += points.get(prefix) ?? 0;
  return Math.round(sum * 10) / 10;
}

/** Date > ref minus `months` (DuckDB month arithmetic) and date <= ref. */
function inWindow(date: string, ref: string, months: number): boolean {
  const start = isoOf(addMonths(dayOf(ref), -months));
  return date > start && date <= ref;
}

function issuesInWindow(medications: RefMedication[], chemicals: Set<string>, ref: string, months: number) {
  let count = 0;
  for (const m of medications) {
    if (chemicals.has(chemicalOf(m)) && inWindow(m.issue_date, ref, months)) count++;
  }
  return count;
}

function chemicalOf(m: RefMedication): string {
  return m.bnf_code.slice(0, 9);
}

function datesOfCodes(observations: RefObservation[], codes: Set<string>): string[] {
  const dates: string[] = [];
  for (const o of observations) if (codes.has(o.snomed_code)) dates.push(o.recorded_date);
  return dates;
}

function codesOf(codelists: Map<string, Codelist>, id: string): Set<string> {
  const list = codelists.get(id);
  if (list === undefined) throw new Error(`codelist ${id} is declared but not loaded`);
  const codes = new Set<string>();
  for (const c of list.codes) codes.add(c.code);
  return codes;
}

function latest(dates: string[]): string | null {
  let result: string | null = null;
  for (const d of dates) if (result === null || d > result) result = d;
  return result;
}

function earliest(dates: string[]): string | null {
  let result: string | null = null;
  for (const d of dates) if (result === null || d < result) result = d;
  return result;
}

function moreSevere(a: CodedFrailty, b: CodedFrailty): boolean {
  return SEVERITY_ORDER.indexOf(a) > SEVERITY_ORDER.indexOf(b);
}
