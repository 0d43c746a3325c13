-- attrition: one row per organisation (practice, PCN, place, system) per step, OHDSI
-- style: how many people each rule kept or found, from registration to each cohort.
create or replace table attrition as
with registered as (
    -- Registered at the practice on the as-of date, alive or not.
    select r.practice_code, count(distinct r.pseudo_id) as patients
    from stg_registration r
    join stg_practice using (practice_code)
    where r.registered_from <= getvariable('as_of')
      and (r.registered_to is null or r.registered_to > getvariable('as_of'))
    group by all
),
steps as (
    select practice_code, 2 as step_order, 'eligible (registered and alive)' as step, count(*) as patients from patient_list group by all
    union all select practice_code, 3, 'adults', count_if(adult) from patient_list group by all
    union all select practice_code, 4, 'rule: 5+ chronic conditions (adults)', count_if(multimorbidity_5plus) from patient_list group by all
    union all select practice_code, 5, 'rule: coded frailty moderate or severe (adults)', count_if(adult and list_contains(frailty_rules, 'coded_frailty')) from patient_list group by all
    union all select practice_code, 6, 'rule: eFI-style moderate or severe (adults)', count_if(adult and list_contains(frailty_rules, 'efi')) from patient_list group by all
    union all select practice_code, 7, 'rule: HFRS 5 or more (adults)', count_if(adult and list_contains(frailty_rules, 'hfrs')) from patient_list group by all
    union all select practice_code, 8, 'cohort: multimorbidity (5+ conditions)', count_if(multimorbidity_5plus) from patient_list group by all
    union all select practice_code, 9, 'cohort: frailty', count_if(frailty) from patient_list group by all
    union all select practice_code, 10, 'cohort: predicted high cost (3x mean)', count_if(high_cost_3x) from patient_list group by all
    union all select practice_code, 11, 'any cohort', count_if(multimorbidity_5plus or frailty or high_cost_3x) from patient_list group by all
    union all select practice_code, 1, 'registered on the as-of date', patients from registered
)
select o.level, o.level_order, o.org_code, o.org_name, s.step_order, s.step, sum(s.patients)::BIGINT as patients
from steps s
join organisation o using (practice_code)
group by all
order by o.level_order, o.org_code, s.step_order;
