import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

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
});
