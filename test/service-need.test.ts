// The service-need table against the published cohort counts: every estimate is recomputed
// here from the configured ratios and the cohort_summary and tier_summary files as published,
// so it must reconcile with them exactly and show nothing where a group it adds is hidden.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';
import { SERVICE_DEFAULTS } from '../src/service-need.ts';
import { synthesise } from '../src/synth/index.ts';
import { runStages } from './support/pipeline.ts';

type CsvRow = Record<string, string>;

// A ratio away from its default, to show the configuration is what the table uses.
const config = configSchema.parse({
  serviceNeed: { socialPrescribing: { groups: ['multimorbidity'], share: 0.3, caseloadPerWte: 200 } },
});

describe('service need (scale 0.05, 9 practices)', () => {
  const read = (dir: string, t: string): CsvRow[] =>
    parse(readFileSync(join(dir, `${t}.csv`)), { columns: true });
  let need: CsvRow[];
  let published: CsvRow[];
  let feed: CsvRow[];
  let report: string;
  beforeAll(async () => {
    const delivery = join(mkdtempSync(join(tmpdir(), 'strata-need-')), 'delivery');
    await synthesise({ scale: 0.05, seed: 44, practices: 9, out: delivery, asOf: '2026-03-31' });
    const run = await runStages(delivery, 'report', config);
    try {
      const dir = join(run.ctx.runDir, 'commissioner');
      need = read(dir, 'service_need');
      published = [...read(dir, 'cohort_summary'), ...read(dir, 'tier_summary')].map((r) => ({
        ...r,
        cohort: r.cohort ?? r.tier!,
      }));
      feed = (
        await run.query<Record<string, unknown>>(
          `select level, org_code, service, cohort_patients, people_needing, wte from dashboard_service_need`,
        )
      ).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? '' : String(v)])));
      report = readFileSync(join(run.ctx.runDir, 'report.html'), 'utf8');
    } finally {
      run.close();
    }
  }, 600_000);

  it('has one row per PCN, place and system per configured service', () => {
    const orgs = new Set(
      published
        .filter((r) => ['pcn', 'place', 'system'].includes(r.level!))
        .map((r) => `${r.level}|${r.org_code}`),
    );
    expect(need).toHaveLength(orgs.size * Object.keys(config.serviceNeed).length);
  });

  it('reconciles with the published counts and the configured ratios', () => {
    let shown = 0;
    for (const [id, s] of Object.entries(config.serviceNeed)) {
      const name = SERVICE_DEFAULTS[id as keyof typeof SERVICE_DEFAULTS].name;
      const rows = need.filter((r) => r.service === name);
      expect(
        rows.some((r) => r.suppressed === 'false'),
        `${name}: nothing shown to reconcile`,
      ).toBe(true);
      expect(rows.every((r) => r.cohorts === [...s.groups].sort().join(' + '))).toBe(true);
      expect(rows.length).toBeGreaterThan(0);
      for (const r of rows) {
        const groups = s.groups.map((g) =>
          published.find(
            (p) =>
              p.level === r.level &&
              p.org_code === r.org_code &&
              p.cohort === g &&
              p.group_type !== 'combination',
          ),
        );
        const hidden = groups.some((g) => !g || g.suppressed === 'true');
        expect(r.suppressed, `${r.level} ${r.org_code} ${r.service}`).toBe(String(hidden));
        expect(Number(r.share_needing)).toBe(s.share);
        expect(Number(r.caseload_per_wte)).toBe(s.caseloadPerWte);
        if (hidden) {
          expect([r.cohort_patients, r.people_needing, r.wte]).toEqual(['', '', '']);
          continue;
        }
        const people = groups.reduce((sum, g) => sum + Number(g!.patients), 0);
        expect(Number(r.cohort_patients)).toBe(people);
        expect(Number(r.people_needing)).toBe(Math.round(people * s.share));
        expect(Number(r.wte)).toBeCloseTo(Math.round((people * s.share * 10) / s.caseloadPerWte) / 10, 9);
        shown++;
      }
    }
    // Enough estimates shown for the reconciliation to mean something.
    expect(shown).toBeGreaterThanOrEqual(10);
  });

  it('feeds the dashboard and the report the same figures', () => {
    const key = (r: CsvRow) =>
      [r.level, r.org_code, r.service, r.cohort_patients, r.people_needing].join('|');
    expect(feed.map(key).sort()).toEqual(need.map(key).sort());
    for (const r of need.filter((x) => x.level === 'place'))
      expect(report).toContain(`data-org="${r.org_code}" data-service="${r.service}"`);
    expect(report).toContain('id="service-need"');
  });
});

describe('service need when the cohort counts are withheld', () => {
  it('is withheld with them', async () => {
    // A shape whose cohort_summary no suppression pattern protects (the audit withholds it).
    const delivery = join(mkdtempSync(join(tmpdir(), 'strata-need-withheld-')), 'delivery');
    await synthesise({ scale: 0.01, seed: 44, practices: 24, out: delivery, asOf: '2026-03-31' });
    const run = await runStages(delivery, 'commissioner summaries', config);
    try {
      const dir = join(run.ctx.runDir, 'commissioner');
      const rows = (t: string) =>
        (parse(readFileSync(join(dir, `${t}.csv`)), { columns: true }) as CsvRow[]).length;
      expect(rows('cohort_summary')).toBe(0);
      expect(rows('service_need')).toBe(0);
      expect(readFileSync(join(dir, 'README.txt'), 'utf8')).toMatch(/Withheld in this run[^\n]*service_need/);
    } finally {
      run.close();
    }
  }, 600_000);
});
