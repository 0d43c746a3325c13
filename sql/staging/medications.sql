-- stg_medication: one row per distinct valid prescription issue, dated between birth and the extract date.
-- One pass: every line is checked and grouped with its exact duplicates; the dropped are
-- counted by reason and then removed.
create or replace temp table bnf_code_check as
-- A few thousand distinct codes are checked, not tens of millions of lines.
select bnf_code, regexp_full_match(bnf_code, getvariable('pattern_medications_bnf_code')) as valid
from (select distinct bnf_code from raw_medications);

create or replace table stg_medication as
with source as (
    select m.*, f.resent_of
    from raw_medications m
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
            when not codes.valid then 'invalid BNF code'
            when issue_date > getvariable('extract_date') then 'date in the future'
            when issue_date < patients.birth_date then 'date before birth'
        end as drop_reason
    from source
    left join patients using (pseudo_id)
    join bnf_code_check codes using (bnf_code)
)
select pseudo_id, issue_date, dmd_code, bnf_code, left(bnf_code, 9) as bnf_chemical, quantity, file_id, drop_reason, count(*) as copies
from checked
group by all;

insert into dropped_row
select file_id, drop_reason, sum(copies)
from stg_medication
where drop_reason is not null
group by all;

insert into dropped_row
select file_id, 'duplicate row', sum(copies - 1)
from stg_medication
where drop_reason is null
group by all
having sum(copies - 1) > 0;

delete from stg_medication where drop_reason is not null;
