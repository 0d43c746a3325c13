-- published_service_need: one row per PCN, place and system per service: the caseload the
-- service faces, from the PUBLISHED (suppressed and rounded) counts of the groups it responds
-- to and the configured ratios (service_ratio). Nothing here reads an exact figure, so it shows
-- nothing the published counts do not; where any of its groups is suppressed, so is the need.
create or replace table published_service_need as
with organisation as (
    select distinct level, level_order, org_code, org_name, pcn_code, place
    from published_group_cell
    where breakdown = 'all' and level in ('pcn', 'place', 'system')
),
published as (
    select level, org_code, cohort, patients, suppressed
    from published_group_cell
    where breakdown = 'all' and level in ('pcn', 'place', 'system')
      -- A run without models has no tiers and no high cost cohort: their rows count no one, and
      -- a service responding to them is left without an estimate rather than given none.
      and (getvariable('models_available') or (group_type <> 'tier' and cohort <> 'high cost'))
),
services as (
    select
        service_order,
        service,
        string_agg(cohort, ' + ' order by cohort) as cohorts,
        count(*) as groups_named,
        any_value(share_needing) as share_needing,
        any_value(caseload_per_wte) as caseload_per_wte
    from service_ratio
    group by all
),
responding as (
    select
        p.level, p.org_code, r.service_order,
        sum(p.patients) as cohort_patients,
        bool_or(p.suppressed) as suppressed,
        count(*) as groups_published
    from published p
    join service_ratio r using (cohort)
    group by all
),
need as (
    -- Every organisation and service, with or without published groups behind it.
    select
        o.level, o.level_order, o.org_code, o.org_name, o.pcn_code, o.place,
        s.service_order, s.service, s.cohorts, s.share_needing, s.caseload_per_wte,
        g.cohort_patients,
        coalesce(g.suppressed, false) as suppressed,
        -- A group missing from the tables leaves no estimate.
        not coalesce(g.suppressed, false) and coalesce(g.groups_published, 0) = s.groups_named as shown
    from organisation o
    cross join services s
    left join responding g
      on g.level = o.level and g.org_code = o.org_code and g.service_order = s.service_order
)
select
    level,
    org_code,
    org_name,
    pcn_code,
    place,
    service,
    cohorts,
    case when shown then cohort_patients end::BIGINT as cohort_patients,
    share_needing,
    case when shown then round(cohort_patients * share_needing) end::BIGINT as people_needing,
    caseload_per_wte,
    case when shown then round(cohort_patients * share_needing / caseload_per_wte, 1) end as wte,
    suppressed,
    level_order,
    service_order
from need
order by level_order, org_code, service_order;
