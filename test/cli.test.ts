import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { projectPath } from '../src/paths.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { smallDelivery } from './support/cli.ts';

const strata = (...args: string[]) =>
  spawnSync(process.execPath, [projectPath('bin', 'strata.mjs'), ...args], { encoding: 'utf8' });

describe('the strata command', () => {
  it('lists its subcommands', () => {
    const r = strata('--help');
    expect(r.status).toBe(0);
    for (const command of ['run', 'validate', 'query', 'synth'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('explains a bad delivery in one line, with exit code 3 and no stack trace', () => {
    const r = strata(
      'run',
      '--delivery',
      '/nonexistent/delivery',
      '--out',
      mkdtempSync(join(tmpdir(), 'strata-cli-')),
    );
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('delivery folder /nonexistent/delivery does not exist');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('shows the stack trace with --debug', () => {
    const r = strata(
      '--debug',
      'run',
      '--delivery',
      '/nonexistent/delivery',
      '--out',
      mkdtempSync(join(tmpdir(), 'strata-cli-')),
    );
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^\s+at /m);
  });

  it.each([
    ['2026-02-30', 'is not a real calendar date'],
    ['1900-01-01', 'is outside 2000-01-01 to 2099-12-31'],
    ['31/03/2026', 'is not a date written YYYY-MM-DD'],
  ])('refuses --as-of %s with exit code 3, before anything is written', (asOf, why) => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-cli-')), 'out');
    const r = strata('run', '--as-of', asOf, '--out', out);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(`strata: --as-of ${asOf} ${why}\n`);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bad option value before doing any work', () => {
    const r = strata('synth', '--scale', 'lots', '--out', mkdtempSync(join(tmpdir(), 'strata-cli-')));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('--scale must be a number');
  });
});

describe('error messages', () => {
  it('never carry a pseudonym, even when a database error quotes one', async () => {
    const { redact } = await import('../src/cli.ts');
    expect(redact('Could not convert string "a1b2c3d4e5f60718" to DATE')).toBe(
      'Could not convert string "<pseudonym>" to DATE',
    );
    expect(redact('practices/C82001/observations.csv: 12 lines')).toBe(
      'practices/C82001/observations.csv: 12 lines',
    );
  });
});

describe('--skip-unchanged', () => {
  it('runs nothing when the delivery, as-of date and configuration are the latest run’s, and runs again when a byte changes', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'strata-skip-'));
    const delivery = await smallDelivery(join(tmp, 'delivery'));
    const out = join(tmp, 'out');
    const logs: string[] = [];
    const record = (msg: string) => void logs.push(msg);
    const run = () =>
      runPipeline({
        deliveryDir: delivery,
        outDir: out,
        config: defaultConfig,
        log: { debug: record, info: record, warn: record, error: record },
        progress: noProgress,
        softwareVersion: 'test',
        skipUnchanged: true,
      });
    const first = await run();
    expect(first.skippedAsUnchangedSince).toBeUndefined();

    const second = await run();
    expect(second.skippedAsUnchangedSince).toBe(first.runId);
    expect(readdirSync(join(out, 'runs'))).toEqual([first.runId]);
    // Decided before anything was loaded: the second run never started its stages.
    expect(logs.filter((m) => m === 'run started')).toHaveLength(1);

    // One byte of one practice's extract: a different delivery.
    const practice = readdirSync(join(delivery, 'practices')).sort()[0]!;
    appendFileSync(join(delivery, 'practices', practice, 'patients.csv'), '\n');
    const third = await run();
    expect(third.skippedAsUnchangedSince).toBeUndefined();
    expect(third.runId).not.toBe(first.runId);
    rmSync(tmp, { recursive: true, force: true });
  }, 300_000);
});
