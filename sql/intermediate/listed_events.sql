-- listed_observation: one row per coded entry whose code is on a codelist that a rule reads (a
-- condition, a deficit, coded frailty or a care context; a list kept for other uses, such as
-- the synthetic data's noise, would only be carried through every rule below).
-- medication_window: per reference date, patient and BNF chemical, the issues in each window a
-- rule counts over (the condition rules' and polypharmacy's): the one pass over the
-- prescriptions that every medication rule and the polypharmacy deficit read.
create or replace table listed_observation as
with read_lists as (
    select codelist from condition_rule
    union select resolved_codelist from condition_rule
    union select unless_codelist from condition_rule
    union select codelist from deficit_rule
    union select codelist from frailty_severity
    union select codelist from care_context_rule
)
select o.patient_key, o.recorded_date, c.codelist
from stg_observation o
join codelist c on c.code = o.snomed_code and c.system = 'snomedct'
where c.codelist in (select codelist from read_lists);

create or replace table medication_window as
with windows as (
    select within_months from condition_rule where medication is not null
    union select getvariable('polypharmacy_months')
),
window_days as (
    select w.within_months, r.ref, unnest(generate_series((r.ref_date - to_months(w.within_months))::DATE + 1, r.ref_date, interval 1 day))::DATE as day
    from windows w, reference_date r
)
select w.ref, m.patient_key, m.bnf_chemical, w.within_months, count(*) as issues
from stg_medication m
join window_days w on w.day = m.issue_date
group by all;
