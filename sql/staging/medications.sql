-- stg_medication: one row per distinct valid prescription issue, dated between birth and the extract date.
create or replace temp view medication_check as
with source as (
    select m.*, f.resent_of
    from raw_medications m
    join delivery_file f using (file_id)
),
patients as (
    select pseudo_id, birth_date from stg_patient
)
select
    source.*,
    case
        when resent_of is not null then 'resent file'
        when patients.pseudo_id is null then 'unknown patient'
        when not regexp_full_match(bnf_code, getvariable('pattern_medications_bnf_code')) then 'invalid BNF code'
        when issue_date > getvariable('extract_date') then 'date in the future'
        when issue_date < patients.birth_date then 'date before birth'
    end as drop_reason
from source
left join patients using (pseudo_id);

insert into dropped_row
select file_id, drop_reason, count(*)
from medication_check
where drop_reason is not null
group by all;

create or replace table stg_medication as
select pseudo_id, issue_date, dmd_code, bnf_code, left(bnf_code, 9) as bnf_chemical, quantity, file_id, count(*) as copies
from medication_check
where drop_reason is null
group by all;

insert into dropped_row
select file_id, 'duplicate row', sum(copies - 1)
from stg_medication
group by all
having sum(copies - 1) > 0;
