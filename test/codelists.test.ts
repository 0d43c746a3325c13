import { describe, expect, it } from 'vitest';
import { conditions } from '../pipeline/conditions.ts';
import { deficits } from '../pipeline/frailty.ts';
import { loadCodelists, referencedCodelists } from '../src/codelists.ts';
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
