import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { projectPath } from '../src/paths.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDisclosureFloors, countProtection, defaultConfig, loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';
import { silentLogger, type Logger } from '../src/log.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { attritionSteps } from '../pipeline/attrition-steps.ts';

const file = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'strata-config-')), 'config.json');
  writeFileSync(path, content);
  return path;
};

describe('configuration', () => {
  it('fills every unset setting with its documented default', () => {
    const config = loadConfig(file(JSON.stringify({ cohorts: { highCostMultiple: 4 } })));
    expect(config.cohorts.highCostMultiple).toBe(4);
    expect(config.cohorts.multimorbidityMin).toBe(5);
    expect(config.unitCosts.APC_NEL).toBe(1600);
    expect(config.tiers).toEqual(defaultConfig.tiers);
  });

  it('refuses an unknown key, naming it, so a typo never falls back to a default', () => {
    const err = (() => {
      try {
        loadConfig(file(JSON.stringify({ cohorts: { highCostMultipel: 4 } })));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(3);
    expect((err as ConfigError).message).toContain('highCostMultipel');
  });

  it('refuses bad values and unreadable files with a message for a person', () => {
    expect(() => loadConfig(file(JSON.stringify({ resources: { memoryLimit: 'lots' } })))).toThrow(
      /resources.memoryLimit/,
    );
    expect(() => loadConfig(file('{ not json'))).toThrow(/not valid JSON/);
    expect(() => loadConfig('/nonexistent/strata.json')).toThrow(ConfigError);
  });

  it.each([
    [{ suppressBelow: 4 }, /disclosure.suppressBelow 4 is below its floor of 5/],
    [{ suppressBelow: 1 }, /disclosure.suppressBelow 1 is below its floor of 5/],
    [{ roundTo: 1 }, /disclosure.roundTo 1 is below its floor of 5/],
    [{ suppressBelow: 2, roundTo: 1 }, /suppressBelow 2 .*; disclosure.roundTo 1/],
    [{ costRoundTo: 1 }, /disclosure.costRoundTo 1 is below its floor of 100/],
  ])('refuses disclosure settings weaker than HES (%j) with exit 3', (disclosure, message) => {
    const err = (() => {
      try {
        loadConfig(file(JSON.stringify({ disclosure })));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(3);
    expect((err as ConfigError).message).toMatch(message);
    expect((err as ConfigError).message).toMatch(/allowBelowFloors/);
  });

  it('accepts the floors themselves, and weaker settings only with the override, naming them', () => {
    const floors = loadConfig(
      file(JSON.stringify({ disclosure: { suppressBelow: 5, roundTo: 5, costRoundTo: 100 } })),
    );
    expect(checkDisclosureFloors(floors)).toEqual([]);
    const weak = loadConfig(
      file(JSON.stringify({ disclosure: { suppressBelow: 2, roundTo: 1, allowBelowFloors: true } })),
    );
    expect(checkDisclosureFloors(weak)).toEqual([
      'disclosure.suppressBelow 2 is below its floor of 5',
      'disclosure.roundTo 1 is below its floor of 5',
    ]);
  });

  it('protects a suppressed count by the rounding unless told otherwise', () => {
    expect(countProtection(defaultConfig)).toBe(4);
    expect(
      countProtection({ ...defaultConfig, disclosure: { ...defaultConfig.disclosure, roundTo: 10 } }),
    ).toBe(9);
    expect(
      countProtection({ ...defaultConfig, disclosure: { ...defaultConfig.disclosure, countProtection: 7 } }),
    ).toBe(7);
  });

  it('refuses a weak configuration before a run touches the output folder', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-floors-')), 'out');
    const config = { ...defaultConfig, disclosure: { ...defaultConfig.disclosure, suppressBelow: 2 } };
    await expect(
      runPipeline({
        deliveryDir: '/nonexistent',
        outDir: out,
        config,
        log: silentLogger,
        progress: noProgress,
        softwareVersion: 'test',
      }),
    ).rejects.toThrow(ConfigError);
    expect(existsSync(out)).toBe(false);
  });

  it('runs a weak configuration with the override, warning and recording it', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'strata-floors-')), 'out');
    const warnings: string[] = [];
    const log: Logger = {
      ...silentLogger,
      warn: (msg, fields) => warnings.push(`${msg} ${JSON.stringify(fields)}`),
    };
    const config = {
      ...defaultConfig,
      disclosure: { ...defaultConfig.disclosure, suppressBelow: 3, allowBelowFloors: true },
    };
    const summary = await runPipeline({
      deliveryDir: projectPath('sample-data', 'delivery'),
      outDir: out,
      config,
      log,
      progress: noProgress,
      softwareVersion: 'test',
    });
    expect(warnings.join('\n')).toMatch(
      /below their floors.*disclosure.suppressBelow 3 is below its floor of 5/,
    );
    const manifest = JSON.parse(readFileSync(join(summary.runDir, 'manifest.json'), 'utf8'));
    expect(manifest.disclosure_below_floors).toEqual(['disclosure.suppressBelow 3 is below its floor of 5']);
    expect(manifest.configuration.disclosure.allowBelowFloors).toBe(true);
  });
});

describe('attrition steps', () => {
  it('state the thresholds the configuration sets, not the defaults', () => {
    const labels = attritionSteps({
      adultAge: 18,
      multimorbidityMin: 4,
      highCostMultiple: 2.5,
      hfrsMarkerAtLeast: 15,
    }).map((s) => s.label);
    expect(labels).toContain('rule: 4+ chronic conditions (adults)');
    expect(labels).toContain('cohort: multimorbidity (4+ conditions)');
    expect(labels).toContain('rule: HFRS 15 or more (adults)');
    expect(labels).toContain('cohort: predicted high cost (2.5x mean)');
    expect(labels.join(' ')).not.toMatch(/\b5\+|HFRS 5 |3x/);
  });
});
