-- patient_care_context: one row per eligible patient on the as-of date: the coded care
-- contexts that mark them (ids from pipeline/care-context.ts, which names each rule and its
-- publication) and whether an emergency admission ended in the recent-discharge window.
create or replace table patient_care_context as
with population_now as (
    select patient_key from population where ref = 'current'
),
marks as (
    -- One pass over the listed codes for every care context: marking codes from the rule's
    -- start and within its window, ending codes from any date, nothing after the as-of date.
    select o.patient_key, r.context_id, o.recorded_date, r.ends
    from listed_observation o
    join care_context_rule r on r.codelist = o.codelist
    where o.recorded_date <= getvariable('as_of')
      and (r.ends or r.since is null or o.recorded_date >= r.since::DATE)
      and (r.ends or r.within_months is null or o.recorded_date > getvariable('as_of') - to_months(r.within_months))
),
latest as (
    -- The latest code decides; on the same day a marking code outranks an ending one, since
    -- an ending code must come after the marking code to end it.
    select patient_key, context_id, arg_max(not ends, (recorded_date, not ends)) as marked
    from marks
    group by all
),
marked as (
    select patient_key, list_sort(list(context_id)) as care_contexts
    from latest
    where marked
    group by all
),
discharged as (
    select distinct a.patient_key
    from stg_activity a
    where list_contains(getvariable('recent_discharge_settings'), a.setting)
      and a.end_date <= getvariable('as_of')
      and a.end_date > getvariable('as_of') - getvariable('recent_discharge_days')::INTEGER
)
select
    p.patient_key,
    coalesce(m.care_contexts, []::VARCHAR[]) as care_contexts,
    d.patient_key is not null as recently_discharged
from population_now p
left join marked m using (patient_key)
left join discharged d using (patient_key);
