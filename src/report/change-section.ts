// The report's "Change since the last run": how many people joined and left each cohort and
// tier across the whole system since the compared run. System level only, each count with the
// same small-number suppression and rounding as every other published count; who they are is
// in each practice's own list and nowhere else.
import type { ListChangeSummary } from '../list-changes.ts';
import { count, esc, table } from './html.ts';

export function changeSection(changes: ListChangeSummary | undefined): string {
  const compared = changes?.comparedWith;
  if (!changes || !compared)
    return '<p data-change="none">There is no earlier published run to compare with: this section fills in from the next run.</p>';
  const rows = table(
    `People who joined or left each cohort and tier since run ${compared.runId}, across the system`,
    [
      { head: 'Cohort or tier', value: (r: ListChangeSummary['counts'][number]) => r.label },
      { head: 'Joined', value: (r) => count(r.joined), numeric: true },
      { head: 'Left', value: (r) => count(r.left), numeric: true },
    ],
    changes.counts,
    (r) => `data-change-item="${esc(r.item)}"`,
  );
  const scope = changes.predictionsCompared
    ? 'A move into the low tier (the rest) is counted as leaving the higher tier, not as joining one.'
    : 'One of the two runs had no predictions, so the predicted high cost cohort and the tiers are not compared.';
  return `<p data-change="compared">Compared with run <span data-compared-run>${esc(compared.runId)}</span> (as of ${esc(compared.asOf)}): people counted at the practice whose list they are on, so a move between practices counts as leaving one list and joining another. ${esc(scope)} Each practice's list names its own patients who joined, with the reason, and a file beside it those who left.</p>
${rows}`;
}
