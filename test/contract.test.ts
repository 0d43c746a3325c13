import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contractMarkdown, csvFiles, deliveryManifest, patientsFile, rowSchema } from '../src/contract.ts';
import { projectPath } from '../src/paths.ts';
import { configMarkdown } from '../src/config.ts';

describe('the data contract', () => {
  it('accepts a well-formed patient row and rejects each kind of bad value', () => {
    const schema = rowSchema(patientsFile);
    const good = {
      pseudo_id: 'a1b2c3d4e5f60718',
      sex: 'F',
      birth_month: '1950-07',
      lsoa_code: 'E01013001',
      registered_from: '2001-02-03',
      registered_to: null,
      date_of_death: null,
    };
    expect(schema.safeParse(good).success).toBe(true);
    expect(schema.safeParse({ ...good, sex: 'X' }).success).toBe(false);
    expect(schema.safeParse({ ...good, birth_month: '1950-13' }).success).toBe(false);
    expect(schema.safeParse({ ...good, pseudo_id: 'not hex!' }).success).toBe(false);
    expect(schema.safeParse({ ...good, registered_from: '03/02/2001' }).success).toBe(false);
    expect(schema.safeParse({ ...good, registered_from: null }).success).toBe(false);
    expect(schema.safeParse({ ...good, extra: 'x' }).success).toBe(false);
  });

  it('keeps every column pattern usable by DuckDB and zod alike', () => {
    for (const f of csvFiles)
      for (const [name, c] of Object.entries(f.columns)) {
        expect(() => new RegExp(`^${c.pattern}$`), `${f.name}.${name}`).not.toThrow();
        expect(c.pattern.startsWith('^')).toBe(false);
      }
  });

  it('refuses a delivery.json with unknown fields', () => {
    const ok = { extract_date: '2026-03-31', source_system: 'x', schema_version: '1.0' };
    expect(deliveryManifest.safeParse(ok).success).toBe(true);
    expect(deliveryManifest.safeParse({ ...ok, surprise: 1 }).success).toBe(false);
  });

  it('is documented in the README exactly as declared', () => {
    const readme = readFileSync(projectPath('README.md'), 'utf8');
    const start = readme.indexOf('<!-- contract:start -->');
    const end = readme.indexOf('<!-- contract:end -->');
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + '<!-- contract:start -->'.length, end).trim()).toBe(
      contractMarkdown().trim(),
    );
    const a = readme.indexOf('<!-- config:start -->');
    const b = readme.indexOf('<!-- config:end -->');
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a + '<!-- config:start -->'.length, b).trim()).toBe(configMarkdown().trim());
  });
});
