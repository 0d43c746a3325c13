// A world generated as of one date, seen on an earlier one: the delivery a practice would have
// sent on that earlier as-of date. Each patient's life is drawn as of the world date, then
// everything after the as-of date is taken away: registrations that had not begun, the end of
// a registration or a death still to come, records and hospital spells not yet made. So two
// deliveries cut from one world at two dates show the same people gaining conditions, frailty
// markers and admissions between them, rather than two draws of the same record.
//
// The ground truth is then what the counting rules find in the cut record on the as-of date,
// worked out from the record itself: the latent conditions of the world date do not hold on an
// earlier date (a code in a 12-month window may fall outside the earlier window; a condition
// later resolved was still open). The prospective figures (expected cost and the chance of an
// emergency admission, for the 12 months after the date and before it) come from the cost
// process at the world date and cannot be worked out again for an earlier one, so a cut
// delivery's truth leaves them empty.
import { conditions, type ConditionDeclaration, type Criterion } from '../../pipeline/conditions.ts';
import { loadCodelists } from '../codelists.ts';
import { addMonths, ageOn } from './calendar.ts';
import type { Codebook } from './codebook.ts';
import type { SynthPatient } from './population.ts';
import { careContextOf } from './care-context.ts';
import { realisedIn } from './secondary-care.ts';
import { countDeficits, hfrsOf, latestCodedFrailty, type Medication, type Observation } from './truth.ts';

export interface Cut {
  /** The delivery's as-of date, on or before the world date. */
  asOf: number;
  book: Codebook;
}

/**
 * The patient as their record stood on `cut.asOf`, or null when they were not yet registered
 * at any practice then. Registrations ending or a death after the date are open again; the
 * patient is registered (eligible) when a registration is open on the date.
 */
export function cutPatient(p: SynthPatient, cut: Cut): SynthPatient | null {
  const { asOf, book } = cut;
  const registrations = p.registrations
    .filter((r) => r.from <= asOf)
    .map((r) => ({ ...r, to: r.to !== null && r.to > asOf ? null : r.to }));
  if (!registrations.length) return null;
  const deathDay = p.deathDay !== null && p.deathDay > asOf ? null : p.deathDay;
  const endDay = p.endDay !== null && p.endDay > asOf ? null : p.endDay;
  const observations = p.observations.filter((o) => o.day <= asOf);
  const medications = p.medications.filter((m) => m.day <= asOf);
  // A spell still open on the date has not been sent yet: hospital data arrive at discharge.
  const activity = p.activity.filter((a) => a.start <= asOf && (a.end === null || a.end <= asOf));
  const last = registrations[registrations.length - 1]!;
  const eligible = last.to === null && deathDay === null;
  let truth: SynthPatient['truth'] = null;
  if (eligible) {
    const realised = realisedIn(activity, addMonths(asOf, -12), asOf);
    truth = {
      age: ageOn(p.birthDay, asOf),
      conditions: conditionsOn(observations, medications, asOf, p.birthDay),
      efiDeficits: countDeficits(book, observations, medications, asOf, p.birthDay),
      codedFrailty: latestCodedFrailty(book, observations, asOf),
      hfrs: hfrsOf(book, activity, asOf),
      expectedCostNext: NaN,
      expectedCostPrev: NaN,
      realisedCostPrev: realised.cost,
      pAdmissionNext: NaN,
      pAdmissionPrev: NaN,
      admittedPrev: realised.emergency,
      ...careContextOf(book, observations, activity, asOf, p.birthDay),
    };
  }
  return {
    ...p,
    registrations,
    deathDay,
    endDay,
    eligible,
    observations,
    medications,
    activity,
    truth,
  };
}

let codeSets: Map<string, Set<string>> | null = null;
function codesOf(list: string): Set<string> {
  codeSets ??= new Map([...loadCodelists()].map(([id, l]) => [id, new Set(l.codes.map((c) => c.code))]));
  const codes = codeSets.get(list);
  if (!codes) throw new Error(`codelist ${list} is declared but not loaded`);
  return codes;
}

/** Sorted ids of the conditions the published rules find in a record on `asOf`. */
export function conditionsOn(
  obs: Observation[],
  meds: Medication[],
  asOf: number,
  birthDay: number,
): string[] {
  const o = obs.filter((x) => x.day <= asOf && x.day >= birthDay);
  const m = meds.filter((x) => x.day <= asOf && x.day >= birthDay);
  return conditions
    .filter((c) => present(c, o, m, asOf))
    .map((c) => c.id)
    .sort();
}

const daysOn = (obs: Observation[], list: string) => {
  const codes = codesOf(list);
  return obs.filter((o) => codes.has(o.code)).map((o) => o.day);
};
const within = (day: number, asOf: number, months: number) => day > addMonths(asOf, -months) && day <= asOf;
const issues = (meds: Medication[], list: string, asOf: number, months: number) => {
  const codes = codesOf(list);
  return meds.filter((m) => codes.has(m.bnf.slice(0, 9)) && within(m.day, asOf, months)).length;
};

function present(c: ConditionDeclaration, obs: Observation[], meds: Medication[], asOf: number): boolean {
  if (!c.criteria.some((k) => holds(k, obs, meds, asOf))) return false;
  if (!c.resolved) return true;
  const diagnosed = c.criteria.flatMap((k) => ('codelist' in k ? daysOn(obs, k.codelist) : []));
  const resolved = daysOn(obs, c.resolved);
  // With no diagnosis code there is nothing for a resolved code to come after.
  return !(diagnosed.length && resolved.length && Math.max(...resolved) > Math.max(...diagnosed));
}

function holds(k: Criterion, obs: Observation[], meds: Medication[], asOf: number): boolean {
  if (k.kind === 'diagnosis') {
    const days = daysOn(obs, k.codelist);
    if (!days.length) return false;
    if (k.withinMonths !== undefined && !days.some((d) => within(d, asOf, k.withinMonths!))) return false;
    if (k.firstWithinMonths !== undefined && !within(Math.min(...days), asOf, k.firstWithinMonths))
      return false;
    return true;
  }
  if (k.kind === 'treated')
    return (
      daysOn(obs, k.codelist).length > 0 &&
      issues(meds, k.medication, asOf, k.withinMonths) >= (k.minIssues ?? 1)
    );
  if (k.unlessDiagnosed !== undefined && daysOn(obs, k.unlessDiagnosed).length) return false;
  return issues(meds, k.medication, asOf, k.withinMonths) >= k.minIssues;
}
