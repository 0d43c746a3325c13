-- patient_condition: one row per reference date per eligible patient per chronic
-- condition present, evaluated generically from the declared rules in condition_rule.
create or replace table patient_condition as
with rules as (
    -- rule_no and condition_no: small integers per criterion and per condition, so the large
    -- groupings below key on numbers.
    select
        *,
        (row_number() over (order by condition_id, criterion_no))::SMALLINT as rule_no,
        (dense_rank() over (order by condition_id))::SMALLINT as condition_no,
        -- Recorded ever, with no window and no resolved codes for its condition: present from
        -- the first code on, so the codes need no more than their first date.
        kind = 'diagnosis' and within_months is null and first_within_months is null
            and not bool_or(resolved_codelist is not null) over (partition by condition_id) as from_first_code
    from condition_rule
),
refs as (
    select * from reference_date
),
buckets as (
    -- Every day between the reference dates, with the number of the latest date on or before
    -- which it falls (a date's years_back): a dated record meets its bucket by a hash join, and
    -- everything on or before a reference date is the buckets from its own back.
    select r.years_back, unnest(generate_series(o.ref_date + 1, r.ref_date, interval 1 day))::DATE as day
    from refs r
    join refs o on o.years_back = r.years_back + 1
),
diagnosis_codes as materialized (
    -- The codes each criterion names, before they meet the reference dates: most listed codes
    -- belong to no condition (the eFI-style deficits share the table), so this comes first.
    select o.patient_key, o.recorded_date, cr.rule_no, cr.from_first_code
    from listed_observation o
    join rules cr on cr.codelist = o.codelist
    where o.recorded_date <= getvariable('as_of')
),
first_codes as (
    select patient_key, rule_no, min(recorded_date) as first_date
    from diagnosis_codes
    where from_first_code
    group by all
),
diagnosis_buckets as (
    -- Per patient and criterion, the first and last code in each bucket; anything before the
    -- earliest reference date falls in the earliest bucket.
    select
        d.patient_key,
        d.rule_no,
        coalesce(b.years_back, (select max(years_back) from refs)) as bucket,
        min(d.recorded_date) as first_date,
        max(d.recorded_date) as last_date
    from diagnosis_codes d
    left join buckets b on b.day = d.recorded_date
    where not d.from_first_code
    group by all
),
diagnosis_dates as (
    -- Per criterion that names a diagnosis codelist: the patient's first and last code on or
    -- before the date, and whether they fall inside the criterion's windows.
    select
        x.ref,
        x.patient_key,
        x.rule_no,
        x.last_date,
        cr.within_months is null or x.last_date > x.ref_date - to_months(cr.within_months) as in_window,
        cr.first_within_months is null or x.first_date > x.ref_date - to_months(cr.first_within_months) as first_in_window
    from (
        select r.ref, r.ref_date, d.patient_key, d.rule_no, min(d.first_date) as first_date, max(d.last_date) as last_date
        from diagnosis_buckets d
        join refs r on d.bucket >= r.years_back
        group by all
    ) x
    join rules cr using (rule_no)
),
issue_counts as (
    -- Per criterion that names a medication list: issues within its window.
    select w.ref, w.patient_key, cr.rule_no, sum(w.issues) as issues
    from medication_window w
    join codelist c on c.code = w.bnf_chemical and c.system = 'bnf'
    join rules cr on cr.medication = c.codelist and cr.within_months = w.within_months
    group by all
),
undiagnosed_only as (
    -- Criteria that count a drug only without a diagnosis (anti-epileptics as analgesia, not
    -- for epilepsy): the patients with such a code on or before each date, who are left out.
    select r.ref, o.patient_key, cr.rule_no
    from listed_observation o
    join rules cr on cr.unless_codelist = o.codelist
    join refs r on o.recorded_date <= r.ref_date
    group by all
),
criteria_met as (
    -- One branch per rule kind, so every join is on keys.
    select r.ref, f.patient_key, cr.condition_no
    from first_codes f
    join rules cr using (rule_no)
    join refs r on f.first_date <= r.ref_date
    union
    select d.ref, d.patient_key, cr.condition_no
    from diagnosis_dates d
    join rules cr using (rule_no)
    where cr.kind = 'diagnosis' and d.in_window and d.first_in_window
    union
    select d.ref, d.patient_key, cr.condition_no
    from diagnosis_dates d
    join rules cr using (rule_no)
    join issue_counts i using (ref, patient_key, rule_no)
    where cr.kind = 'treated' and i.issues >= cr.min_issues
    union
    select i.ref, i.patient_key, cr.condition_no
    from issue_counts i
    join rules cr using (rule_no)
    anti join undiagnosed_only u using (ref, patient_key, rule_no)
    where cr.kind = 'prescriptions' and i.issues >= cr.min_issues
),
resolvable as (
    select distinct condition_no, resolved_codelist from rules where resolved_codelist is not null
),
resolved_codes as materialized (
    -- Resolved codes meet their conditions before the reference dates (they are few).
    select o.patient_key, o.recorded_date, v.condition_no
    from listed_observation o
    join resolvable v on v.resolved_codelist = o.codelist
),
ended as (
    -- A resolved code later than the latest diagnosis ends the condition. Only the few
    -- conditions with a resolved codelist are looked at.
    select x.ref, x.patient_key, x.condition_no
    from (
        select r.ref, o.patient_key, o.condition_no, max(o.recorded_date) as resolved_date
        from resolved_codes o
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
