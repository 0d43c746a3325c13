-- attrition: one row per organisation (practice, PCN, place, system) per step, OHDSI
-- style: how many people each rule kept or found, from registration to each cohort. The
-- steps' order, labels and the group each one equals come from attrition_step
-- (pipeline/attrition-steps.ts), so the labels state the configured thresholds.
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
    select practice_code, 'eligible' as step_id, count(*) as patients from patient_list group by all
    union all select practice_code, 'adults', count_if(adult) from patient_list group by all
    union all select practice_code, 'multimorbidity_rule', count_if(multimorbidity_5plus) from patient_list group by all
    union all select practice_code, 'coded_frailty_rule', count_if(adult and list_contains(frailty_rules, 'coded_frailty')) from patient_list group by all
    union all select practice_code, 'efi_rule', count_if(adult and list_contains(frailty_rules, 'efi')) from patient_list group by all
    union all select practice_code, 'hfrs_rule', count_if(adult and list_contains(frailty_rules, 'hfrs')) from patient_list group by all
    union all select practice_code, 'multimorbidity', count_if(multimorbidity_5plus) from patient_list group by all
    union all select practice_code, 'frailty', count_if(frailty) from patient_list group by all
    union all select practice_code, 'high_cost', count_if(high_cost_3x) from patient_list group by all
    union all select practice_code, 'any_cohort', count_if(multimorbidity_5plus or frailty or high_cost_3x) from patient_list group by all
    union all select practice_code, 'registered', patients from registered
)
select o.level, o.level_order, o.org_code, o.org_name, a.step_order, a.step, a.same_as, sum(s.patients)::BIGINT as patients
from steps s
join attrition_step a using (step_id)
join organisation o using (practice_code)
group by all
order by o.level_order, o.org_code, a.step_order;
