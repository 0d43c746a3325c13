-- published_service_need: one row per PCN, place and system per service: the caseload the
-- service faces, from the PUBLISHED (suppressed and rounded) counts of the groups it responds
-- to and the configured ratios (service_ratio). Nothing here reads an exact figure, so it shows
-- nothing the published counts do not; where any of its groups is suppressed, so is the need.
create or replace table published_service_need as
with published as (
    select level, level_order, org_code, org_name, pcn_code, place, cohort, patients, suppressed
    from published_group_cell
    where breakdown = 'all' and level in ('pcn', 'place', 'system')
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
        p.level, p.level_order, p.org_code, p.org_name, p.pcn_code, p.place, r.service_order,
        sum(p.patients) as cohort_patients,
        bool_or(p.suppressed) as suppressed,
        count(*) as groups_published
    from published p
    join service_ratio r using (cohort)
    group by all
),
need as (
    select
        g.level, g.level_order, g.org_code, g.org_name, g.pcn_code, g.place, g.cohort_patients, g.suppressed,
        s.service_order,
        s.service,
        s.cohorts,
        s.share_needing,
        s.caseload_per_wte,
        -- A group missing from the tables (no tiers in a run without models) leaves no estimate.
        not g.suppressed and g.groups_published = s.groups_named as shown
    from responding g
    join services s on s.service_order = g.service_order
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
