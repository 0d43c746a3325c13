-- stg_registration: one row per valid registration of a patient at a practice;
-- stg_patient: one row per patient (pseudo_id), demographics from their latest registration.
-- patient_key (a 64-bit hash of the pseudonym) stands for the patient in every join and
-- grouping after staging: pseudonyms are 16 to 64 characters, and integer keys measured
-- faster. Two patients sharing a key (odds of about 1 in 25 million at 1.2 million patients)
-- would be merged, so the run stops instead. One macro defines it for every table and view:
-- keys computed two ways would silently fail to join.
create or replace macro patient_key_of(pseudo_id) as hash(pseudo_id);

create or replace temp view registration_check as
select
    *,
    case
        when pseudo_id is null or sex is null or birth_month is null or registered_from is null
            then 'missing required value'
        when not regexp_full_match(pseudo_id, getvariable('pattern_patients_pseudo_id')) then 'invalid pseudo_id'
        when not regexp_full_match(sex, getvariable('pattern_patients_sex')) then 'invalid sex'
        when not regexp_full_match(birth_month, getvariable('pattern_patients_birth_month')) then 'invalid birth_month'
        -- Impossible dates: DuckDB reads year 1 or 1066 as readily as 2001.
        when strptime(birth_month || '-01', '%Y-%m-%d')::DATE < getvariable('earliest_date')
            or registered_from < getvariable('earliest_date')
            or registered_to < getvariable('earliest_date')
            or date_of_death < getvariable('earliest_date')
            then 'date before ' || getvariable('earliest_date')
        when registered_from > getvariable('extract_date') then 'registration starts after the extract date'
        when registered_to < registered_from then 'registration ends before it starts'
        when strptime(birth_month || '-01', '%Y-%m-%d')::DATE > registered_from then 'registered before birth'
        when date_of_death < strptime(birth_month || '-01', '%Y-%m-%d')::DATE then 'death before birth'
    end as drop_reason
from raw_patients;

insert into dropped_row
select file_id, drop_reason, count(*)
from registration_check
where drop_reason is not null
group by all;

create or replace table stg_registration as
select
    pseudo_id,
    any_value(f.practice_code) as practice_code,
    sex,
    strptime(birth_month || '-01', '%Y-%m-%d')::DATE as birth_date,
    case when regexp_full_match(lsoa_code, getvariable('pattern_patients_lsoa_code')) then lsoa_code end as lsoa_code,
    registered_from,
    registered_to,
    case when date_of_death <= getvariable('extract_date') then date_of_death end as date_of_death,
    c.file_id,
    count(*) as copies
from registration_check c
join delivery_file f using (file_id)
where drop_reason is null
group by all;

insert into dropped_row
select file_id, 'duplicate row', sum(copies - 1)
from stg_registration
group by all
having sum(copies - 1) > 0;

create or replace table stg_patient as
select
    pseudo_id,
    patient_key_of(pseudo_id) as patient_key,
    arg_max(sex, registered_from) as sex,
    arg_max(birth_date, registered_from) as birth_date,
    arg_max(lsoa_code, registered_from) as lsoa_code,
    max(date_of_death) as date_of_death,
    count(distinct sex) > 1 or count(distinct birth_date) > 1 as conflicting_demographics
from stg_registration
group by pseudo_id;

select error('two pseudonyms in this delivery share a patient key (a 64-bit hash), so their records would merge: the run stops')
from (select count(*) as patients, count(distinct patient_key) as keys from stg_patient)
where patients <> keys;
-- Staged and counted: the raw lines' memory is better spent on what follows.
drop view registration_check;
drop table raw_patients;
