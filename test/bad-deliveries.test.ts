// Every malformed delivery in the corpus gives its documented outcome, and in every case
// each file's lines are accounted for: loaded + rejected = lines.
import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { CliError, EXIT } from '../src/errors.ts';
import { silentLogger, type Logger } from '../src/log.ts';
import { projectPath } from '../src/paths.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { validateDelivery } from '../src/validate.ts';
import type { ExpectedOutcome } from './support/bad-delivery.ts';

const corpus = projectPath('test', 'fixtures', 'bad-deliveries');
const cases = readdirSync(corpus).sort();

type Expected = ExpectedOutcome;

/** Every line logged, at every level, to search for values that must not be shown. */
function recordingLogger(lines: unknown[]): Logger {
  const keep = (msg: string, fields?: object) => lines.push({ msg, ...fields });
  return { debug: keep, info: keep, warn: keep, error: keep };
}

describe('the bad-delivery corpus', () => {
  it('holds at least 30 distinct faults', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('%s: documented outcome, nothing lost', async (name) => {
    const dir = join(corpus, name);
    const expected: Expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
    const logged: unknown[] = [];
    const log = recordingLogger(logged);
    if (expected.exit_code === 3) {
      const err = await validateDelivery(dir, defaultConfig, log).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode).toBe(3);
      expect((err as CliError).message).toContain(expected.error!);
      return;
    }
    const report = await validateDelivery(dir, defaultConfig, log, { throughPopulation: true });
    for (const value of expected.never_shown ?? [])
      expect(JSON.stringify([report, logged]), value).not.toContain(value);
    expect(report.exit_code).toBe(expected.exit_code);
    expect(report.quarantined.map((q) => q.practice_code).sort()).toEqual(
      (expected.quarantined ?? []).sort(),
    );
    expect(report.quarantined_files.map((q) => q.path)).toEqual(expected.quarantined_files ?? []);
    for (const input of report.inputs) {
      if (input.status === 'loaded') expect(input.loaded + input.rejected, input.path).toBe(input.lines);
      else expect(input.reason, input.path).toBeTruthy();
    }
    for (const [path, n] of Object.entries(expected.rejected ?? {})) {
      const input = report.inputs.find((i) => i.path === path);
      expect(input?.rejected, path).toBe(n);
    }
    for (const [path, reasons] of Object.entries(expected.dropped ?? {})) {
      const input = report.inputs.find((i) => i.path === path)!;
      expect(input.dropped, path).toEqual(reasons);
    }
    if (expected.eligible !== undefined) expect(report.eligible).toBe(expected.eligible);
    // Messages name files and reasons, never a patient.
    expect(JSON.stringify(report)).not.toMatch(/[0-9a-f]{16}/);
  });
});

describe('a 2 GB line', () => {
  it('quarantines its practice, accounts for every other line, and neither crashes nor hangs', async () => {
    // Made here rather than committed: 2 GB does not belong in a repository.
    const dir = mkdtempSync(join(tmpdir(), 'strata-2gb-line-'));
    cpSync(projectPath('test', 'fixtures', 'good-delivery'), dir, { recursive: true });
    const path = join(dir, 'practices', 'C82001', 'observations.csv');
    const fd = openSync(path, 'a');
    try {
      writeSync(fd, 'a2a2a2a2a2a2a2a2,2021-01-01,60621009,22.1,');
      const chunk = Buffer.alloc(64 * 1024 * 1024, 'x');
      for (let i = 0; i < 32; i++) writeSync(fd, chunk);
      writeSync(fd, '\n');
    } finally {
      closeSync(fd);
    }
    try {
      const report = await validateDelivery(dir, defaultConfig, silentLogger);
      expect(report.exit_code).toBe(2);
      expect(report.quarantined.map((q) => q.practice_code)).toEqual(['C82001']);
      expect(report.quarantined[0]!.reason).toContain('observations.csv');
      for (const input of report.inputs.filter((i) => i.status === 'loaded'))
        expect(input.loaded + input.rejected, input.path).toBe(input.lines);
      expect(report.practices.filter((p) => p.status === 'loaded').map((p) => p.practice_code)).toEqual([
        'C82002',
        'C82003',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a whole run on bad values', () => {
  it.each([
    ['non-finite-numbers', EXIT.ok],
    ['out-of-range-numbers', EXIT.ok],
    ['every-registration-invalid', EXIT.quarantined],
  ])('%s publishes with its documented exit code', async (name, exitCode) => {
    const out = mkdtempSync(join(tmpdir(), 'strata-bad-run-'));
    try {
      const summary = await runPipeline({
        deliveryDir: join(corpus, name),
        outDir: out,
        config: defaultConfig,
        log: silentLogger,
        progress: noProgress,
        softwareVersion: 'test',
      });
      expect(summary.exitCode).toBe(exitCode);
      const manifest = JSON.parse(readFileSync(join(out, 'latest', 'manifest.json'), 'utf8'));
      for (const input of manifest.inputs as {
        status: string;
        loaded: number;
        rejected: number;
        lines: number;
      }[])
        if (input.status === 'loaded') expect(input.loaded + input.rejected).toBe(input.lines);
      const expected: Expected = JSON.parse(readFileSync(join(corpus, name, 'expected.json'), 'utf8'));
      expect(summary.quarantined.map((q) => q.practice_code)).toEqual(expected.quarantined ?? []);
      for (const q of summary.quarantined) {
        expect(q.reason).toMatch(
          /^practices\/C82003\/patients\.csv: none of its 2 registrations can be used/,
        );
        // A quarantined practice receives no list at all, rather than an empty one.
        expect(existsSync(join(out, 'latest', 'practices', q.practice_code))).toBe(false);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
