-- dashboard_*: the dashboard feeds, one table per feed (grain named on each). Read ONLY from
-- the disclosure-controlled commissioner tables (attached as `commissioner`) and from the
-- per-practice line counts of the delivery (data_quality_by_practice), never from
-- patient_list: whatever a feed shows has already passed disclosure control. Rates and
-- shares are worked out from the published (rounded) figures, so they reveal nothing the
-- published counts do not; they are NULL wherever either count is suppressed.
create or replace table dashboard_cohorts_by_org as
-- One row per organisation per group (each cohort, any cohort, the exclusive combinations,
-- no cohort, all adults).
with summary as (
    select * from commissioner.cohort_summary
),
adults as (
    select level, org_code, patients as adults
    from summary
    where group_type = 'all'
)
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    s.level, s.level_order, s.org_code, s.org_name, s.pcn_code, s.place,
    s.group_type, s.cohort, s.group_order,
    s.patients, s.observed_cost_12m, s.predicted_cost_12m, s.suppressed,
    (case when a.adults > 0 then s.patients * 1000 / a.adults end)::double as patients_per_1000_adults
from summary s
left join adults a using (level, org_code)
order by s.level_order, s.org_code, s.group_order;

create or replace table dashboard_tier_pyramid as
-- One row per organisation per risk tier (very high first).
with tiers as (
    select * from commissioner.tier_summary
),
adults as (
    select level, org_code, patients as adults, predicted_cost_12m as adults_predicted_cost
    from tiers
    where group_type = 'all'
)
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    t.level, t.level_order, t.org_code, t.org_name,
    t.tier, row_number() over (partition by t.level, t.org_code order by t.group_order)::integer as tier_order,
    t.patients, t.observed_cost_12m, t.predicted_cost_12m, t.suppressed,
    (case when a.adults > 0 then t.patients / a.adults end)::double as share_of_adults,
    (case when a.adults_predicted_cost > 0 then t.predicted_cost_12m / a.adults_predicted_cost end)::double as share_of_predicted_cost
from tiers t
left join adults a using (level, org_code)
where t.group_type = 'tier'
order by t.level_order, t.org_code, tier_order;

create or replace table dashboard_age_sex_pyramid as
-- One row per organisation per cohort (and all adults) per age band per sex.
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    level, level_order, org_code, org_name, group_type, cohort, group_order, age_band, sex,
    patients, observed_cost_12m, predicted_cost_12m, suppressed
from commissioner.cohort_by_age_sex
where group_type in ('cohort', 'all')
order by level_order, org_code, group_order, age_band, sex;

create or replace table dashboard_deprivation_gradient as
-- One row per organisation per cohort (and all adults) per deprivation quintile.
with quintiles as (
    select * from commissioner.cohort_by_deprivation
    where group_type in ('cohort', 'all')
),
adults as (
    select level, org_code, imd_quintile, patients as adults
    from quintiles
    where group_type = 'all'
)
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    q.level, q.level_order, q.org_code, q.org_name, q.group_type, q.cohort, q.group_order, q.imd_quintile,
    q.patients, q.observed_cost_12m, q.predicted_cost_12m, q.suppressed,
    (case when a.adults > 0 then q.patients * 1000 / a.adults end)::double as patients_per_1000_adults
from quintiles q
left join adults a using (level, org_code, imd_quintile)
order by q.level_order, q.org_code, q.group_order, q.imd_quintile;

create or replace table dashboard_attrition as
-- One row per organisation per step of the cohort definitions.
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    level, level_order, org_code, org_name, step_order, step, patients, suppressed
from commissioner.attrition
order by level_order, org_code, step_order;

create or replace table dashboard_service_need as
-- One row per PCN, place and system per service.
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    level, level_order, org_code, org_name, pcn_code, place, service, service_order, cohorts,
    cohort_patients, share_needing, people_needing, caseload_per_wte, wte, suppressed
from commissioner.service_need
order by level_order, org_code, service_order;

create or replace table dashboard_data_quality_by_practice as
-- One row per practice in the delivery: lines of its files, not people.
with practice as (
    select distinct org_code as practice_code, org_name as practice_name, pcn_code, place
    from commissioner.cohort_summary
    where level = 'practice'
)
select
    getvariable('feed_schema_version')::integer as schema_version,
    getvariable('feed_run_id')::varchar as run_id,
    getvariable('feed_as_of')::date as as_of,
    l.practice_code, p.practice_name, p.pcn_code, p.place, l.status,
    l.lines, l.loaded, l.rejected, l.dropped, l.kept,
    (case when l.lines > 0 then (l.lines - l.kept) / l.lines end)::double as share_not_kept
from data_quality_by_practice l
left join practice p using (practice_code)
order by l.practice_code;
