// The report's stylesheet, inlined into the page so it opens with no network access. System
// fonts only; colours follow the NHS identity palette and meet WCAG AA contrast for text.
export const REPORT_CSS = `
:root {
  --blue: #005eb8; --dark-blue: #003087; --text: #212b32; --secondary: #4c6272;
  --grey-5: #f0f4f5; --grey-4: #d8dde0; --white: #fff; --warm-yellow: #ffb81c;
}
* { box-sizing: border-box; }
html { font-family: Arial, "Helvetica Neue", Helvetica, system-ui, sans-serif; color: var(--text); background: var(--grey-5); line-height: 1.45; }
body { margin: 0; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
.banner { background: var(--blue); color: var(--white); padding: 20px 0 22px; }
.banner h1 { margin: 2px 0 6px; font-size: 2rem; }
.kicker { margin: 0; font-weight: bold; letter-spacing: .02em; opacity: .9; }
.meta { margin: 0; }
.toc { margin-top: 16px; }
.toc ul { display: flex; flex-wrap: wrap; gap: 6px 18px; list-style: none; padding: 0; margin: 0; }
.toc a { color: var(--blue); font-weight: bold; }
.toc a:focus, summary:focus { outline: 3px solid var(--warm-yellow); outline-offset: 2px; }
main { padding-bottom: 24px; }
.notice { background: var(--white); border-left: 8px solid var(--blue); padding: 12px 16px; margin: 18px 0 8px; }
section { background: var(--white); margin: 22px 0; padding: 6px 24px 20px; border-radius: 4px; box-shadow: 0 1px 0 var(--grey-4); }
h2 { color: var(--dark-blue); font-size: 1.5rem; margin: 18px 0 12px; border-bottom: 2px solid var(--grey-4); padding-bottom: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 14px; }
.card { border: 1px solid var(--grey-4); border-top: 6px solid var(--blue); border-radius: 4px; padding: 10px 14px 12px; }
.card[data-headline="eligible"], .card[data-headline="all adults"] { border-top-color: var(--secondary); }
.card h3 { margin: 0; font-size: 1.05rem; color: var(--dark-blue); }
.card .big { font-size: 2.1rem; font-weight: bold; margin: 2px 0 0; font-variant-numeric: tabular-nums; }
.card-note, .card-foot { margin: 0 0 6px; color: var(--secondary); font-size: .9rem; }
.costs { margin: 6px 0 0; display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
.costs dt { font-size: .8rem; color: var(--secondary); }
.costs dd { margin: 0; font-weight: bold; font-variant-numeric: tabular-nums; }
.suppressed { font-style: italic; color: var(--secondary); font-weight: normal; }
.two-up { display: grid; grid-template-columns: minmax(0, 470px) minmax(0, 1fr); gap: 20px; align-items: start; }
@media (max-width: 900px) { .two-up { grid-template-columns: 1fr; } }
figure.chart { margin: 10px 0 18px; }
figcaption { margin-bottom: 6px; }
.fig-title { display: block; font-weight: bold; font-size: 1.1rem; }
.fig-note { display: block; color: var(--secondary); font-size: .92rem; }
figure svg { max-width: 100%; height: auto; display: block; }
details { margin-top: 6px; }
summary { cursor: pointer; color: var(--blue); font-weight: bold; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 8px 0; font-size: .9rem; min-width: 50%; }
caption { text-align: left; font-weight: bold; padding: 4px 0; color: var(--secondary); }
th, td { border-bottom: 1px solid var(--grey-4); padding: 4px 10px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--text); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { font-weight: normal; }
tr.current th, tr.current td { font-weight: bold; background: #e8f1fa; }
.metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(172px, 1fr)); gap: 12px; margin: 8px 0 16px; }
.metric { border: 1px solid var(--grey-4); border-radius: 4px; padding: 8px 12px; }
.metric dt { font-weight: bold; color: var(--dark-blue); }
.metric dd { margin: 2px 0; font-size: 1.6rem; font-weight: bold; font-variant-numeric: tabular-nums; }
.metric p { margin: 0; color: var(--secondary); font-size: .82rem; }
footer { color: var(--secondary); font-size: .85rem; padding-bottom: 30px; }
@media print { html { background: var(--white); } section { box-shadow: none; break-inside: avoid-page; } details { display: block; } .toc { display: none; } }
`;
