-- patient_condition: one row per reference date per eligible patient per chronic
-- condition present, evaluated generically from the declared rules in condition_rule.
create or replace table patient_condition as
with rules as (
    -- rule_no and condition_no: small integers per criterion and per condition, so the large
    -- groupings below key on numbers.
    select
        *,
        (row_number() over (order by condition_id, criterion_no))::SMALLINT as rule_no,
        (dense_rank() over (order by condition_id))::SMALLINT as condition_no
    from condition_rule
),
refs as (
    select * from reference_date
),
diagnosis_codes as materialized (
    -- The codes each criterion names, before they meet the reference dates: most listed codes
    -- belong to no condition (the eFI-style deficits share the table), so this comes first.
    select o.patient_key, o.recorded_date, cr.rule_no, cr.within_months, cr.first_within_months
    from listed_observation o
    join rules cr on cr.codelist = o.codelist
),
diagnosis_dates as (
    -- Per criterion that names a diagnosis codelist: the patient's codes on or before the date.
    select
        r.ref,
        d.patient_key,
        d.rule_no,
        max(d.recorded_date) as last_date,
        count_if(d.within_months is null or d.recorded_date > r.ref_date - to_months(d.within_months)) as in_window,
        bool_and(d.first_within_months is null) or min(d.recorded_date) > any_value(r.ref_date - to_months(d.first_within_months)) as first_in_window
    from diagnosis_codes d
    join refs r on d.recorded_date <= r.ref_date
    group by all
),
issue_dates as materialized (
    select m.patient_key, m.issue_date, cr.rule_no, cr.within_months
    from listed_medication m
    join rules cr on cr.medication = m.codelist
),
issue_counts as (
    -- Per criterion that names a medication list: issues within its window.
    select r.ref, i.patient_key, i.rule_no, count(*) as issues
    from issue_dates i
    join refs r on i.issue_date <= r.ref_date and i.issue_date > r.ref_date - to_months(i.within_months)
    group by all
),
criteria_met as (
    -- One branch per rule kind, so every join is on keys.
    select d.ref, d.patient_key, cr.condition_no
    from diagnosis_dates d
    join rules cr using (rule_no)
    where cr.kind = 'diagnosis' and d.in_window > 0 and d.first_in_window
    union
    select d.ref, d.patient_key, cr.condition_no
    from diagnosis_dates d
    join rules cr using (rule_no)
    join issue_counts i using (ref, patient_key, rule_no)
    where cr.kind = 'treated' and i.issues >= 1
    union
    select i.ref, i.patient_key, cr.condition_no
    from issue_counts i
    join rules cr using (rule_no)
    where cr.kind = 'prescriptions' and i.issues >= cr.min_issues
),
resolvable as (
    select distinct condition_no, resolved_codelist from rules where resolved_codelist is not null
),
ended as (
    -- A resolved code later than the latest diagnosis ends the condition. Only the few
    -- conditions with a resolved codelist are looked at.
    select x.ref, x.patient_key, x.condition_no
    from (
        select r.ref, o.patient_key, v.condition_no, max(o.recorded_date) as resolved_date
        from listed_observation o
        join resolvable v on v.resolved_codelist = o.codelist
        join refs r on o.recorded_date <= r.ref_date
        group by all
    ) x
    join (
        select d.ref, d.patient_key, cr.condition_no, max(d.last_date) as last_date
        from diagnosis_dates d
        join rules cr using (rule_no)
        where cr.condition_no in (select condition_no from resolvable)
        group by all
    ) d using (ref, patient_key, condition_no)
    where x.resolved_date > d.last_date
)
select m.ref, m.patient_key, c.condition_id
from criteria_met m
join (select distinct condition_no, condition_id from rules) c using (condition_no)
semi join population p on p.ref = m.ref and p.patient_key = m.patient_key
anti join ended e on e.ref = m.ref and e.patient_key = m.patient_key and e.condition_no = m.condition_no;

-- patient_condition_set: each patient's conditions on each reference date as one number (bit k
-- is condition k in declaration order) and a count, for the features and the patient list. A sum
-- spills to disk when memory is short, where a list of strings per patient cannot.
create or replace table patient_condition_set as
select
    ref,
    patient_key,
    sum(1::BIGINT << (list_position(getvariable('condition_ids'), condition_id) - 1))::BIGINT as condition_bits,
    count(*) as condition_count
from patient_condition
group by all;
