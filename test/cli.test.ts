import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../src/paths.ts';

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
