// report.html: one self-contained page for commissioners (inline CSS, inline SVG, no script,
// nothing fetched when opened), built only from the dashboard feeds, which are themselves
// made from the disclosure-controlled commissioner tables, and from the history of earlier
// runs' feeds for the trends. Nothing patient-level is read here.
import { join } from 'node:path';
import * as chart from './report/charts.ts';
import { reportData, type ReportData } from './report/data.ts';
import { esc } from './report/html.ts';
import {
  ageSexSection,
  dataQualitySection,
  deprivationSection,
  headline,
  modelSection,
  orgSection,
  overlapSection,
  tierSection,
  trendSection,
} from './report/sections.ts';
import { changeSection } from './report/change-section.ts';
import { serviceNeedSection } from './report/service-need.ts';
import { REPORT_CSS } from './report/style.ts';
import { writeFileDurable } from './files.ts';
import type { RunContext } from './stage.ts';

export async function renderReport(d: ReportData): Promise<string> {
  const r = await chart.renderer();
  try {
    const sections: [string, string, string][] = [
      ['headline', 'At a glance', headline(d)],
      ['overlap-section', 'Cohort overlap and attributable cost', overlapSection(r, d)],
      ['tiers', 'Risk pyramid', tierSection(r, d)],
      [
        'places',
        'Cohorts by place and by PCN',
        orgSection(r, d, 'place', 'place') + orgSection(r, d, 'pcn', 'PCN'),
      ],
      ['service-need', 'Service need', serviceNeedSection(d)],
      ['age-sex-section', 'Age and sex', ageSexSection(r, d)],
      ['deprivation-section', 'Deprivation', deprivationSection(r, d)],
      ['trends', 'Trends across runs', trendSection(r, d)],
      ['changes', 'Change since the last run', changeSection(d.listChanges)],
      ['data-quality-section', 'Data quality', dataQualitySection(r, d)],
      ['model', 'Model card summary', modelSection(r, d)],
    ];
    const nav = sections.map(([id, title]) => `<li><a href="#${id}">${esc(title)}</a></li>`).join('');
    const body = sections
      .map(
        ([id, title, content]) =>
          `<section id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${esc(title)}</h2>\n${content}\n</section>`,
      )
      .join('\n');
    const rules = d.rules;
    return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="strata">
<title>Population health risk stratification: ${esc(d.system.name)}, as of ${esc(d.asOf)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header class="banner">
<div class="wrap">
<p class="kicker">Population health risk stratification</p>
<h1>${esc(d.system.name)}</h1>
<p class="meta">As of <strong data-as-of>${esc(d.asOf)}</strong> · run <span data-run-id>${esc(d.runId)}</span></p>
</div>
</header>
<nav class="toc wrap" aria-label="Sections"><ul>${nav}</ul></nav>
<main class="wrap">
<p class="notice"><strong>Aggregates only.</strong> Counts of 1 to ${rules.suppressBelow - 1} people, and any count that would reveal one, are shown as <span class="suppressed">suppressed</span>; other counts are rounded to the nearest ${rules.roundTo}, so totals need not equal the sum of their parts. Costs are attributable secondary-care costs in pounds: observed in the 12 months to the as-of date, predicted for the next 12 months. Cohorts overlap: use the exclusive combinations to add costs without counting a pound twice.</p>
${body}
</main>
<footer class="wrap"><p>Made by strata from the disclosure-controlled commissioner tables of run ${esc(d.runId)}. The same figures are in commissioner/ and dashboard/ of the run folder.</p></footer>
</body>
</html>
`;
  } finally {
    r.close();
  }
}

export async function writeReport(ctx: RunContext): Promise<{ bytes: number }> {
  const page = await renderReport(await reportData(ctx));
  writeFileDurable(join(ctx.runDir, 'report.html'), page);
  return { bytes: Buffer.byteLength(page) };
}
