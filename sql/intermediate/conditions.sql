-- patient_condition: one row per reference date per eligible patient per chronic
-- condition present, evaluated generically from the declared rules in condition_rule.
create or replace table patient_condition as
with rules as (
    select * from condition_rule
),
refs as (
    select * from reference_date
),
diagnosis_dates as (
    -- Per criterion that names a diagnosis codelist: the patient's codes on or before the date.
    select
        r.ref,
        o.pseudo_id,
        cr.condition_id,
        cr.criterion_no,
        min(o.recorded_date) as first_date,
        max(o.recorded_date) as last_date,
        count_if(cr.within_months is null or o.recorded_date > r.ref_date - to_months(cr.within_months)) as in_window,
        bool_and(cr.first_within_months is null) or min(o.recorded_date) > any_value(r.ref_date - to_months(cr.first_within_months)) as first_in_window
    from listed_observation o
    join rules cr on cr.codelist = o.codelist
    join refs r on o.recorded_date <= r.ref_date
    group by all
),
issue_counts as (
    -- Per criterion that names a medication list: issues within its window.
    select r.ref, m.pseudo_id, cr.condition_id, cr.criterion_no, count(*) as issues
    from listed_medication m
    join rules cr on cr.medication = m.codelist
    join refs r on m.issue_date <= r.ref_date and m.issue_date > r.ref_date - to_months(cr.within_months)
    group by all
),
criteria_met as (
    -- One branch per rule kind, so every join is on keys.
    select d.ref, d.pseudo_id, d.condition_id
    from diagnosis_dates d
    join rules cr using (condition_id, criterion_no)
    where cr.kind = 'diagnosis' and d.in_window > 0 and d.first_in_window
    union all
    select d.ref, d.pseudo_id, d.condition_id
    from diagnosis_dates d
    join rules cr using (condition_id, criterion_no)
    join issue_counts i using (ref, pseudo_id, condition_id, criterion_no)
    where cr.kind = 'treated' and i.issues >= 1
    union all
    select i.ref, i.pseudo_id, i.condition_id
    from issue_counts i
    join rules cr using (condition_id, criterion_no)
    where cr.kind = 'prescriptions' and i.issues >= cr.min_issues
),
last_diagnosis as (
    select ref, pseudo_id, condition_id, max(last_date) as last_date
    from diagnosis_dates
    group by all
),
last_resolved as (
    select r.ref, o.pseudo_id, cr.condition_id, max(o.recorded_date) as resolved_date
    from listed_observation o
    join (select distinct condition_id, resolved_codelist from rules where resolved_codelist is not null) cr
        on cr.resolved_codelist = o.codelist
    join refs r on o.recorded_date <= r.ref_date
    group by all
)
select distinct m.ref, m.pseudo_id, m.condition_id
from criteria_met m
join population p on p.ref = m.ref and p.pseudo_id = m.pseudo_id
left join last_diagnosis d on d.ref = m.ref and d.pseudo_id = m.pseudo_id and d.condition_id = m.condition_id
left join last_resolved x on x.ref = m.ref and x.pseudo_id = m.pseudo_id and x.condition_id = m.condition_id
-- A resolved code later than the latest diagnosis ends the condition.
where x.resolved_date is null or d.last_date is null or x.resolved_date <= d.last_date;

-- patient_condition_set: each patient's conditions on each reference date as one number (bit k
-- is condition k in declaration order) and a count, for the features and the patient list. A sum
-- spills to disk when memory is short, where a list of strings per patient cannot.
create or replace table patient_condition_set as
select
    ref,
    pseudo_id,
    sum(1::BIGINT << (list_position(getvariable('condition_ids'), condition_id) - 1))::BIGINT as condition_bits,
    count(*) as condition_count
from patient_condition
group by all;
