// A synthetic LLR: 136 practices in 25 PCNs across three places, with the list sizes,
// age profiles and deprivation of the domain facts (section 1). Codes look like ODS and
// ONS codes but every practice, PCN and LSOA here is made up.
import type { Place } from '../contract.ts';
import { Rng } from './random.ts';

export const LLR_PATIENTS = 1_133_842;

interface PlaceProfile {
  place: Place;
  short: string;
  patients: number;
  practices: number;
  pcns: number;
  lsoas: number;
  /** Share of patients aged 65+. */
  over65: number;
  /** Share of LSOAs in each IMD decile (1 = most deprived). */
  imdWeights: number[];
  areas: string[];
}

export const PLACE_PROFILES: PlaceProfile[] = [
  {
    place: 'Leicester City',
    short: 'City',
    patients: 415_213,
    practices: 58,
    pcns: 10,
    lsoas: 192,
    over65: 0.12,
    // About 44% of residents in the most deprived national quintile.
    imdWeights: [0.26, 0.18, 0.14, 0.11, 0.09, 0.07, 0.06, 0.04, 0.03, 0.02],
    areas: [
      'Belgrave',
      'Highfields',
      'Aylestone',
      'Beaumont Leys',
      'Evington',
      'Braunstone',
      'Humberstone',
      'Westcotes',
      'Saffron',
      'Knighton',
    ],
  },
  {
    place: 'Leicestershire County',
    short: 'County',
    patients: 678_629,
    practices: 74,
    pcns: 15,
    lsoas: 396,
    over65: 0.21,
    imdWeights: [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.13, 0.14, 0.15, 0.16],
    areas: [
      'Loughborough',
      'Hinckley',
      'Coalville',
      'Melton',
      'Market Harborough',
      'Lutterworth',
      'Oadby',
      'Wigston',
      'Blaby',
      'Syston',
      'Ashby',
      'Shepshed',
      'Birstall',
      'Enderby',
      'Bosworth',
      'Castle Donington',
    ],
  },
  {
    place: 'Rutland',
    short: 'Rutland',
    patients: 40_000,
    practices: 4,
    pcns: 1,
    lsoas: 23,
    over65: 0.24,
    imdWeights: [0, 0, 0.01, 0.03, 0.06, 0.1, 0.15, 0.2, 0.22, 0.23],
    areas: ['Rutland'],
  },
];

export interface Practice {
  practice_code: string;
  practice_name: string;
  pcn_code: string;
  pcn_name: string;
  place: Place;
  /** Patients registered on the as-of date at scale 1. */
  listSize: number;
  lsoas: Lsoa[];
}

export interface Lsoa {
  lsoa_code: string;
  imd_decile: number;
  place: Place;
}

const SUFFIXES = ['Medical Centre', 'Surgery', 'Health Centre', 'Medical Practice', 'Family Practice'];
const NAMED = [
  "St Peter's",
  "St Mary's",
  'The Old School',
  'Church Street',
  'Victoria Road',
  'Park View',
  'Oak Tree',
  'Willow Brook',
  'Station Road',
  'High Street',
];

export interface Geography {
  practices: Practice[];
  lsoas: Lsoa[];
}

/** The same geography for every seed and scale: it is the system, not the sample. */
export function buildGeography(): Geography {
  const rng = new Rng(1136, 25);
  const practices: Practice[] = [];
  const lsoas: Lsoa[] = [];
  let practiceNo = 1;
  let pcnNo = 1;
  let lsoaNo = 13_001;
  for (const profile of PLACE_PROFILES) {
    const placeLsoas: Lsoa[] = [];
    for (let i = 0; i < profile.lsoas; i++) {
      const decile = pickWeighted(rng, profile.imdWeights) + 1;
      placeLsoas.push({
        lsoa_code: `E01${String(lsoaNo++).padStart(6, '0')}`,
        imd_decile: decile,
        place: profile.place,
      });
    }
    // Sort by deprivation so that a practice drawing a run of neighbours has a character.
    placeLsoas.sort((a, b) => a.imd_decile - b.imd_decile || a.lsoa_code.localeCompare(b.lsoa_code));
    lsoas.push(...placeLsoas);

    const pcnShares =
      profile.pcns === 1
        ? [1]
        : normalise(Array.from({ length: profile.pcns }, () => 0.9 + 0.2 * rng.next()));
    const practicesPerPcn = spread(profile.practices, profile.pcns);
    let placeRemaining = profile.patients;
    for (let k = 0; k < profile.pcns; k++) {
      const pcnCode = `U${String(60_000 + pcnNo).padStart(5, '0')}`;
      const area = profile.areas[k % profile.areas.length]!;
      const pcnName = profile.pcns === 1 ? `${area} PCN` : `${profile.short} ${area} PCN`;
      pcnNo++;
      const pcnPatients =
        k === profile.pcns - 1 ? placeRemaining : Math.round(profile.patients * pcnShares[k]!);
      placeRemaining -= pcnPatients;
      const n = practicesPerPcn[k]!;
      const shares = normalise(Array.from({ length: n }, () => Math.exp(0.6 * rng.normal())));
      let pcnRemaining = pcnPatients;
      for (let j = 0; j < n; j++) {
        const size = j === n - 1 ? pcnRemaining : Math.round(pcnPatients * shares[j]!);
        pcnRemaining -= size;
        const code = `C82${String(practiceNo).padStart(3, '0')}`;
        const name =
          practiceNo % 7 === 3
            ? `${area}, ${rng.pick(NAMED)} ${rng.pick(SUFFIXES)}`
            : `${rng.pick(NAMED)} ${rng.pick(SUFFIXES)} (${area})`;
        practiceNo++;
        const start = Math.floor(rng.next() * Math.max(1, placeLsoas.length - 12));
        practices.push({
          practice_code: code,
          practice_name: name,
          pcn_code: pcnCode,
          pcn_name: pcnName,
          place: profile.place,
          listSize: size,
          lsoas: placeLsoas.slice(start, start + 12),
        });
      }
    }
  }
  return { practices, lsoas };
}

/**
 * A subset of practices spanning all three places (for small samples): practices are
 * taken round-robin across places, each place's first PCN first.
 */
export function selectPractices(all: Practice[], count: number): Practice[] {
  if (count >= all.length) return all;
  const byPlace = PLACE_PROFILES.map((p) => all.filter((x) => x.place === p.place));
  const chosen: Practice[] = [];
  for (let i = 0; chosen.length < count; i++) {
    const list = byPlace[i % byPlace.length]!;
    const next = list.shift();
    if (next) chosen.push(next);
  }
  return chosen.sort((a, b) => a.practice_code.localeCompare(b.practice_code));
}

function pickWeighted(rng: Rng, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rng.next() * total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i]!;
    if (r < 0) return i;
  }
  return weights.length - 1;
}

function normalise(xs: number[]): number[] {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => x / total);
}

function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/** Single-year age weights (0..100) for a place, tilted to its share of 65+. */
export function ageWeights(over65: number): number[] {
  const base = Array.from({ length: 101 }, (_, a) => {
    if (a < 18) return 1.15;
    if (a < 40) return 1.35;
    if (a < 65) return 1.25;
    if (a < 85) return 1.25 * Math.exp(-(a - 65) / 14);
    return 0.32 * Math.exp(-(a - 85) / 5);
  });
  const old = base.slice(65).reduce((a, b) => a + b, 0);
  const young = base.slice(0, 65).reduce((a, b) => a + b, 0);
  const m = (over65 * young) / ((1 - over65) * old);
  return base.map((w, a) => (a >= 65 ? w * m : w));
}

export { pickWeighted };
