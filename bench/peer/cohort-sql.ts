// The peer's cohorts in PostgreSQL: the codelists and rules loaded, then every step to the counts.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conditions } from '../../pipeline/conditions.ts';
import { CODED_FRAILTY, HFRS, deficits, efiCategories } from '../../pipeline/frailty.ts';
import { ICD10 } from '../../src/contract.ts';
import { catProgram, lit, pgPattern } from './sql-text.ts';

const PIPELINE = fileURLToPath(new URL('../../pipeline/', import.meta.url));

function codelistFiles(): { id: string; path: string }[] {
  const dir = join(PIPELINE, 'codelists');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.csv') && n !== 'index.csv')
    .sort()
    .map((n) => ({ id: n.replace(/\.csv$/, ''), path: join(dir, n) }));
}

/** An INSERT of literal rows; nothing when there are none, which VALUES cannot express. */
export function insertRows(table: string, rows: (string | number | null)[][]): string {
  if (!rows.length) return '';
  const literal = (v: string | number | null) =>
    v === null ? 'null' : typeof v === 'number' ? String(v) : lit(v);
  return `insert into ${table} values\n  ${rows.map((r) => `(${r.map(literal).join(', ')})`).join(',\n  ')};`;
}

export function cohortSql(asOf: string): string {
  const d = `date ${lit(asOf)}`;
  const months = (m: string | number) => `make_interval(months => ${m})`;
  const criteria = conditions.flatMap((c) =>
    c.criteria.map((k) => [
      c.id,
      k.kind,
      'codelist' in k ? k.codelist : null,
      'medication' in k ? k.medication : null,
      k.withinMonths ?? null,
      k.kind === 'diagnosis' ? (k.firstWithinMonths ?? null) : null,
      k.kind === 'prescriptions' ? k.minIssues : null,
    ]),
  );
  const resolved = conditions.filter((c) => c.resolved).map((c) => [c.id, c.resolved!]);
  const deficitRows = deficits.filter((x) => x.codelist).map((x) => [x.id, x.codelist!]);
  const poly = deficits.find((x) => x.distinctDrugs);
  const medWindow = Math.max(
    ...conditions.flatMap((c) => c.criteria.map((k) => (k.kind === 'diagnosis' ? 0 : k.withinMonths))),
  );
  const severities = Object.entries(CODED_FRAILTY.codelists).map(([severity, codelist], rank) => [
    severity,
    codelist,
    rank,
  ]);
  // Moderate starts above the mild cut-off; compared as counts, as strata does.
  const mild = efiCategories.find((c) => c.category === 'mild')!.upTo;
  const efiModerateAt = Math.floor(mild * deficits.length + 1e-9) + 1;
  const markers = CODED_FRAILTY.markerAt.map(lit).join(', ');

  const s: string[] = [];
  const step = (name: string, sql: string) => s.push(`\\echo ${name}\n${sql.trim()};`);

  step(
    'codelists',
    `create unlogged table codelist_stage (code text, term text, codelist text default current_setting('peer.codelist'))`,
  );
  for (const cl of codelistFiles()) {
    s.push(`set peer.codelist = ${lit(cl.id)};`);
    s.push(
      `\\copy codelist_stage(code, term) from program '${catProgram(cl.path)}' with (format csv, header true)`,
    );
  }
  step(
    'codelist',
    `create table codelist as select distinct codelist, trim(code) as code from codelist_stage where trim(code) <> ''`,
  );
  step('codelist index', `create index on codelist (code)`);
  step(
    'hfrs points',
    `create table hfrs_points (icd10_code text primary key, points numeric, description text)`,
  );
  s.push(
    `\\copy hfrs_points from program '${catProgram(join(PIPELINE, 'reference', 'hfrs_points.csv'))}' with (format csv, header true)`,
  );
  step(
    'rules',
    `create table criterion (condition_id text, kind text, codelist text, medication text, within_months int, first_within_months int, min_issues int);
${insertRows('criterion', criteria)}
create table resolved_rule (condition_id text, codelist text);
${insertRows('resolved_rule', resolved)}
create table deficit (deficit_id text, codelist text);
${insertRows('deficit', deficitRows)}
create table frailty_severity (severity text, codelist text, rank int);
${insertRows('frailty_severity', severities)}`,
  );
  step('analyze rules', 'analyze codelist, criterion, resolved_rule, deficit, frailty_severity, hfrs_points');

  step(
    'eligible',
    `create table eligible as
select distinct on (p.pseudo_id) p.pseudo_id, p.practice_code,
  extract(year from age(${d}, (p.birth_month || '-01')::date))::int as age
from patients p join practices r using (practice_code)
where p.registered_from <= ${d}
  and (p.registered_to is null or p.registered_to > ${d})
  and (p.date_of_death is null or p.date_of_death > ${d})
order by p.pseudo_id, p.registered_from desc`,
  );
  step('eligible key', 'alter table eligible add primary key (pseudo_id); analyze eligible');
  step(
    'patient codes',
    `create table patient_code as
select o.pseudo_id, c.codelist, min(o.recorded_date) as first_date, max(o.recorded_date) as last_date
from observations o
join codelist c on c.code = o.snomed_code
join eligible e on e.pseudo_id = o.pseudo_id
where o.recorded_date <= ${d}
group by o.pseudo_id, c.codelist`,
  );
  step('patient codes index', 'create index on patient_code (codelist, pseudo_id); analyze patient_code');
  step(
    'medication issues',
    `create table medication_issue as
select m.pseudo_id, c.codelist, m.issue_date
from medications m
join codelist c on c.code = left(m.bnf_code, 9)
join eligible e on e.pseudo_id = m.pseudo_id
where m.issue_date <= ${d} and m.issue_date > ${d} - ${months(medWindow)}`,
  );
  step(
    'medication issues index',
    'create index on medication_issue (codelist, pseudo_id); analyze medication_issue',
  );
  step(
    'condition criteria',
    `create table condition_hit as
select pc.pseudo_id, k.condition_id, pc.last_date as dx_date
from criterion k join patient_code pc on pc.codelist = k.codelist
where k.kind = 'diagnosis'
  and (k.within_months is null or pc.last_date > ${d} - ${months('k.within_months')})
  and (k.first_within_months is null or pc.first_date > ${d} - ${months('k.first_within_months')})
union all
select pc.pseudo_id, k.condition_id, pc.last_date
from criterion k join patient_code pc on pc.codelist = k.codelist
where k.kind = 'treated'
  and exists (select 1 from medication_issue mi
              where mi.pseudo_id = pc.pseudo_id and mi.codelist = k.medication
                and mi.issue_date > ${d} - ${months('k.within_months')})
union all
select mi.pseudo_id, k.condition_id, null
from criterion k join medication_issue mi on mi.codelist = k.medication
where k.kind = 'prescriptions' and mi.issue_date > ${d} - ${months('k.within_months')}
group by mi.pseudo_id, k.condition_id, k.min_issues
having count(*) >= k.min_issues`,
  );
  step(
    'conditions',
    `create table patient_condition as
select h.pseudo_id, h.condition_id
from condition_hit h
left join resolved_rule r on r.condition_id = h.condition_id
left join patient_code rc on rc.pseudo_id = h.pseudo_id and rc.codelist = r.codelist
group by h.pseudo_id, h.condition_id
having not coalesce(max(rc.last_date) > max(h.dx_date), false)`,
  );
  step(
    'multimorbidity',
    `create table multimorbidity as
select e.pseudo_id, e.age, count(pc.condition_id)::int as condition_count
from eligible e left join patient_condition pc on pc.pseudo_id = e.pseudo_id
group by e.pseudo_id, e.age`,
  );
  step(
    'efi deficits',
    `create table efi_deficit as
select distinct pc.pseudo_id, x.deficit_id
from deficit x join patient_code pc on pc.codelist = x.codelist
union
select m.pseudo_id, ${lit(poly?.id ?? 'polypharmacy')}
from medications m join eligible e on e.pseudo_id = m.pseudo_id
where m.issue_date <= ${d} and m.issue_date > ${d} - ${months(poly?.distinctDrugs?.withinMonths ?? 12)}
group by m.pseudo_id
having count(distinct left(m.bnf_code, 9)) >= ${poly?.distinctDrugs?.min ?? 5}`,
  );
  step(
    'efi',
    `create table efi as
select pseudo_id, count(*)::int as deficit_count, round(count(*)::numeric / ${deficits.length}, 4) as score
from efi_deficit group by pseudo_id`,
  );
  step(
    'coded frailty',
    `create table coded_frailty as
select distinct on (pc.pseudo_id) pc.pseudo_id, f.severity
from patient_code pc join frailty_severity f on f.codelist = pc.codelist
where pc.last_date > ${d} - ${months(CODED_FRAILTY.withinMonths)}
order by pc.pseudo_id, pc.last_date desc, f.rank desc`,
  );
  step(
    'hfrs',
    `create table hfrs as
select dx.pseudo_id, sum(h.points) as score
from (
  select distinct a.pseudo_id, left(code, 3) as prefix
  from activity a
  join eligible e on e.pseudo_id = a.pseudo_id
  cross join lateral unnest(array[a.primary_diagnosis] || string_to_array(a.secondary_diagnoses, ';')) as code
  where a.start_date <= ${d} and a.start_date > ${d} - ${months(HFRS.withinMonths)}
    and code ~ ${lit(pgPattern(ICD10.source.replace(/^\^|\$$/g, '')))}
) dx join hfrs_points h on h.icd10_code = dx.prefix
group by dx.pseudo_id`,
  );
  step(
    'frailty',
    `create table frailty as
select e.pseudo_id
from eligible e
left join coded_frailty cf on cf.pseudo_id = e.pseudo_id
left join efi on efi.pseudo_id = e.pseudo_id
left join hfrs on hfrs.pseudo_id = e.pseudo_id
where e.age >= 18
  and (cf.severity in (${markers}) or efi.deficit_count >= ${efiModerateAt} or hfrs.score >= ${HFRS.markerAtLeast})`,
  );
  step(
    'counts',
    `create table peer_counts as
select (select count(*) from eligible)::int as eligible,
  (select count(*) from multimorbidity where age >= 18 and condition_count >= 5)::int as multimorbidity_5plus,
  (select count(*) from frailty)::int as frailty`,
  );
  return `${s.join('\n')}\n`;
}
