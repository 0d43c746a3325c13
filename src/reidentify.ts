// `strata reidentify`: run at the practice, by the practice, to turn the pseudonyms of its
// own risk list back into its own patients. The practice supplies its lookup (pseudonym to
// its local identifier, normally the NHS number); the join is made here in memory, never in
// a database, and the result is written only to a folder the practice names outside strata's
// output folder. Nothing identifying enters strata: no identifier is logged or printed (only
// counts), and the lookup itself is refused if it sits inside the output folder.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CliError, EXIT } from './errors.ts';
import { DIR_MODE, FILE_MODE, fsyncPath } from './files.ts';

export interface ReidentifyOptions {
  /** A practice's risk-list.csv or left-since-last-run.csv, or the practice folder (its risk list). */
  list: string;
  /** The practice's lookup: a CSV with pseudo_id and the identifier column. */
  lookup: string;
  idColumn: string;
  /** The folder to write to; never inside strata's output folder. */
  to: string;
  /** strata's output folder, refused as a destination whatever the list's path says. */
  outDir: string;
  name: string;
  cohorts?: string[];
  tiers?: string[];
  onlyNew?: boolean;
}

export interface ReidentifySummary {
  selected: number;
  written: number;
  /** Selected pseudonyms the lookup does not hold. */
  missingFromLookup: number;
  /** Identifiers left out as malformed: not a valid NHS number (for nhs_number), or not a plain code. */
  invalidIdentifiers: number;
  files: string[];
}

/** A clinical system's own patient number: nothing a spreadsheet or importer could misread. */
const LOCAL_ID = /^[A-Za-z0-9-]{1,40}$/;

const COHORT_COLUMNS: Record<string, string> = {
  multimorbidity: 'multimorbidity_5plus',
  frailty: 'frailty',
  high_cost: 'high_cost_3x',
};

/** An NHS number: 10 digits, the last a modulus 11 check digit (NHS Data Dictionary). */
export function validNhsNumber(value: string): boolean {
  if (!/^\d{10}$/.test(value)) return false;
  const sum = [...value.slice(0, 9)].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(value[9]);
}

/** The real path of `path`, or of its nearest existing parent with the rest appended. */
function realOrPlanned(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realOrPlanned(parent), basename(abs));
}

const inside = (child: string, parent: string) => {
  const rel = relative(parent, child);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`));
};

/** strata's output folders that apply: the one named, and the one the list was published in. */
function outputFolders(opts: ReidentifyOptions, listFile: string): string[] {
  const folders = [realOrPlanned(opts.outDir)];
  const m = /^(.*)\/runs\/[^/]+\/practices\/[^/]+\/[^/]+$/.exec(realpathSync(listFile));
  if (m) folders.push(m[1]!);
  return folders;
}

function readCsv(path: string, what: string): Record<string, string>[] {
  try {
    return parse(readFileSync(path), { columns: true, skip_empty_lines: true, bom: true, trim: true });
  } catch (err) {
    // The parser's message can quote a field: only the line number is passed on.
    const line = (err as { lines?: number }).lines;
    throw new CliError(`the ${what} could not be read as CSV${line ? ` (line ${line})` : ''}`, EXIT.badInput);
  }
}

/** Written to a temporary name, flushed, renamed into place, readable by its owner only. */
function writeQuietly(path: string, text: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: FILE_MODE });
  fsyncPath(tmp);
  renameSync(tmp, path);
}

const csvField = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function reidentify(opts: ReidentifyOptions): ReidentifySummary {
  const listFile =
    existsSync(opts.list) && statSync(opts.list).isDirectory() ? join(opts.list, 'risk-list.csv') : opts.list;
  if (!existsSync(listFile)) throw new CliError(`no practice list at ${listFile}`, EXIT.badInput);
  if (!existsSync(opts.lookup)) throw new CliError(`no lookup file at ${opts.lookup}`, EXIT.badInput);
  const outs = outputFolders(opts, listFile);
  const target = realOrPlanned(opts.to);
  if (outs.some((o) => inside(target, o)))
    throw new CliError(
      `refusing to write re-identified patients to ${opts.to}: it is inside strata's output folder, which must hold pseudonyms only; name a folder of the practice's own`,
      EXIT.badInput,
    );
  if (outs.some((o) => inside(realpathSync(opts.lookup), o)))
    throw new CliError(
      `the lookup file ${opts.lookup} is inside strata's output folder: keep it with the practice's own records and out of strata's folders`,
      EXIT.badInput,
    );
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/.test(opts.name))
    throw new CliError('--name must be letters, digits, dots, dashes or underscores', EXIT.badInput);

  const list = readCsv(listFile, 'practice list');
  const lookupRows = readCsv(opts.lookup, 'lookup file');
  const columns = Object.keys(lookupRows[0] ?? {});
  for (const c of ['pseudo_id', opts.idColumn])
    if (lookupRows.length && !columns.includes(c))
      throw new CliError(`the lookup file has no ${c} column (it has: ${columns.join(', ')})`, EXIT.badInput);
  const lookup = new Map<string, string>();
  let conflicting = 0;
  for (const r of lookupRows) {
    const id = (r[opts.idColumn] ?? '').replace(/\s+/g, '');
    const known = lookup.get(r.pseudo_id!);
    if (known !== undefined && known !== id) conflicting++;
    lookup.set(r.pseudo_id!, id);
  }
  if (conflicting)
    throw new CliError(
      `the lookup file gives ${conflicting} pseudonym(s) more than one identifier; nothing written`,
      EXIT.badInput,
    );

  const listColumns = Object.keys(list[0] ?? {});
  const need = (column: string, option: string) => {
    if (list.length && !listColumns.includes(column))
      throw new CliError(`${option} needs a ${column} column, which this list does not have`, EXIT.badInput);
  };
  for (const c of opts.cohorts ?? []) {
    if (!COHORT_COLUMNS[c])
      throw new CliError(
        `--cohort ${c} is not one of ${Object.keys(COHORT_COLUMNS).join(', ')}`,
        EXIT.badInput,
      );
    need(COHORT_COLUMNS[c]!, '--cohort');
  }
  if (opts.tiers?.length) need('tier', '--tier');
  if (opts.onlyNew) need('new_since_last_run', '--new');
  const tiers = new Set((opts.tiers ?? []).map((t) => t.replace(/_/g, ' ')));
  const selected = list.filter(
    (r) =>
      (!opts.cohorts?.length || opts.cohorts.some((c) => r[COHORT_COLUMNS[c]!] === 'true')) &&
      (!tiers.size || tiers.has(r.tier ?? '')) &&
      (!opts.onlyNew || Boolean(r.new_since_last_run)),
  );

  const checkNhs = opts.idColumn === 'nhs_number';
  let missing = 0;
  let invalid = 0;
  const ids: string[] = [];
  const worklist: string[] = [[opts.idColumn, ...listColumns.filter((c) => c !== 'pseudo_id')].join(',')];
  for (const r of selected) {
    const id = lookup.get(r.pseudo_id ?? '');
    if (!id) {
      missing++;
      continue;
    }
    if (checkNhs ? !validNhsNumber(id) : !LOCAL_ID.test(id)) {
      invalid++;
      continue;
    }
    ids.push(id);
    worklist.push(
      [id, ...listColumns.filter((c) => c !== 'pseudo_id').map((c) => csvField(r[c] ?? ''))].join(','),
    );
  }

  // The practice's folder is its own: made if missing, its permissions otherwise left alone.
  mkdirSync(opts.to, { recursive: true, mode: DIR_MODE });
  const importFile = join(opts.to, `${opts.name}-import.csv`);
  const worklistFile = join(opts.to, `${opts.name}-worklist.csv`);
  // One identifier a line, no header, Windows line ends: the list clinical systems take in.
  writeQuietly(importFile, ids.map((id) => `${id}\r\n`).join(''));
  writeQuietly(worklistFile, worklist.join('\r\n') + '\r\n');
  return {
    selected: selected.length,
    written: ids.length,
    missingFromLookup: missing,
    invalidIdentifiers: invalid,
    files: [importFile, worklistFile],
  };
}
