// report.html opened in a real browser (headless Chromium, driven by playwright-core) with
// every network request refused: it must show the published system-level figures exactly,
// say "suppressed" for hidden counts, carry no patient identifier, and, after two runs for
// different as-of dates into the same output folder, show a trend with both.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance, quotedString, type DuckDBConnection } from '@duckdb/node-api';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../src/config.ts';
import { queryRows } from '../src/db.ts';
import { silentLogger } from '../src/log.ts';
import { projectPath } from '../src/paths.ts';
import { noProgress } from '../src/progress.ts';
import { runPipeline } from '../src/run.ts';
import { launchChromium } from './support/browser.ts';
import { SAMPLE_DELIVERY } from './support/cli.ts';
import { readGroundTruth } from './support/ground-truth.ts';

const LATER = '2026-03-31';
const EARLIER = '2025-09-30';
const SCREENSHOT = projectPath('test', 'artifacts', 'report.png');

let tmp: string;
let firstReport: string;
let runDir: string;
let browser: Browser;
let page: Page;
let db: DuckDBInstance;
let conn: DuckDBConnection;
const consoleErrors: string[] = [];
const refused: string[] = [];

async function run(out: string, asOf: string) {
  return runPipeline({
    deliveryDir: SAMPLE_DELIVERY,
    outDir: out,
    asOf,
    config: defaultConfig,
    log: silentLogger,
    progress: noProgress,
    softwareVersion: 'test',
  });
}

/** '1,875' -> 1875, '£924,921' -> 924921, 'suppressed' -> null. */
const figure = (text: string | null) => {
  const t = (text ?? '').trim();
  return t === 'suppressed' ? null : Number(t.replace(/[£,]/g, ''));
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'strata-report-'));
  const out = join(tmp, 'out');
  firstReport = readFileSync(join((await run(out, LATER)).runDir, 'report.html'), 'utf8');
  runDir = (await run(out, EARLIER)).runDir;

  db = await DuckDBInstance.create(':memory:');
  conn = await db.connect();
  ({ browser } = await launchChromium());
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const url = pathToFileURL(join(runDir, 'report.html')).href;
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  page.on('request', (r) => {
    if (r.url() !== url) refused.push(r.url());
  });
  await page.route('**/*', (route) =>
    route.request().url() === url ? route.continue() : (refused.push(route.request().url()), route.abort()),
  );
  await page.goto(url, { waitUntil: 'load' });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  conn?.closeSync();
  db?.closeSync();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('report.html in a browser with no network', () => {
  it('loads with no console errors and asks for nothing', () => {
    expect(consoleErrors).toEqual([]);
    expect(refused).toEqual([]);
  });

  it('is one self-contained file: no script, stylesheet link, font or external reference', () => {
    const html = readFileSync(join(runDir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|@font-face|url\(/i);
    expect(html.match(/\b(?:src|href)\s*=\s*"([^"#][^"]*)"/gi) ?? []).toEqual([]);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/)/);
  });

  it('shows the system-level headline figures of the commissioner tables exactly', async () => {
    const summary = join(runDir, 'commissioner');
    const groups = await queryRows<{
      cohort: string;
      patients: number | null;
      observed_cost_12m: number | null;
      predicted_cost_12m: number | null;
    }>(
      conn,
      `select cohort, patients, observed_cost_12m, predicted_cost_12m
       from read_parquet(${quotedString(join(summary, 'cohort_summary.parquet'))})
       where level = 'system' and cohort in ('all adults', 'multimorbidity', 'frailty', 'high cost', 'any cohort')`,
    );
    const eligible = await queryRows<{ patients: number | null }>(
      conn,
      `select patients from read_parquet(${quotedString(join(summary, 'attrition.parquet'))})
       where level = 'system' and step = 'eligible (registered and alive)'`,
    );
    const expected = [
      { key: 'eligible', patients: eligible[0]!.patients, observed: undefined, predicted: undefined },
      ...groups.map((g) => ({
        key: g.cohort,
        patients: g.patients,
        observed: g.observed_cost_12m,
        predicted: g.predicted_cost_12m,
      })),
    ].sort((a, b) => a.key.localeCompare(b.key));
    expect(expected).toHaveLength(6);

    const shown = await page.$$eval('[data-headline]', (cards) =>
      cards.map((c) => ({
        key: c.getAttribute('data-headline')!,
        patients: c.querySelector('[data-field="patients"]')?.textContent ?? null,
        observed: c.querySelector('[data-field="observed"]')?.textContent ?? null,
        predicted: c.querySelector('[data-field="predicted"]')?.textContent ?? null,
      })),
    );
    expect(
      shown
        .map((s) => ({
          key: s.key,
          patients: figure(s.patients),
          observed: s.observed === null ? undefined : figure(s.observed),
          predicted: s.predicted === null ? undefined : figure(s.predicted),
        }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    ).toEqual(expected);
    // Costs are shown in pounds, counts with thousands separators.
    expect(shown.find((s) => s.key === 'all adults')!.observed).toMatch(/^£\d{1,3}(,\d{3})*$/);
  });

  it('says "suppressed" wherever the age-sex feed hides a count, never a number', async () => {
    const feed = await queryRows<{ cohort: string; age_band: string; sex: string; suppressed: boolean }>(
      conn,
      `select cohort, age_band, sex, suppressed from read_parquet(${quotedString(join(runDir, 'dashboard', 'age_sex_pyramid.parquet'))})
       where level = 'system'`,
    );
    const rows = await page.$$eval('#age-sex table tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.textContent!.trim())),
    );
    expect(rows).toHaveLength(feed.length);
    expect(feed.some((f) => f.suppressed)).toBe(true);
    for (const f of feed) {
      const sex = f.sex === 'F' ? 'female' : 'male';
      const row = rows.find((r) => r[0] === f.cohort && r[1] === f.age_band && r[2] === sex)!;
      expect(row, `${f.cohort} ${f.age_band} ${f.sex}`).toBeDefined();
      for (const cell of row.slice(3)) {
        if (f.suppressed) expect(cell).toBe('suppressed');
        else expect(cell).toMatch(/^£?\d{1,3}(,\d{3})*$/);
      }
    }
  });

  it('shows a trend with both as-of dates after the second run (the first run showed one)', async () => {
    expect(firstReport.match(/<tr data-trend-point=/g)).toHaveLength(1);
    const points = await page.$$eval('#trends tr[data-trend-point]', (trs) =>
      trs.map((tr) => tr.getAttribute('data-trend-point')),
    );
    expect(points).toEqual([EARLIER, LATER]);
    const dots = await page.$$eval('#trend svg g[aria-label="dot"] > *', (d) => d.length);
    expect(dots).toBeGreaterThanOrEqual(2 * 4);
  });

  it('puts a title, a description and a data table behind every chart', async () => {
    const charts = await page.$$eval('figure.chart', (figures) =>
      figures.map((f) => {
        const svg = f.querySelector('svg');
        const ids = (svg?.getAttribute('aria-labelledby') ?? '').split(' ').filter(Boolean);
        return {
          id: f.id,
          role: svg?.getAttribute('role'),
          labels: ids.map((id) => f.querySelector(`[id="${id}"]`)?.textContent ?? ''),
          tables: f.querySelectorAll('details table').length,
        };
      }),
    );
    expect(charts.length).toBeGreaterThanOrEqual(10);
    for (const c of charts) {
      expect(c.role, c.id).toBe('img');
      expect(c.labels, c.id).toHaveLength(2);
      for (const l of c.labels) expect(l.length, c.id).toBeGreaterThan(10);
      expect(c.tables, c.id).toBe(1);
    }
  });

  it('holds no pseudo_id', () => {
    const ids = new Set(readGroundTruth(SAMPLE_DELIVERY).map((p) => p.pseudo_id.toLowerCase()));
    expect(ids.size).toBeGreaterThan(100);
    const html = readFileSync(join(runDir, 'report.html'), 'utf8').toLowerCase();
    const found = [...html.matchAll(/[0-9a-f]{16,}/g)].flatMap((m) =>
      [...Array(m[0].length - 15).keys()].map((i) => m[0].slice(i, i + 16)).filter((id) => ids.has(id)),
    );
    expect(found).toEqual([]);
  });

  it('saves a screenshot for people to look at', async () => {
    mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(png.length).toBeGreaterThan(50_000);
    await page.screenshot({ path: '/tmp/strata-report.png', fullPage: true });
  });
});
