-- cohort_group: one row per adult per group the adult belongs to (a view, with the
-- set-based tables it is made of). The groups are data (cohort_group_definition): each cohort, any cohort, the seven exclusive combinations and
-- 'no cohort' (exactly one per adult, so their costs never count a pound twice), each tier
-- (exactly one per adult) and all adults. A NULL in a definition means "either".
create or replace table cohort_group_definition as
select * from (values
    ('cohort',      1,  'multimorbidity',                        true,  null,  null,  null,  null),
    ('cohort',      2,  'frailty',                               null,  true,  null,  null,  null),
    ('cohort',      3,  'high cost',                             null,  null,  true,  null,  null),
    ('cohort',      4,  'any cohort',                            null,  null,  null,  true,  null),
    ('combination', 5,  'multimorbidity only',                   true,  false, false, null,  null),
    ('combination', 6,  'frailty only',                          false, true,  false, null,  null),
    ('combination', 7,  'high cost only',                        false, false, true,  null,  null),
    ('combination', 8,  'multimorbidity + frailty',              true,  true,  false, null,  null),
    ('combination', 9,  'multimorbidity + high cost',            true,  false, true,  null,  null),
    ('combination', 10, 'frailty + high cost',                   false, true,  true,  null,  null),
    ('combination', 11, 'multimorbidity + frailty + high cost',  true,  true,  true,  null,  null),
    ('combination', 12, 'no cohort',                             false, false, false, null,  null),
    ('tier',        13, 'very high',                             null,  null,  null,  null,  'very high'),
    ('tier',        14, 'high',                                  null,  null,  null,  null,  'high'),
    ('tier',        15, 'moderate',                              null,  null,  null,  null,  'moderate'),
    ('tier',        16, 'low',                                   null,  null,  null,  null,  'low'),
    ('all',         17, 'all adults',                            null,  null,  null,  null,  null)
) t(group_type, group_order, cohort, multimorbidity, frailty, high_cost, any_cohort, tier);

create or replace table cohort_profile_group as
-- One row per profile (the three cohort flags and the tier) per group it is in. Every adult
-- has exactly one profile, so an equality join gives each adult its groups.
with flag as (
    select * from (values (true), (false)) t(x)
),
profile as (
    select m.x as multimorbidity, f.x as frailty, h.x as high_cost, t.tier
    from flag m, flag f, flag h,
        -- 'not available': no tiers in a run without models; such adults are in no tier group.
        (select distinct tier from cohort_group_definition where tier is not null union all select 'not available') t
)
select p.multimorbidity, p.frailty, p.high_cost, p.tier, d.group_type, d.group_order, d.cohort
from profile p
join cohort_group_definition d
  on (d.multimorbidity is null or d.multimorbidity = p.multimorbidity)
 and (d.frailty is null or d.frailty = p.frailty)
 and (d.high_cost is null or d.high_cost = p.high_cost)
 and (d.any_cohort is null or d.any_cohort = (p.multimorbidity or p.frailty or p.high_cost))
 and (d.tier is null or d.tier = p.tier);

create or replace view cohort_adult as
-- One row per adult with the profile that places it in groups. A missing flag (no
-- prediction: no models in this run) counts as not in that cohort.
select
    pseudo_id,
    practice_code,
    age_band,
    sex,
    coalesce(imd_quintile::VARCHAR, 'unknown') as imd_quintile,
    coalesce(multimorbidity_5plus, false) as multimorbidity,
    coalesce(frailty, false) as frailty,
    coalesce(high_cost_3x, false) as high_cost,
    coalesce(tier, 'not available') as tier,
    observed_cost_12m,
    predicted_cost_12m
from patient_list
where adult;

create or replace view cohort_group as
-- One row per adult per group it belongs to.
select
    a.pseudo_id,
    a.practice_code,
    g.group_type,
    g.group_order,
    g.cohort,
    a.age_band,
    a.sex,
    a.imd_quintile,
    a.observed_cost_12m,
    a.predicted_cost_12m
from cohort_adult a
join cohort_profile_group g using (multimorbidity, frailty, high_cost, tier);
