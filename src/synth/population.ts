// The generative model of one synthetic patient: demographics, registrations, chronic
// conditions (and the near-misses the counting rules must not count), eFI-style
// deficits, coded frailty, prescriptions and secondary-care activity with cost.
//
// Each patient is a pure function of (seed, patient number), so a mover's earlier
// practice can regenerate the same life and write the part of the record it holds.
//
// Secondary care and its cost come from src/synth/secondary-care.ts, which draws on the
// risk index worked out here from age, sex, deprivation, conditions and deficits.
import { conditions, type Criterion } from '../../pipeline/conditions.ts';
import { bandPrevalence, deficitAgeFactor, logit, sigmoid } from './prevalence.ts';
import { deficits, efiCategory, CODED_FRAILTY, EFI_DEFICIT_COUNT } from '../../pipeline/frailty.ts';
import { addMonths, ageOn, isoOf, monthStart } from './calendar.ts';
import { distinctDays, hashUnit, pickIndex, pseudoIdOf, Rng } from './random.ts';
import type { Codebook } from './codebook.ts';
import type { Practice } from './geography.ts';
import { drawPersonEffect, riskIndex } from './cost-process.ts';
import { drawSecondaryCare, realisedIn, type ActivityEvent } from './secondary-care.ts';
import { careContextOf, drawCareContext, type CareContextTruth } from './care-context.ts';
import {
  countDeficits,
  hfrsOf,
  latestCodedFrailty,
  type CodedFrailty,
  type Medication,
  type Observation,
} from './truth.ts';

export interface Registration {
  practice: number;
  from: number;
  to: number | null;
}

export interface SynthPatient {
  number: number;
  pseudoId: string;
  sex: 'F' | 'M' | 'U';
  birthDay: number;
  birthMonth: string;
  lsoa: string;
  imd: number;
  registrations: Registration[];
  deathDay: number | null;
  /** Day the record stops growing (death or leaving LLR), else null. */
  endDay: number | null;
  eligible: boolean;
  observations: Observation[];
  medications: Medication[];
  activity: ActivityEvent[];
  truth: PatientTruth | null;
}

export interface PatientTruth extends CareContextTruth {
  age: number;
  conditions: string[];
  efiDeficits: string[];
  codedFrailty: CodedFrailty;
  hfrs: number;
  expectedCostNext: number;
  expectedCostPrev: number;
  realisedCostPrev: number;
  pAdmissionNext: number;
  pAdmissionPrev: number;
  admittedPrev: boolean;
}

export interface PopulationContext {
  seed: number;
  asOf: number;
  codebook: Codebook;
  practices: Practice[];
  ageWeights: Map<string, number[]>;
}

const YEAR = 365;

/** The earlier practice of a mover, or null. Decided from the patient number alone. */
export function previousPracticeOf(
  ctx: PopulationContext,
  n: number,
  home: number,
  isCurrent: boolean,
): number | null {
  if (!isCurrent || ctx.practices.length < 2 || hashUnit(ctx.seed, n, 77) >= 0.03) return null;
  const k = Math.floor(hashUnit(ctx.seed, n, 78) * (ctx.practices.length - 1));
  return k >= home ? k + 1 : k;
}

export function generatePatient(
  ctx: PopulationContext,
  n: number,
  home: number,
  isCurrent: boolean,
): SynthPatient {
  const { asOf, codebook: book } = ctx;
  const rng = new Rng(ctx.seed, n);
  const practice = ctx.practices[home]!;
  const sex = rng.chance(0.001) ? 'U' : rng.chance(0.5) ? 'F' : 'M';
  const goneKind = isCurrent ? null : rng.chance(0.35) ? 'died' : 'left';
  const weights = ctx.ageWeights.get(practice.place)!;
  let age = pickIndex(rng, weights);
  if (goneKind === 'died') age = Math.max(age, 55 + rng.int(0, 40));
  const birthMonthDay = monthStart(addMonths(asOf, -(age * 12 + rng.int(0, 11))));
  const birthDay = birthMonthDay;
  const birthMonth = isoOf(birthDay).slice(0, 7);
  age = ageOn(birthDay, asOf);
  const lsoa = rng.pick(practice.lsoas);

  // Registrations: most people have been registered for years; some joined recently.
  const historyStart = addMonths(asOf, -48);
  let regFrom = rng.chance(0.06) ? asOf - rng.int(20, 3 * YEAR) : asOf - rng.int(3 * YEAR, 25 * YEAR);
  regFrom = Math.min(Math.max(regFrom, birthDay + rng.int(5, 40)), asOf);
  let endDay: number | null = null;
  let deathDay: number | null = null;
  if (goneKind) {
    endDay = Math.min(asOf - 1, Math.max(asOf - rng.int(15, 3 * YEAR - 15), birthDay + 30));
    if (endDay <= regFrom) regFrom = Math.max(birthDay + 1, endDay - rng.int(200, 2000));
    if (goneKind === 'died') deathDay = endDay;
  }
  const registrations: Registration[] = [];
  const moveDay = asOf - rng.int(60, 3 * YEAR - 60);
  // Only people registered somewhere before the move can have moved.
  const previous = moveDay > birthDay + 60 ? previousPracticeOf(ctx, n, home, isCurrent) : null;
  if (previous !== null) {
    const earlierFrom = Math.min(regFrom, moveDay - rng.int(200, 4000));
    registrations.push({ practice: previous, from: Math.max(earlierFrom, birthDay + 1), to: moveDay });
    registrations.push({ practice: home, from: moveDay, to: null });
  } else {
    registrations.push({ practice: home, from: regFrom, to: endDay });
  }

  // Latent traits: morbidity and frailty are correlated; deprivation adds morbidity.
  const z = rng.normal();
  const f = 0.6 * z + 0.8 * rng.normal();
  const u = drawPersonEffect(rng);
  const dep = 0.09 * (5.5 - lsoa.imd_decile);

  const obs: SynthPatient['observations'] = [];
  const meds: SynthPatient['medications'] = [];
  const code = (day: number, c: string) => obs.push({ day, code: c, value: '', unit: '' });
  const window12 = addMonths(asOf, -12);
  const recent = () => rng.int(window12 + 10, asOf - 10);
  const pastOnset = () => rng.int(Math.max(birthDay + 200, asOf - 15 * YEAR), asOf - 10);
  // For a rule over the last 12 months: onset before that window, so the rule sees a full year.
  const settledOnset = () => {
    const latest = window12 + 10;
    return rng.int(Math.min(Math.max(birthDay + 200, asOf - 15 * YEAR), latest), latest);
  };
  // The 12-month periods of the record (newest first) from a condition's onset: each as the
  // days a code can fall on, kept 10 days clear of the period's ends.
  const yearsSince = (onsetDay: number): [number, number][] => {
    const out: [number, number][] = [];
    for (let y = 0; y < 4; y++) {
      const to = addMonths(asOf, -12 * y) - 10;
      const from = Math.max(addMonths(asOf, -12 * (y + 1)) + 10, onsetDay);
      if (from <= to) out.push([from, to]);
    }
    return out;
  };
  const series = (bnf: string, from: number, to: number, every: number) => {
    for (let d = to - rng.int(0, every - 1); d >= from; d -= every) meds.push({ day: d, bnf });
  };

  const active: string[] = [];
  const onset = new Map<string, number>();
  const adult = age >= 18;
  for (const c of conditions) {
    const prev = bandPrevalence(c, age, sex);
    if (prev <= 0) continue;
    const isActive = rng.next() < sigmoid(logit(prev) - 0.1 + 0.9 * z + dep);
    const isNoise = !isActive && rng.next() < Math.min(0.25, 1.5 * prev);
    if (!isActive && !isNoise) continue;
    // The first criterion mostly, another now and then; a drug counted only without a
    // diagnosis (anti-epileptics for pain) is not chosen for someone with that diagnosis.
    let criterion: Criterion =
      c.criteria.length > 1 && rng.chance(0.3)
        ? c.criteria[rng.int(1, c.criteria.length - 1)]!
        : c.criteria[0]!;
    if (criterion.kind === 'prescriptions' && criterion.unlessDiagnosed) {
      const list = criterion.unlessDiagnosed;
      if (obs.some((o) => book.onList(list, o.code))) criterion = c.criteria[0]!;
    }
    const dx = 'codelist' in criterion ? book.diagnosisCodes(criterion.codelist) : [];
    const pickDx = () => book.pickCommon(rng, dx);
    if (isActive) {
      active.push(c.id);
      let first: number;
      switch (criterion.kind) {
        case 'diagnosis':
          if (criterion.withinMonths) {
            // Lived with since onset and coded at least once a year: at any earlier date the
            // rule finds it just as it does today, so the risk it adds is there from onset.
            first = settledOnset();
            for (const [from, to] of yearsSince(first)) code(rng.int(from, to), pickDx());
          } else if (criterion.firstWithinMonths) {
            first = rng.int(addMonths(asOf, -criterion.firstWithinMonths) + 15, asOf - 10);
            code(first, pickDx());
            if (first < asOf - 60 && rng.chance(0.5)) code(rng.int(first + 1, asOf - 10), pickDx());
          } else {
            first = pastOnset();
            code(first, pickDx());
            if (rng.chance(0.3)) code(rng.int(first, asOf - 1), pickDx());
            if (c.resolved && rng.chance(0.1) && first < asOf - 100) {
              // Resolved and later diagnosed again: counts.
              const resolvedDay = rng.int(first + 1, asOf - 60);
              code(resolvedDay, rng.pick(book.diagnosisCodes(c.resolved)));
              code(rng.int(resolvedDay + 1, asOf - 10), pickDx());
            }
          }
          break;
        case 'treated': {
          first = pastOnset();
          code(first, pickDx());
          const meds_ = book.medicationCodes(criterion.medication);
          series(rng.pick(meds_), Math.max(first, historyStart), asOf - 10, rng.pick([56, 84, 112]));
          const chem = rng.pick(meds_);
          for (const day of distinctDays(rng, criterion.minIssues ?? 1, window12 + 10, asOf - 10))
            meds.push({ day, bnf: chem });
          break;
        }
        case 'prescriptions': {
          // Issued in every year since onset, so the rule fires at earlier dates too.
          const chem = rng.pick(book.medicationCodes(criterion.medication));
          first = settledOnset();
          for (const [from, to] of yearsSince(first))
            for (const day of distinctDays(rng, criterion.minIssues + rng.int(0, 6), from, to))
              meds.push({ day, bnf: chem });
          break;
        }
      }
      onset.set(c.id, first);
    } else {
      // Near-misses: recorded in a way the rules must not count.
      switch (criterion.kind) {
        case 'diagnosis': {
          const kinds = ['future', 'brokenCheckDigit'];
          if (criterion.withinMonths || criterion.firstWithinMonths) kinds.push('outOfWindow');
          if (c.resolved) kinds.push('resolved', 'resolved');
          const nearMiss = book.nearMissCodes(criterion.codelist);
          if (nearMiss.length) kinds.push('nearMiss', 'nearMiss');
          const kind = rng.pick(kinds);
          if (kind === 'future') code(asOf + rng.int(5, 200), pickDx());
          else if (kind === 'nearMiss') code(recent(), rng.pick(nearMiss));
          else if (kind === 'brokenCheckDigit') code(pastOnset(), book.breakCheckDigit(pickDx(), rng));
          else if (kind === 'resolved') {
            const d = rng.int(Math.max(birthDay + 200, asOf - 15 * YEAR), asOf - 100);
            code(d, pickDx());
            code(rng.int(d + 1, asOf - 10), rng.pick(book.diagnosisCodes(c.resolved!)));
          } else if (criterion.withinMonths) code(rng.int(asOf - 3 * YEAR, window12 - 10), pickDx());
          else {
            const first = rng.int(
              asOf - 12 * YEAR,
              addMonths(asOf, -(criterion.firstWithinMonths ?? 60)) - 15,
            );
            if (first > birthDay + 100) {
              code(first, pickDx());
              code(recent(), pickDx());
            }
          }
          break;
        }
        case 'treated': {
          const nearMiss = book.nearMissCodes(criterion.codelist);
          if (nearMiss.length && rng.chance(0.4)) {
            // Treated, but the code is a near miss (asthma resolved, say).
            code(pastOnset(), rng.pick(nearMiss));
            const chem = rng.pick(book.medicationCodes(criterion.medication));
            for (const day of distinctDays(rng, criterion.minIssues ?? 1, window12 + 10, asOf - 10))
              meds.push({ day, bnf: chem });
            break;
          }
          code(pastOnset(), pickDx());
          if ((criterion.minIssues ?? 1) > 1 && rng.chance(0.5)) {
            // Treated, but less often than the rule asks.
            const chem = rng.pick(book.medicationCodes(criterion.medication));
            for (const day of distinctDays(rng, criterion.minIssues! - 1, window12 + 10, asOf - 10))
              meds.push({ day, bnf: chem });
            break;
          }
          // Treatment stopped more than a year ago.
          meds.push({
            day: rng.int(asOf - 2 * YEAR, window12 - 10),
            bnf: rng.pick(book.medicationCodes(criterion.medication)),
          });
          break;
        }
        case 'prescriptions': {
          const chem = rng.pick(book.medicationCodes(criterion.medication));
          const k = criterion.minIssues - 1;
          if (k > 0)
            for (const day of distinctDays(rng, k, window12 + 10, asOf - 10)) meds.push({ day, bnf: chem });
          else meds.push({ day: rng.int(asOf - 2 * YEAR, window12 - 10), bnf: chem });
          break;
        }
      }
    }
  }

  // eFI-style deficits beyond those the condition codes already imply.
  const deficitOnset = new Map<string, number>();
  if (adult) {
    const ageF = deficitAgeFactor(age);
    for (const d of deficits) {
      if (!d.codelist) continue;
      const safe = book.deficitOnlyCodes(d.codelist);
      if (!safe.length) continue;
      const p = sigmoid(logit(d.prevalence65 * ageF) - 0.05 + 0.65 * f);
      if (rng.next() < p) {
        const day = rng.int(Math.max(birthDay + 200, asOf - 12 * YEAR), asOf - 10);
        code(day, rng.pick(safe));
        deficitOnset.set(d.id, day);
      }
    }
  }

  // Repeat prescriptions for everyday conditions drive polypharmacy.
  const drugMean =
    (age < 45 ? 0.25 : age < 65 ? 1.1 : age < 75 ? 2.4 : 3.4) * Math.exp(0.35 * z + 0.1 * active.length);
  const background = book.background;
  const nDrugs = Math.min(background.length, rng.poisson(drugMean));
  const chosen = new Set<string>();
  while (chosen.size < nDrugs) chosen.add(rng.pick(background));
  // Dressings and appliances (BNF chapters 20-23), which polypharmacy does not count.
  if (age >= 65 && rng.chance(0.15)) for (let i = 0; i < 3; i++) chosen.add(rng.pick(book.appliances));
  for (const chem of chosen) {
    const from = Math.max(historyStart, rng.chance(0.8) ? historyStart : rng.int(historyStart, asOf - 30));
    const to = rng.chance(0.85) ? asOf - 1 : rng.int(from, asOf - 1);
    series(chem, from, to, rng.pick([56, 84, 112]));
  }

  // Everyday coded entries that count for nothing.
  const years = (asOf - Math.max(historyStart, birthDay)) / YEAR;
  const nNoise = rng.poisson(years * (1.2 + age / 40));
  for (let i = 0; i < nNoise; i++) {
    const noise = rng.pick(book.unrelated);
    obs.push({
      day: rng.int(Math.max(historyStart, birthDay), asOf - 1),
      code: noise.code,
      value: noise.value(rng),
      unit: noise.unit,
    });
  }

  drawCareContext(new Rng(ctx.seed, n, 0xcc), book, { asOf, birthDay, age }, code);
  // Coded frailty severity, mostly among older people and in line with their deficits.
  const efiBefore = countDeficits(book, obs, meds, asOf, birthDay);
  const efiCat = efiCategory(efiBefore.length / EFI_DEFICIT_COUNT);
  if (adult && ((age >= 65 && rng.chance(0.45)) || (age < 65 && rng.chance(0.004)))) {
    const severity = age < 65 ? 'moderate' : efiCat === 'fit' ? (rng.chance(0.15) ? 'mild' : null) : efiCat;
    if (severity) {
      code(
        rng.int(addMonths(asOf, -CODED_FRAILTY.withinMonths) + 15, asOf - 10),
        rng.pick(book.diagnosisCodes(CODED_FRAILTY.codelists[severity])),
      );
      // An older assessment, outside the window, that must not count.
      if (rng.chance(0.15))
        code(
          rng.int(asOf - 6 * YEAR, addMonths(asOf, -CODED_FRAILTY.withinMonths) - 15),
          rng.pick(book.diagnosisCodes(CODED_FRAILTY.codelists.severe)),
        );
    }
  }

  // Secondary care, year by year, from the risk index at the start of each year.
  const riskAt = (t: number) => {
    const a = ageOn(birthDay, t);
    if (a < 0) return 0;
    let deficitCount = 0;
    for (const [, day] of deficitOnset) if (day <= t) deficitCount++;
    return riskIndex({
      age: a,
      sex,
      imdDecile: lsoa.imd_decile,
      conditions: active.filter((id) => (onset.get(id) ?? 0) <= t),
      deficits: deficitCount,
      personEffect: u,
    });
  };
  const care = drawSecondaryCare(rng, book, {
    asOf,
    birthDay,
    stop: endDay ?? asOf,
    age,
    frailty: f,
    riskAt,
  });
  const activity = care.activity;

  const eligible = isCurrent;
  let truth: PatientTruth | null = null;
  if (eligible) {
    const prevStart = addMonths(asOf, -12);
    const realised = realisedIn(activity, prevStart, asOf);
    truth = {
      age,
      conditions: [...active].sort(),
      efiDeficits: countDeficits(book, obs, meds, asOf, birthDay),
      codedFrailty: latestCodedFrailty(book, obs, asOf),
      hfrs: hfrsOf(book, activity, asOf),
      expectedCostNext: care.nextYear.expectedCost,
      expectedCostPrev: care.previousYear.expectedCost,
      realisedCostPrev: realised.cost,
      pAdmissionNext: care.nextYear.pEmergencyAdmission,
      pAdmissionPrev: care.previousYear.pEmergencyAdmission,
      admittedPrev: realised.emergency,
      ...careContextOf(book, obs, activity, asOf, birthDay),
    };
  }

  // The record stops where the registration with LLR does. A repeated entry (same day,
  // same code) is one entry: the generator's own repeats would otherwise look like resends.
  const keepObs = unique(
    obs.filter((o) => o.day >= birthDay && (endDay === null || o.day <= endDay)),
    (o) => `${o.day}|${o.code}|${o.value}`,
  );
  const keepMeds = unique(
    meds.filter((m) => m.day >= birthDay && (endDay === null || m.day <= endDay)),
    (m) => `${m.day}|${m.bnf}`,
  );
  return {
    number: n,
    pseudoId: pseudoIdOf(ctx.seed, n),
    sex,
    birthDay,
    birthMonth,
    lsoa: lsoa.lsoa_code,
    imd: lsoa.imd_decile,
    registrations,
    deathDay,
    endDay,
    eligible,
    observations: keepObs,
    medications: keepMeds,
    activity,
    truth,
  };
}

function unique<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = key(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
