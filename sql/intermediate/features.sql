-- history_window: each model reference date looks back over the configured months, or as far
-- as the delivery reaches: the backtest's date has less history than today, and the model is
-- told. (greatest ignores the null start of a delivery without activity.)
create or replace table history_window as
select
    r.ref,
    r.ref_date,
    greatest(r.ref_date - to_months(getvariable('experience_months')), c.coverage_start - interval 1 day)::DATE
        as history_start
from reference_date r, activity_coverage c
where r.years_back <= 2;

-- patient_next_events: every secondary-care event of the year after each reference date, per
-- patient, on the dates whose whole following year the delivery covers: what the experience
-- rating's first stage learns from (see patient_record, in frailty.sql).
create or replace table patient_next_events as
with next_days as (
    -- The days of the year after each date: activity meets them by a hash join.
    select ref, unnest(generate_series(ref_date + 1, (ref_date + to_months(12))::DATE, interval 1 day))::DATE as day
    from reference_date
    where next_year_known
)
select w.ref, a.patient_key, count(*) as next_events
from stg_activity a
join next_days w on w.day = a.start_date
group by all;

-- patient_features: one row per model reference date (today, a year back, two years back) per
-- eligible adult: the models' inputs, computed by the same SQL on every date, so training and
-- scoring cannot drift.
create or replace table patient_features as
with history_days as (
    select ref, unnest(generate_series(history_start + 1, ref_date, interval 1 day))::DATE as day
    from history_window
),
history as (
    select w.ref, a.patient_key, count(*) as history_events
    from stg_activity a
    join history_days w on w.day = a.start_date
    group by all
)
select
    x.* exclude (adult, efi_deficits, frailty_rules, frailty),
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
from patient_record x
join patient_activity a on a.ref = x.ref and a.patient_key = x.patient_key
join history_window w on w.ref = x.ref
left join history h on h.ref = x.ref and h.patient_key = x.patient_key
where x.adult;
