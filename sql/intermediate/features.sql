-- patient_features: one row per reference date per eligible adult: the model's inputs,
-- computed by the same SQL on every reference date, so training and scoring cannot drift.
create or replace table patient_features as
with conditions as (
    select * from patient_condition_set
),
drugs as (
    select * from patient_drugs
),
monthly as materialized (
    select date_trunc('month', start_date) as month, count(*) as events from stg_activity group by 1
),
coverage as (
    -- Where the delivery's secondary care begins: the first month with at least a quarter of a
    -- typical month's activity, so a stray early record does not stretch everyone's history.
    select min(month) as coverage_start
    from monthly
    where events >= 0.25 * (select median(events) from monthly)
),
history_window as (
    -- Each reference date looks back over the configured months, or as far as the delivery
    -- reaches: the backtest's earliest date has less history than today, and the model is told.
    -- (greatest ignores the null start of a delivery without activity.)
    select
        r.ref,
        r.ref_date,
        greatest(r.ref_date - to_months(getvariable('experience_months')), c.coverage_start - interval 1 day)::DATE
            as history_start
    from reference_date r, coverage c
),
history as (
    select w.ref, a.patient_key, count(*) as history_events
    from stg_activity a
    join history_window w on a.start_date <= w.ref_date and a.start_date > w.history_start
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
    coalesce(h.history_events, 0) as history_events,
    greatest(date_diff('day', w.history_start, w.ref_date), 1) / 365.25 as history_years,
    a.next_cost_12m,
    a.next_admitted
from population p
join patient_frailty f on f.ref = p.ref and f.patient_key = p.patient_key
join patient_activity a on a.ref = p.ref and a.patient_key = p.patient_key
left join conditions c on c.ref = p.ref and c.patient_key = p.patient_key
left join drugs d on d.ref = p.ref and d.patient_key = p.patient_key
left join history h on h.ref = p.ref and h.patient_key = p.patient_key
join history_window w on w.ref = p.ref
where p.adult;
