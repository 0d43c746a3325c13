-- patient_next_year: every reference date's year after, per patient: the models' outcomes,
-- and the event counts the experience rating's first stage learns from (patient_record).
create or replace table patient_next_year as
select
    w.ref,
    a.patient_key,
    sum(a.cost_gbp::DECIMAL(18, 2))::DOUBLE as next_cost_12m,
    count_if(a.setting = 'APC_NEL') > 0 as next_admitted,
    count(*) as next_events
from stg_activity a
join days_after(12) w on w.day = a.start_date
group by all;

-- patient_activity: one row per reference date per eligible patient: secondary-care cost
-- and activity in the 12 months up to the date (features) and in the 12 months after it
-- (the outcome, known only for the earlier reference dates).
create or replace table patient_activity as
with activity as (
    select patient_key, setting, start_date, cost_gbp from stg_activity
),
windows as (
    -- The dates the models are fitted, backtested and applied on (the earlier ones hold only
    -- the clinical record: patient_record).
    select
        ref,
        ref_date,
        (ref_date + to_months(12))::DATE as next_end
    from reference_date
    where years_back <= 2
),
prior_year as (
    select
        w.ref,
        a.patient_key,
        sum(a.cost_gbp::DECIMAL(18, 2))::DOUBLE as prior_cost_12m,
        count_if(a.setting = 'APC_NEL') as prior_emergency_admissions,
        count_if(a.setting = 'APC_EL') as prior_elective_admissions,
        count_if(a.setting = 'APC_DC') as prior_day_cases,
        count_if(a.setting = 'OP') as prior_outpatient,
        count_if(a.setting = 'AE') as prior_ae,
        sum(a.cost_gbp::DECIMAL(18, 2)) filter (where a.setting = 'APC_NEL')::DOUBLE as prior_emergency_cost
    from activity a
    join days_before(12) w on w.day = a.start_date and w.years_back <= 2
    group by all
)
select
    p.ref,
    p.patient_key,
    coalesce(y.prior_cost_12m, 0) as prior_cost_12m,
    coalesce(y.prior_emergency_admissions, 0) as prior_emergency_admissions,
    coalesce(y.prior_elective_admissions, 0) as prior_elective_admissions,
    coalesce(y.prior_day_cases, 0) as prior_day_cases,
    coalesce(y.prior_outpatient, 0) as prior_outpatient,
    coalesce(y.prior_ae, 0) as prior_ae,
    coalesce(y.prior_emergency_cost, 0) as prior_emergency_cost,
    -- The outcome exists only where a full year follows the date within the extract.
    case when w.next_end <= getvariable('extract_date') then coalesce(n.next_cost_12m, 0) end as next_cost_12m,
    case when w.next_end <= getvariable('extract_date') then coalesce(n.next_admitted, false) end as next_admitted
from population p
join windows w using (ref)
left join prior_year y on y.ref = p.ref and y.patient_key = p.patient_key
left join patient_next_year n on n.ref = p.ref and n.patient_key = p.patient_key;
