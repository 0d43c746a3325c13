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
    select coalesce(d.ref, i.ref) as ref, coalesce(d.pseudo_id, i.pseudo_id) as pseudo_id, cr.condition_id
    from rules cr
    left join diagnosis_dates d on d.condition_id = cr.condition_id and d.criterion_no = cr.criterion_no
    left join issue_counts i
        on i.condition_id = cr.condition_id and i.criterion_no = cr.criterion_no
       and (d.pseudo_id is null or (i.pseudo_id = d.pseudo_id and i.ref = d.ref))
    where case cr.kind
        when 'diagnosis' then d.in_window > 0 and d.first_in_window
        when 'treated' then d.pseudo_id is not null and i.issues >= 1
        when 'prescriptions' then i.issues >= cr.min_issues
    end
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
