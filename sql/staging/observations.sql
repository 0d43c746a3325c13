-- stg_observation: one row per distinct valid coded entry, dated between birth and the extract date.
-- One pass: every line is checked and grouped with its exact duplicates; the dropped are
-- counted by reason and then removed.
create or replace table stg_observation as
with source as (
    select o.*, f.resent_of
    from raw_observations o
    join delivery_file f using (file_id)
),
patients as (
    select pseudo_id, birth_date from stg_patient
),
checked as (
    select
        source.*,
        case
            when resent_of is not null then 'resent file'
            when patients.pseudo_id is null then 'unknown patient'
            when invalid.code is not null then 'SNOMED CT code fails its check digit'
            when recorded_date > getvariable('extract_date') then 'date in the future'
            when recorded_date < patients.birth_date then 'date before birth'
            when unit is not null and not regexp_full_match(unit, getvariable('pattern_observations_unit')) then 'invalid unit'
        end as drop_reason
    from source
    left join patients using (pseudo_id)
    left join invalid_snomed invalid on invalid.code = source.snomed_code
)
select pseudo_id, recorded_date, snomed_code, value, unit, file_id, drop_reason, count(*) as copies
from checked
group by all;

insert into dropped_row
select file_id, drop_reason, sum(copies)
from stg_observation
where drop_reason is not null
group by all;

insert into dropped_row
select file_id, 'duplicate row', sum(copies - 1)
from stg_observation
where drop_reason is null
group by all
having sum(copies - 1) > 0;

delete from stg_observation where drop_reason is not null;
