import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { conditions } from '../pipeline/conditions.ts';
import { deficits } from '../pipeline/frailty.ts';
import {
  derivations,
  deriveCodelists,
  loadCodelists,
  nearMissCodes,
  referencedCodelists,
  sha256Of,
  SOURCE_DIR,
  sourceFiles,
} from '../src/codelists.ts';
import { isValidSctid, verhoeffCheckDigit, verhoeffValid } from '../src/snomed.ts';

describe('codelists', () => {
  const lists = loadCodelists();

  it('include every list the declarations name, each with its provenance', () => {
    for (const id of referencedCodelists()) {
      const list = lists.get(id);
      expect(list, id).toBeDefined();
      expect(list!.source.length).toBeGreaterThan(10);
      expect(list!.licence.length).toBeGreaterThan(5);
    }
  });

  it('hold only SNOMED CT identifiers that pass the Verhoeff check', () => {
    let checked = 0;
    for (const list of lists.values()) {
      if (list.system !== 'snomedct') continue;
      for (const { code } of list.codes) {
        expect(isValidSctid(code), `${list.id}: ${code}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(3000);
  });

  it('are derived from their published sources: whole, less only the declared drops', () => {
    const derived = deriveCodelists();
    expect(derived.size).toBe(derivations.length);
    for (const d of derived.values()) {
      const list = lists.get(d.id)!;
      const codes = new Set(list.codes.map((c) => c.code));
      // Recounted here from the source files, not from the derivation's own arithmetic.
      const scope = new Set(d.inScope.map((c) => c.code));
      const dropped = new Set(d.dropped.map((c) => c.code));
      const missing = [...scope].filter((c) => !dropped.has(c) && !codes.has(c));
      expect(missing, `${d.id}: codes in its sources and not dropped, but missing from the list`).toEqual([]);
      expect(codes.size, d.id).toBeGreaterThanOrEqual(scope.size - dropped.size);
      expect(
        [...codes].every((c) => scope.has(c)),
        `${d.id}: codes from nowhere`,
      ).toBe(true);
      expect(list.source_rows, d.id).toBe(String(scope.size));
      expect(list.kept_rows, d.id).toBe(String(codes.size));
    }
  });

  it('record the SHA-256 of every source file, and the files have not drifted', () => {
    for (const d of derivations) {
      const recorded = lists.get(d.id)!.source_sha256.split(';');
      const files = [...new Set(d.from.map((f) => f.file))];
      expect(recorded.length, d.id).toBe(files.length);
      files.forEach((f, i) => expect(sha256Of(join(SOURCE_DIR, f)), `${d.id}: ${f}`).toBe(recorded[i]));
    }
  });

  it('vendor every declared source file, and no undeclared one', () => {
    const onDisk = readdirSync(SOURCE_DIR, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(SOURCE_DIR.length + 1))
      .sort();
    expect(onDisk).toEqual(sourceFiles.map((f) => f.file).sort());
  });

  it('carry the codes a clinical review found missing', () => {
    const has = (id: string, code: string) => lists.get(id)!.codes.some((c) => c.code === code);
    // Generic site codes of the commonest cancers, and a haematological cancer.
    for (const code of [
      '254837009', // malignant neoplasm of breast
      '372064008', // malignant neoplasm of female breast
      '363406005', // colon
      '363351006', // rectum
      '399326009', // urinary bladder
      '363349007', // stomach
      '363443007', // ovary
      '372244006', // malignant melanoma
    ])
      expect(has('cancer', code), code).toBe(true);
    expect(has('psoriasis_eczema', '43116000'), 'eczema').toBe(true);
    expect(lists.get('learning_disability')!.codes.length).toBeGreaterThanOrEqual(333);
    expect(lists.get('coronary_heart_disease')!.codes.length).toBeGreaterThanOrEqual(260);
  });

  it('hold medicines by BNF chemical substance, named from the NHSBSA BNF code information', () => {
    // Substances are found by name in the published BNF table, not by codes restated here.
    const bnf: { code: string; term: string }[] = parse(
      readFileSync(join(SOURCE_DIR, 'nhsbsa-bnf', 'bnf-chemical-substances.csv')),
      { columns: true },
    );
    const named = (pattern: RegExp) => bnf.filter((r) => pattern.test(r.term)).map((r) => r.code);
    const on = (id: string, pattern: RegExp) => {
      const codes = new Set(lists.get(id)!.codes.map((c) => c.code));
      return named(pattern).some((c) => codes.has(c));
    };
    for (const drug of [/^sodium valproate$/i, /^lamotrigine$/i, /^carbamazepine$/i, /^phenytoin/i])
      expect(on('med_antiepileptics', drug), String(drug)).toBe(true);
    expect(on('med_ibs_antispasmodics', /^mebeverine hydrochloride$/i)).toBe(true);
    for (const drug of [
      /^codeine phosphate$/i,
      /^dihydrocodeine tartrate$/i,
      /^fentanyl$/i,
      /^buprenorphine$/i,
    ])
      expect(on('med_analgesics', drug), String(drug)).toBe(true);
    expect(on('med_analgesics', /^paracetamol$/i)).toBe(false);
    for (const drug of [/^sumatriptan/i, /^zolmitriptan$/i, /^rizatriptan$/i])
      expect(on('med_antimigraine', drug), String(drug)).toBe(true);
    expect(on('med_antidepressants', /^sertraline/i)).toBe(true);
    expect(on('med_laxatives', /^lactulose$/i)).toBe(true);
    expect(on('med_lithium', /^lithium carbonate$/i)).toBe(true);
  });

  it('let no code count towards two conditions where the issue of double counting was found', () => {
    const holders = (code: string) =>
      conditions.filter((c) =>
        c.criteria.some((k) => 'codelist' in k && lists.get(k.codelist)!.codes.some((x) => x.code === code)),
      );
    // Mixed anxiety and depressive disorder: one condition, not two.
    expect(holders('231504006').map((c) => c.id)).toEqual(['depression_anxiety']);
    // Alcoholic liver disease counts as chronic liver disease only.
    const alcoholicLiver = deriveCodelists()
      .get('chronic_liver_disease')!
      .codes.filter((c) => /alcoholic/i.test(c.term));
    expect(alcoholicLiver.length).toBeGreaterThan(3);
    for (const c of alcoholicLiver)
      expect(
        holders(c.code).map((x) => x.id),
        c.term,
      ).toEqual(['chronic_liver_disease']);
  });

  it('keep the near-miss codes off every list they are near', () => {
    let n = 0;
    for (const [id, codes] of nearMissCodes()) {
      const list = new Set(lists.get(id)!.codes.map((c) => c.code));
      for (const c of codes) {
        expect(list.has(c.code), `${id}: ${c.term}`).toBe(false);
        n++;
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('declare 36 conditions and 36 eFI-style deficits', () => {
    expect(conditions).toHaveLength(36);
    expect(new Set(conditions.map((c) => c.id)).size).toBe(36);
    expect(deficits).toHaveLength(36);
  });

  it('carry the frailty severity codes of the UK primary care refsets', () => {
    expect(lists.get('frailty_mild')!.codes.map((c) => c.code)).toContain('925791000000100');
    expect(lists.get('frailty_moderate')!.codes.map((c) => c.code)).toContain('925831000000107');
    expect(lists.get('frailty_severe')!.codes.map((c) => c.code)).toContain('925861000000102');
  });
});

describe('the Verhoeff check digit', () => {
  it('matches the published worked example (236 -> 2363) and catches damage', () => {
    expect(verhoeffCheckDigit('236')).toBe(3);
    expect(verhoeffValid('2363')).toBe(true);
    expect(verhoeffValid('2364')).toBe(false);
    expect(isValidSctid('38341003')).toBe(true); // hypertensive disorder
    expect(isValidSctid('3834103')).toBe(false); // a digit lost
    expect(isValidSctid('38341030')).toBe(false); // digits swapped
  });
});
