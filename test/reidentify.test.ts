// `strata reidentify` at the practice: its risk list joined with its own lookup of pseudonyms
// to NHS numbers, written only to a folder of its own. The lookup is made here from the
// published list, so the expected files follow from it independently of the command.
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/errors.ts';
import { validNhsNumber } from '../src/reidentify.ts';
import { listFiles, readLatest, runArgsFor, runCli, smallDelivery } from './support/cli.ts';

let tmp: string;
let out: string;
let practiceDir: string;
let list: Record<string, string>[];
let lookup: Map<string, string>;
let lookupFile: string;
/** Pseudonyms left out of the lookup on purpose. */
const MISSING = 3;

/** The n-th valid NHS number from a base, by the modulus 11 rule worked out here. */
function nhsNumbers(count: number): string[] {
  const found: string[] = [];
  for (let base = 400_000_000; found.length < count; base += 7) {
    const digits = String(base).padStart(9, '0');
    const sum = [...digits].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) found.push(`${digits}${check}`);
  }
  return found;
}

/** Every file under OUT (links and folders aside) with its hash. */
const outState = () =>
  Object.fromEntries(
    listFiles(out)
      .filter((f) => lstatSync(join(out, f)).isFile())
      .map((f) => [
        f,
        createHash('sha256')
          .update(readFileSync(join(out, f)))
          .digest('hex'),
      ]),
  );

const reidentify = (...args: string[]) =>
  runCli(['reidentify', '--list', practiceDir, '--lookup', lookupFile, '--out', out, ...args]);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-reidentify-'));
  const delivery = await smallDelivery(join(tmp, 'delivery'));
  out = join(tmp, 'out');
  const r = await runCli(runArgsFor(delivery, out));
  expect([0, 2], r.stderr).toContain(r.code);
  const runDir = join(out, 'runs', readLatest(out)!.runId);
  // The practice with the most patients in a cohort, so that selecting by cohort selects someone.
  const inCohorts = (p: string) =>
    (
      parse(readFileSync(join(runDir, 'practices', p, 'risk-list.csv')), { columns: true }) as Record<
        string,
        string
      >[]
    ).filter((r) => r.frailty === 'true' || r.multimorbidity_5plus === 'true').length;
  const practice = readdirSync(join(runDir, 'practices'))
    .sort()
    .reduce((a, b) => (inCohorts(b) > inCohorts(a) ? b : a));
  // Through OUT/latest, as a practice would find it.
  practiceDir = join(out, 'latest', 'practices', practice);
  list = parse(readFileSync(join(practiceDir, 'risk-list.csv')), { columns: true });
  const numbers = nhsNumbers(list.length);
  lookup = new Map(list.slice(MISSING).map((r, i) => [r.pseudo_id!, numbers[i]!]));
  // The practice's own records, outside strata's folders; one patient strata never listed.
  mkdirSync(join(tmp, 'practice'));
  lookupFile = join(tmp, 'practice', 'lookup.csv');
  writeFileSync(
    lookupFile,
    ['pseudo_id,nhs_number', ...[...lookup].map(([p, n]) => `${p},${n}`), 'ffffffffffffffff,9434765919'].join(
      '\n',
    ),
  );
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('strata reidentify', () => {
  it('checks NHS numbers by their modulus 11 check digit', () => {
    expect(validNhsNumber('9434765919')).toBe(true);
    expect(validNhsNumber('9434765918')).toBe(false);
    expect(validNhsNumber('943476591')).toBe(false);
    expect(nhsNumbers(50).every(validNhsNumber)).toBe(true);
  });

  it("joins the practice's list with its lookup, in list order, and counts who is missing", async () => {
    const before = outState();
    const to = join(tmp, 'practice', 'all');
    const r = await reidentify('--to', to);
    expect(r.code, r.stderr).toBe(EXIT.quarantined);
    const want = list.filter((row) => lookup.has(row.pseudo_id!));
    expect(readFileSync(join(to, 'risk-list-import.csv'), 'utf8')).toBe(
      want.map((row) => `${lookup.get(row.pseudo_id!)}\r\n`).join(''),
    );
    const worklist: Record<string, string>[] = parse(readFileSync(join(to, 'risk-list-worklist.csv')), {
      columns: true,
    });
    expect(worklist).toEqual(
      want.map(({ pseudo_id, ...rest }) => ({ nhs_number: lookup.get(pseudo_id!)!, ...rest })),
    );
    expect(r.stdout).toContain(`${want.length} of ${list.length} selected patients written`);
    expect(r.stdout).toContain(`${MISSING} not in the lookup`);
    // Counts only: no pseudonym or NHS number reaches the terminal.
    for (const [p, n] of lookup) {
      expect(r.stdout + r.stderr).not.toContain(p);
      expect(r.stdout + r.stderr).not.toContain(n);
    }
    // Nothing identifying enters strata's output folder: it is exactly as it was.
    expect(outState()).toEqual(before);
    const everything = Object.keys(outState())
      .map((f) => readFileSync(join(out, f)).toString('latin1'))
      .join('\n');
    expect([...lookup.values()].filter((n) => everything.includes(n))).toEqual([]);
  });

  it('selects by cohort, tier and change', async () => {
    const to = join(tmp, 'practice', 'some');
    const r = await reidentify('--to', to, '--name', 'frail', '--cohort', 'frailty', 'multimorbidity');
    expect([0, 2], r.stderr).toContain(r.code);
    const want = list.filter(
      (row) => (row.frailty === 'true' || row.multimorbidity_5plus === 'true') && lookup.has(row.pseudo_id!),
    );
    expect(want.length).toBeGreaterThan(0);
    expect(readFileSync(join(to, 'frail-import.csv'), 'utf8').trim().split('\r\n')).toEqual(
      want.map((row) => lookup.get(row.pseudo_id!)),
    );
    const none = await reidentify('--to', to, '--name', 'new', '--new');
    expect(none.code, none.stderr).toBe(EXIT.ok);
    // The first run has nothing to compare with: no one is new.
    expect(readFileSync(join(to, 'new-import.csv'), 'utf8')).toBe('');
  });

  it("refuses to write inside strata's output folder, however it is named", async () => {
    const before = outState();
    for (const to of [
      join(out, 'reidentified'),
      join(practiceDir, 'named'),
      join(out, 'runs', readLatest(out)!.runId, 'x'),
    ]) {
      const r = await reidentify('--to', to);
      expect(r.code, r.stderr).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/inside strata's output folder/);
      expect(existsSync(to)).toBe(false);
    }
    // Even when --out names another folder, the list's own output folder is refused.
    const r = await runCli([
      'reidentify',
      '--list',
      practiceDir,
      '--lookup',
      lookupFile,
      '--out',
      join(tmp, 'elsewhere'),
      '--to',
      join(out, 'reidentified'),
    ]);
    expect(r.code, r.stderr).toBe(EXIT.badInput);
    expect(outState()).toEqual(before);
  });

  it('refuses a lookup kept inside the output folder, or one that gives a pseudonym two numbers', async () => {
    const inOut = join(out, 'lookup.csv');
    writeFileSync(inOut, readFileSync(lookupFile));
    try {
      const r = await runCli([
        'reidentify',
        '--list',
        practiceDir,
        '--lookup',
        inOut,
        '--out',
        out,
        '--to',
        join(tmp, 'practice', 'x'),
      ]);
      expect(r.code, r.stderr).toBe(EXIT.badInput);
      expect(r.stderr).toMatch(/lookup file .* is inside strata's output folder/);
    } finally {
      rmSync(inOut);
    }
    const twice = join(tmp, 'practice', 'twice.csv');
    const [first] = lookup;
    writeFileSync(twice, `${readFileSync(lookupFile, 'utf8')}\n${first![0]},9434765919\n`);
    const r = await runCli([
      'reidentify',
      '--list',
      practiceDir,
      '--lookup',
      twice,
      '--out',
      out,
      '--to',
      join(tmp, 'practice', 'y'),
    ]);
    expect(r.code, r.stderr).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/1 pseudonym\(s\) more than one identifier/);
    expect(r.stderr).not.toContain(first![0]);
    expect(existsSync(join(tmp, 'practice', 'y'))).toBe(false);
  });
});
