-- commissioner_cell: one row per level per organisation per group per breakdown cell,
-- exact and unrounded. It stays in the work database: only its disclosure-controlled form
-- is published. Every combination is present (zeros included), so every published table
-- is complete and each additive set has all its parts; practices have no breakdown cells.
create or replace table commissioner_cell as
with adult_cells as (
    -- Adults counted by practice and profile first: a few rows per practice, not per person.
    select
        practice_code,
        multimorbidity,
        frailty,
        high_cost,
        tier,
        age_band,
        sex,
        imd_quintile,
        count(*) as patients,
        sum(observed_cost_12m::DECIMAL(18, 2)) as observed_cost_12m,
        sum(predicted_cost_12m::DECIMAL(18, 2)) as predicted_cost_12m
    from cohort_adult
    group by all
),
practice_cells as (
    -- Every other level is a sum of these.
    select
        a.practice_code,
        g.group_order,
        a.age_band,
        a.sex,
        a.imd_quintile,
        sum(a.patients) as patients,
        sum(a.observed_cost_12m) as observed_cost_12m,
        sum(a.predicted_cost_12m) as predicted_cost_12m
    from adult_cells a
    join cohort_profile_group g using (multimorbidity, frailty, high_cost, tier)
    group by all
),
rolled_up as (
    select
        o.level,
        o.org_code,
        c.group_order,
        case
            when grouping(c.age_band, c.sex) = 0 then 'age_sex'
            when grouping(c.imd_quintile) = 0 then 'deprivation'
            else 'all'
        end as breakdown,
        c.age_band,
        c.sex,
        c.imd_quintile,
        sum(c.patients) as patients,
        sum(c.observed_cost_12m) as observed_cost_12m,
        sum(c.predicted_cost_12m) as predicted_cost_12m
    from practice_cells c
    join organisation o using (practice_code)
    group by grouping sets (
        (o.level, o.org_code, c.group_order),
        (o.level, o.org_code, c.group_order, c.age_band, c.sex),
        (o.level, o.org_code, c.group_order, c.imd_quintile)
    )
),
organisations as (
    -- Each organisation with the PCN and place it sits in (when it sits in exactly one), for filtering.
    select
        o.level,
        o.level_order,
        o.org_code,
        o.org_name,
        -- Small integer keys, so the cells leave the database as numbers rather than text.
        dense_rank() over (order by o.level_order, o.org_code) as org_no,
        case when o.level_order <= 2 and count(distinct pcn.org_code) = 1 then min(pcn.org_code) end as pcn_code,
        case when o.level_order <= 3 and count(distinct place.org_code) = 1 then min(place.org_code) end as place
    from organisation o
    join organisation pcn on pcn.practice_code = o.practice_code and pcn.level = 'pcn'
    join organisation place on place.practice_code = o.practice_code and place.level = 'place'
    group by o.level, o.level_order, o.org_code, o.org_name
),
adult_bands as (
    select distinct age_band, sex from adult_cells
),
breakdown_cells as (
    select *, row_number() over (order by breakdown_order, age_band, sex, imd_quintile) as breakdown_no
    from (
        select 'all' as breakdown, 0 as breakdown_order, null::VARCHAR as age_band, null::VARCHAR as sex, null::VARCHAR as imd_quintile
        union all
        select 'age_sex', 1, a.age_band, s.sex, null
        from (select distinct age_band from adult_bands) a cross join (select distinct sex from adult_bands) s
        union all
        select 'deprivation', 2, null, null, q
        from unnest(['1', '2', '3', '4', '5', 'unknown']) t(q)
    )
),
every_cell as (
    -- Age-sex and deprivation breakdowns go down to PCN, not to practice: a practice's
    -- breakdown cells are so small that its zeros alone say which cohort and tier whole
    -- age bands of its patients are in.
    select o.*, d.group_type, d.group_order, d.cohort, b.*
    from organisations o
    cross join cohort_group_definition d
    cross join breakdown_cells b
    where b.breakdown = 'all' or o.level <> 'practice'
)
select
    row_number() over (
        order by e.level_order, e.org_code, e.group_order, e.breakdown_order, e.age_band, e.sex, e.imd_quintile
    )::INTEGER as cell_no,
    e.org_no::INTEGER as org_no,
    e.breakdown_no::INTEGER as breakdown_no,
    e.level,
    e.level_order,
    e.org_code,
    e.org_name,
    e.pcn_code,
    e.place,
    e.group_type,
    e.group_order,
    e.cohort,
    e.breakdown,
    e.breakdown_order,
    e.age_band,
    e.sex,
    e.imd_quintile,
    coalesce(r.patients, 0)::BIGINT as patients,
    coalesce(r.observed_cost_12m, 0)::DOUBLE as observed_cost_12m,
    coalesce(r.predicted_cost_12m, 0)::DOUBLE as predicted_cost_12m
from every_cell e
left join rolled_up r
  on r.level = e.level
 and r.org_code = e.org_code
 and r.group_order = e.group_order
 and r.breakdown = e.breakdown
 and r.age_band is not distinct from e.age_band
 and r.sex is not distinct from e.sex
 and r.imd_quintile is not distinct from e.imd_quintile;
