// The delivery's files as the generator writes them: one buffer of lines per file with its
// mess counted as it goes, the lines of patients and secondary-care activity, the malformed
// lines injected at the stated rates, and the reference files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { stringify } from 'csv-stringify/sync';
import { activityFile, type FileContract } from '../contract.ts';
import { verhoeffCheckDigit } from '../snomed.ts';
import { isoOf } from './calendar.ts';
import type { SynthPatient } from './population.ts';
import { hashUnit, pseudoIdOf, type Rng } from './random.ts';

export interface FileMess {
  path: string;
  practice_code: string | null;
  lines: number;
  malformed: number;
  duplicates: number;
  future_dated: number;
  before_birth: number;
  broken_check_digit: number;
  unknown_patient: number;
  copy_of: string | null;
}

/** Lines of one output file, with its mess counted as it is written. */
export class FileBuffer {
  lines: string[] = [];
  mess: FileMess;
  constructor(
    readonly contract: FileContract,
    path: string,
    practiceCode: string | null,
    readonly gzip: boolean,
  ) {
    this.mess = {
      path: gzip ? `${path}.gz` : path,
      practice_code: practiceCode,
      lines: 0,
      malformed: 0,
      duplicates: 0,
      future_dated: 0,
      before_birth: 0,
      broken_check_digit: 0,
      unknown_patient: 0,
      copy_of: null,
    };
  }
  push(line: string) {
    this.lines.push(line);
  }
  write(root: string) {
    const header = Object.keys(this.contract.columns).join(',');
    this.mess.lines = this.lines.length;
    // In slices: at five times LLR one file's text is longer than a JavaScript string may be.
    const slices = [Buffer.from(header + '\n')];
    for (let i = 0; i < this.lines.length; i += WRITE_SLICE_LINES)
      slices.push(Buffer.from(this.lines.slice(i, i + WRITE_SLICE_LINES).join('\n') + '\n'));
    const bytes = Buffer.concat(slices);
    const path = join(root, this.mess.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, this.gzip ? gzipSync(bytes, { level: 1 }) : bytes);
    this.lines = [];
  }
}

const WRITE_SLICE_LINES = 100_000;

export function patientLine(p: SynthPatient, from: number, to: number | null): string {
  return `${p.pseudoId},${p.sex},${p.birthMonth},${p.lsoa},${isoOf(from)},${to === null ? '' : isoOf(to)},${p.deathDay === null ? '' : isoOf(p.deathDay)}`;
}

const PROVIDERS = ['RWE', 'RWE', 'RWE', 'RWE', 'RX1', 'RNQ', 'RLT'];
const HRG = { APC_NEL: 'WH', APC_EL: 'HN', APC_DC: 'FE', OP: 'WF', AE: 'VB' } as const;

export function activityId(seed: number, k: number) {
  return `A${(hashUnit(seed, k, 0xac7) * 1e10).toFixed(0).padStart(10, '0')}${String(Math.abs(k)).padStart(7, '0')}`;
}

export function activityLine(
  pseudoId: string,
  a: SynthPatient['activity'][number],
  seed: number,
  rng: Rng,
  ids: { next: number; part: number },
): string {
  const k = ids.part * 100_000_000 + ids.next++;
  const id = activityId(seed, k);
  const provider = PROVIDERS[Math.floor(hashUnit(seed, k, 0x9) * PROVIDERS.length)]!;
  const hrg = `${HRG[a.setting]}${String(10 + (k % 80)).padStart(2, '0')}${'ABCDE'[k % 5]}`;
  const [primary, ...secondary] = a.diagnoses;
  // A few spells carry a diagnosis that lost characters on the way; the pipeline drops it.
  if (a.diagnoses.length && rng.chance(0.003)) secondary.push(rng.pick(['R5', '1234', 'I5O0']));
  return [
    id,
    pseudoId,
    a.setting,
    provider,
    isoOf(a.start),
    a.end === null ? '' : isoOf(a.end),
    hrg,
    primary ?? '',
    secondary.join(';'),
    a.cost === null ? '' : a.cost.toFixed(2),
  ].join(',');
}

export function injectMalformed(buffer: FileBuffer, rate: number, rng: Rng, seed: number) {
  const n = Math.max(buffer.lines.length > 0 ? 1 : 0, Math.round(buffer.lines.length * rate));
  const cols = Object.keys(buffer.contract.columns);
  // Templates come from the good lines only, so each malformed line carries exactly one fault.
  const good = buffer.lines.slice();
  for (let k = 0; k < n; k++) {
    const at = rng.int(0, buffer.lines.length);
    const kinds =
      buffer.contract === activityFile
        ? ['extra', 'missing', 'date', 'setting']
        : ['extra', 'missing', 'date'];
    const kind = kinds[k % kinds.length];
    const template = good[rng.int(0, good.length - 1)]!.split(',');
    const stranger = pseudoIdOf(seed ^ 0xbad, rng.int(0, 1e9));
    template[cols.indexOf('pseudo_id')] = stranger;
    let line: string;
    if (kind === 'extra') line = [...template, 'x'].join(',');
    else if (kind === 'missing') line = template.slice(0, -1).join(',');
    else if (kind === 'setting') {
      template[cols.indexOf('setting')] = rng.pick(['APC_XX', 'A&E', 'op']);
      line = template.join(',');
    } else {
      const dateCol = cols.findIndex((c) => buffer.contract.columns[c]!.sqlType === 'DATE');
      template[dateCol] = rng.pick(['2023-02-30', '31/12/2023', '2024-13-01', '20230115']);
      line = template.join(',');
    }
    buffer.lines.splice(at, 0, line);
    buffer.mess.malformed++;
  }
}

export function writeReference(root: string, contract: FileContract, rows: string[][]) {
  const path = join(root, contract.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify([Object.keys(contract.columns), ...rows]));
}

/** Placeholder dm+d-shaped ids (valid check digit), one per BNF chemical: not real dm+d codes. */
export function dmdCodes() {
  const memo = new Map<string, string>();
  return (bnf: string) => {
    let code = memo.get(bnf);
    if (!code) {
      const body = `3${String(Math.floor(hashUnit(0xd3d, ...[...bnf].map((c) => c.charCodeAt(0))) * 1e8)).padStart(8, '0')}1000001`;
      code = body + verhoeffCheckDigit(body);
      memo.set(bnf, code);
    }
    return code;
  };
}
