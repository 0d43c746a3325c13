-- patient_list: one row per eligible patient on the as-of date; the single source of every
-- output. Cohorts are for adults; the reasons behind each flag travel with it.
create or replace table patient_list as
with population_now as (
    select * from population where ref = 'current'
),
conditions as (
    -- Listed from the bit set (bit k is condition k in declaration order), in id order.
    select
        patient_key,
        list_sort(list_filter(getvariable('condition_ids'), (id, k) -> (condition_bits >> (k - 1)) & 1 = 1)) as conditions,
        condition_count
    from patient_condition_set
    where ref = 'current'
),
frailty as (
    select * from patient_frailty where ref = 'current'
),
activity as (
    select * from patient_activity where ref = 'current'
),
predictions as (
    select
        *,
        -- Exact decimals, so the mean (and the 3x threshold) is the same whatever order threads add in.
        (sum(predicted_cost_12m::DECIMAL(38, 8)) over () / count(*) over ())::DOUBLE as mean_predicted_cost,
        row_number() over (order by predicted_cost_12m desc, pseudo_id) as risk_rank,
        count(*) over () as ranked_adults
    from patient_prediction
)
select
    p.pseudo_id,
    p.practice_code,
    pr.pcn_code,
    pr.place,
    p.age,
    p.age_band,
    p.sex,
    p.adult,
    p.imd_decile,
    case when p.imd_decile is null then null else (p.imd_decile + 1) // 2 end as imd_quintile,
    coalesce(c.conditions, []::VARCHAR[]) as conditions,
    coalesce(c.condition_count, 0) as condition_count,
    p.adult and coalesce(c.condition_count, 0) >= getvariable('multimorbidity_min') as multimorbidity_5plus,
    f.efi_deficits,
    f.efi_score,
    f.efi_category,
    f.coded_frailty,
    f.hfrs,
    f.frailty_rules,
    p.adult and f.frailty as frailty,
    x.predicted_cost_12m,
    x.admission_probability_12m,
    p.adult and x.predicted_cost_12m >= getvariable('high_cost_multiple') * x.mean_predicted_cost as high_cost_3x,
    x.risk_rank,
    -- No rank: no models in this run (too little outcome data), so no tier either.
    case when p.adult and x.risk_rank is not null then risk_tier(x.risk_rank, x.ranked_adults) end as tier,
    a.prior_cost_12m as observed_cost_12m,
    a.prior_emergency_admissions as emergency_admissions_12m,
    cc.care_contexts,
    cc.recently_discharged
from population_now p
join stg_practice pr using (practice_code)
join frailty f using (patient_key)
join activity a using (patient_key)
join patient_care_context cc using (patient_key)
left join conditions c using (patient_key)
left join predictions x using (pseudo_id);
