// The report's service-need section: caseload estimates by place and PCN (and the system),
// straight from the service_need feed, which is itself worked out from the published counts.
import { count, decimal, esc, SUPPRESSED, table } from './html.ts';
import type { ReportData } from './data.ts';

export interface ServiceNeedRow {
  level: string;
  org_code: string;
  org_name: string;
  service: string;
  cohorts: string;
  cohort_patients: number | null;
  share_needing: number;
  people_needing: number | null;
  caseload_per_wte: number;
  wte: number | null;
  suppressed: boolean;
}

const pct = (share: number) => `${+(share * 100).toFixed(1)}%`;

/** Empty and not suppressed: a group the run could not count (no tiers without models). */
const figure = (x: ServiceNeedRow, n: number | null, show: (n: number) => string) =>
  x.suppressed ? SUPPRESSED : n === null ? 'not available' : show(n);

export function serviceNeedSection(d: ReportData): string {
  const rows = d.serviceNeed;
  if (!rows.length) return '<p>No service-need estimates in this run.</p>';
  const ratios = [...new Map(rows.map((r) => [r.service, r])).values()];
  const assumptions = table(
    'The ratios behind the estimates (configuration; commissioner/README.txt names their sources)',
    [
      { head: 'Service', value: (x: ServiceNeedRow) => x.service },
      { head: 'Responds to', value: (x) => x.cohorts },
      { head: 'Share needing it in a year', value: (x) => pct(x.share_needing), numeric: true },
      { head: 'Caseload per whole-time worker', value: (x) => decimal(x.caseload_per_wte, 0), numeric: true },
    ],
    ratios,
  );
  const level = (name: string, label: string) =>
    table(
      `Estimated caseload and whole-time equivalents by ${label}`,
      [
        { head: label[0]!.toUpperCase() + label.slice(1), value: (x: ServiceNeedRow) => x.org_name },
        { head: 'Service', value: (x) => x.service },
        {
          head: 'People in the groups',
          value: (x) => figure(x, x.cohort_patients, (n) => String(count(n))),
          numeric: true,
        },
        {
          head: 'People needing it',
          value: (x) => figure(x, x.people_needing, (n) => String(count(n))),
          numeric: true,
        },
        {
          head: 'Whole-time equivalents',
          value: (x) => figure(x, x.wte, (n) => decimal(n, 1)),
          numeric: true,
        },
      ],
      rows.filter((x) => x.level === name),
      (x) => `data-org="${esc(x.org_code)}" data-service="${esc(x.service)}"`,
    );
  return [
    '<p>What the cohorts ask of the services that respond to them: the published count of each group a service responds to, times the share of its people who need the service in a year, over the caseload one whole-time worker carries. The ratios are configuration; where a default is a planning assumption rather than a published figure, the configuration says so. A group that is suppressed leaves its estimate suppressed too.</p>',
    assumptions,
    level('system', 'system'),
    level('place', 'place'),
    level('pcn', 'PCN'),
  ].join('\n');
}
