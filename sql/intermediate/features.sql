-- patient_features: one row per reference date per eligible adult: the model's inputs,
-- computed by the same SQL on every reference date, so training and scoring cannot drift.
create or replace table patient_features as
with conditions as (
    select * from patient_condition_set
),
drugs as (
    select * from patient_drugs
),
history as (
    -- Two years of secondary care: one year says little about the propensity to use services
    -- of someone who uses them rarely; a second year roughly halves that uncertainty.
    select r.ref, a.pseudo_id, count(*) as prior_events_24m
    from stg_activity a
    join reference_date r on a.start_date <= r.ref_date and a.start_date > r.ref_date - to_months(24)
    group by all
)
select
    p.ref,
    p.pseudo_id,
    p.practice_code,
    p.age,
    p.age_band || ':' || p.sex as age_band_sex,
    coalesce(p.imd_decile::VARCHAR, 'unknown') as imd_decile,
    -- A double, so it reaches the model fitting as a plain number.
    coalesce(c.condition_bits, 0)::DOUBLE as condition_bits,
    coalesce(c.condition_count, 0) as condition_count,
    f.efi_score,
    f.efi_category,
    f.coded_frailty,
    f.hfrs,
    coalesce(d.distinct_drugs_12m, 0) as distinct_drugs_12m,
    a.prior_cost_12m,
    a.prior_emergency_admissions,
    a.prior_elective_admissions,
    a.prior_day_cases,
    a.prior_outpatient,
    a.prior_ae,
    coalesce(h.prior_events_24m, 0) as prior_events_24m,
    a.next_cost_12m,
    a.next_admitted
from population p
join patient_frailty f on f.ref = p.ref and f.pseudo_id = p.pseudo_id
join patient_activity a on a.ref = p.ref and a.pseudo_id = p.pseudo_id
left join conditions c on c.ref = p.ref and c.pseudo_id = p.pseudo_id
left join drugs d on d.ref = p.ref and d.pseudo_id = p.pseudo_id
left join history h on h.ref = p.ref and h.pseudo_id = p.pseudo_id
where p.adult;
