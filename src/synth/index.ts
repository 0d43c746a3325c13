// `strata synth`: a synthetic LLR delivery at any scale, with the ground truth beside it.
//
// Stated mess (rates per data line of the file kind; every malformed line is an extra
// line, so the ground truth is unaffected by what the loader rejects):
//   malformed lines (wrong field count, impossible date, unknown setting): 0.1% of
//   observations and medications, 0.2% of patients and secondary-care activity;
//   exact duplicate lines: 0.3% of observations, medications and activity;
//   one secondary-care file sent twice under another name; observations dated before
//   birth: 0.05%; activity for patients no practice knows: 0.1%; gzip on a quarter of
//   practices' observation and medication files and on one activity file.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import {
  activityFile,
  csvFiles,
  lsoaFile,
  medicationsFile,
  observationsFile,
  patientsFile,
  practicesFile,
  SCHEMA_VERSION,
} from '../contract.ts';
import { efiCategory, EFI_DEFICIT_COUNT } from '../../pipeline/frailty.ts';
import { ConfigError } from '../errors.ts';
import { noProgress, type Progress } from '../progress.ts';
import { dayOf, isoOf } from './calendar.ts';
import { buildCodebook } from './codebook.ts';
import {
  ageWeights,
  buildGeography,
  LLR_PATIENTS,
  PLACE_PROFILES,
  selectPractices,
  type Practice,
} from './geography.ts';
import {
  generatePatient,
  previousPracticeOf,
  type PopulationContext,
  type SynthPatient,
} from './population.ts';
import { hashUnit, pseudoIdOf, Rng } from './random.ts';
import { verhoeffValid } from '../snomed.ts';
import {
  activityId,
  activityLine,
  dmdCodes,
  FileBuffer,
  injectMalformed,
  patientLine,
  writeReference,
  type FileMess,
} from './delivery-files.ts';
import { runParts, type PartResult } from './parts.ts';
import { cutPatient, type Cut } from './cut.ts';
import { GROUND_TRUTH_COLUMNS } from './truth.ts';

export type { FileMess } from './delivery-files.ts';

/**
 * Raised whenever the same seed and scale would generate a different delivery, so a cached
 * delivery (the benchmark keeps one per scale) is never mistaken for a current one.
 */
export const GENERATOR_VERSION = 6;

export const MESS = {
  malformed: { patients: 0.002, observations: 0.001, medications: 0.001, activity: 0.002 },
  duplicate: 0.003,
  beforeBirth: 0.0005,
  unknownPatient: 0.001,
  gzipShare: 0.25,
  secondaryCareParts: 8,
} as const;

export interface SynthOptions {
  scale: number;
  seed: number;
  out: string;
  asOf: string;
  /** The world is generated as of this date, the delivery cut at the (earlier or equal) as-of
   * date (src/synth/cut.ts): one seed, scale and world date at two as-of dates, one population. */
  worldDate?: string;
  /** Keep only this many practices (spread over the three places), for small samples. */
  practices?: number;
  progress?: Progress;
}

export interface SynthSummary {
  patients: number;
  eligible: number;
  practices: number;
  files: FileMess[];
}

interface Plan {
  /** The world date: every life is drawn as of it. */
  asOf: number;
  /** Null when the delivery is as of the world date. */
  cut: Cut | null;
  practices: Practice[];
  lsoas: ReturnType<typeof buildGeography>['lsoas'];
  ctx: PopulationContext;
  rosters: { current: number; start: number; gone: number }[];
  moversOut: { n: number; home: number }[][];
  /** Practice index ranges [from, to) that share one secondary-care file. */
  parts: [number, number][];
  total: number;
}

function validate(opts: SynthOptions) {
  if (!(opts.scale >= 0.0001 && opts.scale <= 5))
    throw new ConfigError('--scale must be between 0.0001 and 5');
  if (!Number.isInteger(opts.seed)) throw new ConfigError('--seed must be a whole number');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.asOf) || Number.isNaN(dayOf(opts.asOf)))
    throw new ConfigError('--as-of must be a date, YYYY-MM-DD');
  if (opts.worldDate !== undefined) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.worldDate) || Number.isNaN(dayOf(opts.worldDate)))
      throw new ConfigError('--world-date must be a date, YYYY-MM-DD');
    if (opts.worldDate < opts.asOf) throw new ConfigError('--world-date must not be before --as-of');
  }
}

/** Everything about a delivery that is decided before any patient is drawn. */
function plan(opts: SynthOptions): Plan {
  const asOf = dayOf(opts.worldDate ?? opts.asOf);
  const geography = buildGeography();
  const practices = selectPractices(geography.practices, opts.practices ?? geography.practices.length);
  const ctx: PopulationContext = {
    seed: opts.seed,
    asOf,
    codebook: buildCodebook(),
    practices,
    ageWeights: new Map(PLACE_PROFILES.map((p) => [p.place, ageWeights(p.over65)])),
  };
  // Patient numbers [start, start + current) are registered today at practice i; the
  // `gone` after them died or left LLR during the history.
  const rosters = practices.map((p) => ({
    current: Math.max(1, Math.round(p.listSize * opts.scale)),
    start: 0,
    gone: 0,
  }));
  let next = 0;
  for (const r of rosters) {
    r.start = next;
    r.gone = Math.round(r.current * 0.1);
    next += r.current + r.gone;
  }
  // Movers are listed under the practice they left, so it can write its part of their record.
  const moversOut: { n: number; home: number }[][] = practices.map(() => []);
  rosters.forEach((r, home) => {
    for (let n = r.start; n < r.start + r.current; n++) {
      const prev = previousPracticeOf(ctx, n, home, true);
      if (prev !== null) moversOut[prev]!.push({ n, home });
    }
  });
  const partSize = Math.ceil(practices.length / MESS.secondaryCareParts);
  const parts: [number, number][] = [];
  for (let i = 0; i < practices.length; i += partSize)
    parts.push([i, Math.min(practices.length, i + partSize)]);
  const cutDay = dayOf(opts.asOf);
  const cut = cutDay < asOf ? { asOf: cutDay, book: ctx.codebook } : null;
  return { asOf, cut, practices, lsoas: geography.lsoas, ctx, rosters, moversOut, parts, total: next };
}

/**
 * Writes the practices of one part and their secondary-care file. Parts are independent
 * (every random draw is keyed by seed, patient and practice), so they can run in parallel
 * and still give the same bytes.
 */
export function generatePart(
  opts: SynthOptions,
  partNo: number,
  onPractice: () => void = () => {},
): PartResult {
  const { practices, ctx, rosters, moversOut, parts, cut } = plan(opts);
  const asOf = dayOf(opts.asOf);
  const seen = (p: SynthPatient) => (cut ? cutPatient(p, cut) : p);
  const [from, to] = parts[partNo]!;
  const isLast = partNo === parts.length - 1;
  const files: FileMess[] = [];
  const truthLines: string[] = [];
  let eligible = 0;
  const dmdOf = dmdCodes();
  const activity = new FileBuffer(
    activityFile,
    `secondary-care/acute-activity-part${partNo + 1}.csv`,
    null,
    partNo === 1,
  );
  const ids = { next: 0, part: partNo };

  for (let i = from; i < to; i++) {
    const practice = practices[i]!;
    const roster = rosters[i]!;
    const mess = new Rng(opts.seed, 0x3e55, i);
    const gz = hashUnit(opts.seed, i, 0x92) < MESS.gzipShare;
    const base = `practices/${practice.practice_code}`;
    const patients = new FileBuffer(patientsFile, `${base}/patients.csv`, practice.practice_code, false);
    const observations = new FileBuffer(
      observationsFile,
      `${base}/observations.csv`,
      practice.practice_code,
      gz,
    );
    const medications = new FileBuffer(
      medicationsFile,
      `${base}/medications.csv`,
      practice.practice_code,
      gz,
    );

    const writeRecord = (p: SynthPatient, fromDay: number, toDay: number) => {
      for (const o of p.observations) {
        if (o.day < fromDay || o.day >= toDay) continue;
        const line = `${p.pseudoId},${isoOf(o.day)},${o.code},${o.value},${o.unit}`;
        observations.push(line);
        // Each line carries at most one fault, so every count below is exact.
        if (o.day > asOf) observations.mess.future_dated++;
        else if (!verhoeffValid(o.code)) observations.mess.broken_check_digit++;
        else if (mess.chance(MESS.duplicate)) {
          observations.push(line);
          observations.mess.duplicates++;
        } else if (mess.chance(MESS.beforeBirth)) {
          observations.push(`${p.pseudoId},${isoOf(p.birthDay - mess.int(30, 3000))},${o.code},,`);
          observations.mess.before_birth++;
        }
      }
      for (const m of p.medications) {
        if (m.day < fromDay || m.day >= toDay) continue;
        const line = `${p.pseudoId},${isoOf(m.day)},${dmdOf(m.bnf)},${m.bnf}AAAAAA,${28 * (1 + (m.day % 3))}`;
        medications.push(line);
        if (mess.chance(MESS.duplicate)) {
          medications.push(line);
          medications.mess.duplicates++;
        }
      }
    };

    const writeActivity = (p: SynthPatient) => {
      for (const a of p.activity) {
        const line = activityLine(p.pseudoId, a, opts.seed, mess, ids);
        activity.push(line);
        if (mess.chance(MESS.duplicate)) {
          activity.push(line);
          activity.mess.duplicates++;
        }
      }
    };

    for (let n = roster.start; n < roster.start + roster.current + roster.gone; n++) {
      const isCurrent = n < roster.start + roster.current;
      const p = seen(generatePatient(ctx, n, i, isCurrent));
      // Not yet registered on the as-of date, or not yet moved here (the earlier practice writes them).
      if (!p || p.registrations[p.registrations.length - 1]!.practice !== i) continue;
      const own = p.registrations[p.registrations.length - 1]!;
      patients.push(patientLine(p, own.from, own.to));
      writeRecord(p, p.registrations.length > 1 ? own.from : -Infinity, Infinity);
      writeActivity(p);
      if (p.eligible) eligible++;
      truthLines.push(truthLine(p, practice, p.registrations.length > 1));
    }
    for (const { n, home } of moversOut[i]!) {
      const life = generatePatient(ctx, n, home, true);
      // The hash picks candidates; the patient's own life (too young to have moved) decides.
      if (life.registrations.length < 2) continue;
      const p = seen(life);
      if (!p) continue;
      const earlier = p.registrations[0]!;
      patients.push(patientLine(p, earlier.from, earlier.to));
      if (p.registrations.length > 1) {
        writeRecord(p, -Infinity, earlier.to!);
        continue;
      }
      // On the as-of date they had not moved yet: their whole record is this practice's.
      writeRecord(p, -Infinity, Infinity);
      writeActivity(p);
      if (p.eligible) eligible++;
      truthLines.push(truthLine(p, practice, false));
    }

    injectMalformed(patients, MESS.malformed.patients, mess, opts.seed);
    injectMalformed(observations, MESS.malformed.observations, mess, opts.seed);
    injectMalformed(medications, MESS.malformed.medications, mess, opts.seed);
    for (const b of [patients, observations, medications]) {
      b.write(opts.out);
      files.push(b.mess);
    }
    onPractice();
  }

  const mess = new Rng(opts.seed, 0x3e56, partNo);
  if (isLast) {
    // Activity for people no practice has registered (for example, out-of-area visitors).
    const strangers = Math.max(1, Math.round(activity.lines.length * MESS.unknownPatient * parts.length));
    for (let k = 0; k < strangers; k++) {
      const start = asOf - mess.int(1, 3 * 365);
      activity.push(
        `${activityId(opts.seed, -1 - k)},${pseudoIdOf(opts.seed ^ 0x5eed, k)},AE,RWE,${isoOf(start)},,,,,150.00`,
      );
      activity.mess.unknown_patient++;
    }
  }
  injectMalformed(activity, MESS.malformed.activity, mess, opts.seed);
  activity.write(opts.out);
  files.push(activity.mess);
  return { files, truthGz: gzipSync(truthLines.join('\n') + '\n', { level: 4 }), eligible };
}

export async function synthesise(opts: SynthOptions): Promise<SynthSummary> {
  validate(opts);
  const progress = opts.progress ?? noProgress;
  const p = plan(opts);
  rmSync(opts.out, { recursive: true, force: true });
  mkdirSync(opts.out, { recursive: true });

  progress.start('Generating practices', p.practices.length);
  const workers = p.total > 60_000 ? Math.min(availableParallelism(), p.parts.length) : 1;
  const results = await runParts(opts, p.parts.length, progress, workers, (k, tick) =>
    generatePart(opts, k, tick),
  );
  progress.stop();
  const files = results.flatMap((r) => r.files);

  // A provider resent its first file under a new name.
  const first = files.find((f) => f.path.startsWith('secondary-care/'))!;
  const resentPath = first.path.replace('.csv', '-resent.csv');
  writeFileSync(join(opts.out, resentPath), readBack(opts.out, first.path));
  files.push({ ...first, path: resentPath, copy_of: first.path });

  writeReference(
    opts.out,
    practicesFile,
    p.practices.map((x) => [x.practice_code, x.practice_name, x.pcn_code, x.pcn_name, x.place]),
  );
  writeReference(
    opts.out,
    lsoaFile,
    p.lsoas.map((l) => [l.lsoa_code, String(l.imd_decile), l.place]),
  );
  writeFileSync(
    join(opts.out, 'delivery.json'),
    JSON.stringify(
      {
        extract_date: opts.asOf,
        source_system: 'strata synthetic LLR',
        schema_version: SCHEMA_VERSION,
        description: `Synthetic delivery: scale ${opts.scale}, seed ${opts.seed}${p.cut ? `, world as of ${opts.worldDate}` : ''}`,
      },
      null,
      2,
    ) + '\n',
  );
  mkdirSync(join(opts.out, 'ground-truth'), { recursive: true });
  // Concatenated gzip members are one valid gzip file.
  const header = gzipSync(stringify([GROUND_TRUTH_COLUMNS]), { level: 4 });
  writeFileSync(
    join(opts.out, 'ground-truth', 'patients.csv.gz'),
    Buffer.concat([header, ...results.map((r) => r.truthGz)]),
  );
  const eligible = results.reduce((s, r) => s + r.eligible, 0);
  const summary: SynthSummary = { patients: p.total, eligible, practices: p.practices.length, files };
  writeFileSync(
    join(opts.out, 'ground-truth', 'mess.json'),
    JSON.stringify(
      {
        scale: opts.scale,
        seed: opts.seed,
        as_of: opts.asOf,
        ...(p.cut ? { world_date: opts.worldDate } : {}),
        rates: MESS,
        ...summary,
      },
      null,
      2,
    ) + '\n',
  );
  return summary;
}

function readBack(root: string, path: string) {
  return readFileSync(join(root, path));
}

function truthLine(p: SynthPatient, practice: Practice, mover: boolean): string {
  const t = p.truth;
  const efiScore = t ? t.efiDeficits.length / EFI_DEFICIT_COUNT : null;
  const row = [
    p.pseudoId,
    practice.practice_code,
    practice.pcn_code,
    practice.place,
    p.sex,
    p.birthMonth,
    t ? t.age : '',
    p.imd,
    p.eligible,
    t ? t.conditions.join(';') : '',
    t ? t.conditions.length : '',
    efiScore === null ? '' : efiScore.toFixed(4),
    efiScore === null ? '' : efiCategory(efiScore),
    t ? t.efiDeficits.join(';') : '',
    t ? t.codedFrailty : '',
    t ? t.hfrs : '',
    t ? fixed(t.expectedCostNext, 2) : '',
    t ? fixed(t.expectedCostPrev, 2) : '',
    t ? fixed(t.realisedCostPrev, 2) : '',
    t ? fixed(t.pAdmissionNext, 5) : '',
    t ? fixed(t.pAdmissionPrev, 5) : '',
    t ? t.admittedPrev : '',
    mover,
    t ? t.careContexts.join(';') : '',
    t ? t.recentlyDischarged : '',
  ];
  // Every cell is a number, a boolean, a code or a place name: none holds a comma or a
  // quote, so a plain join is correct CSV (and much cheaper than a general writer per row).
  return row.join(',');
}

/** Empty for a figure a cut delivery cannot know (see src/synth/cut.ts). */
const fixed = (x: number, digits: number) => (Number.isNaN(x) ? '' : x.toFixed(digits));

export { csvFiles, LLR_PATIENTS };
