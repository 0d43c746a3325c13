// Care context in the synthetic record: codes from the published care-context lists for some
// patients, near-misses the rules must not count for others (an ending code after the marking
// one, a code before the rule's start or window or after the as-of date, the published codes a
// list drops: care home staff, care planning declined or offered), and the ground truth worked
// out from the written record and activity, not from the draws behind them.
import { codedCareContexts, RECENT_DISCHARGE } from '../../pipeline/care-context.ts';
import { addMonths, dayOf } from './calendar.ts';
import type { Rng } from './random.ts';
import type { Codebook } from './codebook.ts';
import type { ActivityEvent } from './secondary-care.ts';
import type { Observation } from './truth.ts';

export interface CareContextTruth {
  /** Ids of the coded care contexts that mark the patient on the as-of date, sorted. */
  careContexts: string[];
  recentlyDischarged: boolean;
}

interface Person {
  asOf: number;
  birthDay: number;
  age: number;
}

const YEAR = 365;

/** Chance a patient of this age is marked, by context (our planning figures, rising with age). */
function chanceOf(id: string, age: number): number {
  if (age < 18) return id === 'is_carer' ? 0.002 : 0.0005;
  const band = age < 65 ? 0 : age < 80 ? 1 : 2;
  const table: Record<string, [number, number, number]> = {
    palliative_care_register: [0.002, 0.01, 0.035],
    care_home_resident: [0.001, 0.01, 0.06],
    housebound: [0.003, 0.02, 0.08],
    is_carer: [0.035, 0.04, 0.02],
    has_care_plan: [0.02, 0.06, 0.15],
  };
  return (table[id] ?? [0, 0, 0])[band];
}

export function drawCareContext(
  rng: Rng,
  book: Codebook,
  p: Person,
  code: (day: number, c: string) => void,
): void {
  const { asOf, birthDay, age } = p;
  if (asOf - birthDay < 60) return;
  const past = (from: number) => rng.int(Math.max(from, birthDay + 30), asOf - 1);
  for (const c of codedCareContexts) {
    const marks = book.codesMarkingNothingElse(c.codelist);
    const ends = c.endedBy ? book.codesMarkingNothingElse(c.endedBy) : [];
    const since = c.since ? dayOf(c.since) : -Infinity;
    // The window's first day does not count: a code must be after it.
    const windowStart = c.withinMonths ? addMonths(asOf, -c.withinMonths) : -Infinity;
    const chance = chanceOf(c.id, age);
    const from = Math.max(since, asOf - 6 * YEAR, windowStart + 1);
    if (from >= asOf - 1) continue;
    if (rng.next() < chance) {
      const day = past(from);
      code(day, rng.pick(marks));
      if (ends.length && rng.chance(0.2)) {
        // Ended once, then marked again (the later mark stands), or ended the same day (it
        // does not end a code from that day).
        if (day > from + 2 && rng.chance(0.5)) code(rng.int(from, day - 1), rng.pick(ends));
        else code(day, rng.pick(ends));
      }
      continue;
    }
    if (rng.next() >= chance * 1.5) continue;
    const kinds = ['future'];
    if (ends.length) kinds.push('ended', 'ended');
    if (c.since && since - 1 > birthDay + 30) kinds.push('beforeStart');
    if (windowStart > birthDay + 30) kinds.push('beforeWindow', 'beforeWindow');
    // Dropped codes: care home staff codes only for people of working age.
    const dropped = book.nearMissCodes(c.codelist);
    if (dropped.length && age >= 18 && (age < 70 || c.id !== 'care_home_resident'))
      kinds.push('dropped', 'dropped');
    const kind = rng.pick(kinds);
    if (kind === 'future') code(asOf + rng.int(5, 200), rng.pick(marks));
    else if (kind === 'dropped') code(past(from), rng.pick(dropped));
    else if (kind === 'beforeWindow')
      // Sometimes on the window's first day itself, which is outside it.
      code(
        rng.chance(0.2) ? windowStart : rng.int(Math.max(birthDay + 30, windowStart - 4 * YEAR), windowStart),
        rng.pick(marks),
      );
    else if (kind === 'beforeStart')
      code(rng.int(Math.max(birthDay + 30, since - 8 * YEAR), since - 1), rng.pick(marks));
    else {
      const day = rng.int(from, asOf - 3);
      code(day, rng.pick(marks));
      code(rng.int(day + 1, asOf - 1), rng.pick(ends));
    }
  }
}

/** What the care-context rules should find on `asOf`, from the record as written. */
export function careContextOf(
  book: Codebook,
  obs: Observation[],
  activity: ActivityEvent[],
  asOf: number,
  birthDay: number,
): CareContextTruth {
  const careContexts: string[] = [];
  for (const c of codedCareContexts) {
    const since = c.since ? dayOf(c.since) : -Infinity;
    const after = c.withinMonths ? addMonths(asOf, -c.withinMonths) : -Infinity;
    const marks = book.publishedCodes(c.codelist);
    const ends = c.endedBy ? book.publishedCodes(c.endedBy) : new Set<string>();
    let lastMark = -Infinity;
    let lastEnd = -Infinity;
    for (const o of obs) {
      if (o.day > asOf || o.day < birthDay) continue;
      if (marks.has(o.code) && o.day >= since && o.day > after) lastMark = Math.max(lastMark, o.day);
      if (ends.has(o.code)) lastEnd = Math.max(lastEnd, o.day);
    }
    if (lastMark > -Infinity && lastEnd <= lastMark) careContexts.push(c.id);
  }
  const recentlyDischarged = activity.some(
    (a) =>
      RECENT_DISCHARGE.settings.includes(a.setting) &&
      a.end !== null &&
      a.end <= asOf &&
      a.end > asOf - RECENT_DISCHARGE.days,
  );
  return { careContexts: careContexts.sort(), recentlyDischarged };
}
