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

-- patient_record: one row per reference date per eligible patient of any age: the clinical
-- record on that date, and every secondary-care event of the year after it where the delivery
-- covers that whole year. It is what the experience rating's first stage learns from and
-- applies, year by year: today's adults were children at some of the earlier dates.
create or replace table patient_record as
select
    p.ref,
    p.pseudo_id,
    p.patient_key,
    p.practice_code,
    p.age,
    p.adult,
    p.age_band || ':' || p.sex as age_band_sex,
    p.imd_decile,
    -- A double, so it reaches the model fitting as a plain number.
    coalesce(c.condition_bits, 0)::DOUBLE as condition_bits,
    coalesce(c.condition_count, 0) as condition_count,
    f.efi_score,
    f.efi_category,
    f.coded_frailty,
    f.hfrs,
    coalesce(d.distinct_drugs_12m, 0) as distinct_drugs_12m,
    case
        when (r.ref_date + to_months(12))::DATE <= getvariable('extract_date')
         and r.ref_date >= (select coverage_start from activity_coverage) - interval 1 day
            then coalesce(n.next_events, 0)
    end as next_events
from population p
join reference_date r using (ref)
join patient_frailty f on f.ref = p.ref and f.patient_key = p.patient_key
left join patient_condition_set c on c.ref = p.ref and c.patient_key = p.patient_key
left join patient_drugs d on d.ref = p.ref and d.patient_key = p.patient_key
left join patient_next_year n on n.ref = p.ref and n.patient_key = p.patient_key;

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
    x.* exclude (adult, next_events),
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
