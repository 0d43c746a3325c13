-- stg_medication: one row per distinct valid prescription issue, dated between birth and the extract date.
-- The loaded lines stay where ingest put them: only the lines set aside are stored (dropped, with
-- why, and the surplus exact copies), and stg_medication is the view of the rest. Copying every
-- line into a checked table cost more than the checks themselves.
create or replace temp table bnf_code_check as
-- A few thousand distinct codes are checked, not tens of millions of lines.
select bnf_code, regexp_full_match(bnf_code, getvariable('pattern_medications_bnf_code')) as valid
from (select distinct bnf_code from raw_medications);

create or replace table medication_drop as
select row_id, file_id, drop_reason
from (
    select
        m.rowid as row_id,
        m.file_id,
        case
            when p.pseudo_id is null then 'unknown patient'
            when m.issue_date is null or m.dmd_code is null then 'missing required value'
            when not coalesce(codes.valid, false) then 'invalid BNF code'
            when m.issue_date > getvariable('extract_date') then 'date in the future'
            when m.issue_date < p.birth_date then 'date before birth'
            when not isfinite(m.quantity) then 'quantity not a finite number'
            when m.quantity not between getvariable('min_medications_quantity') and getvariable('max_medications_quantity')
                then 'quantity out of range'
        end as drop_reason
    from raw_medications m
    left join stg_patient p using (pseudo_id)
    left join bnf_code_check codes using (bnf_code)
)
where drop_reason is not null;

insert into dropped_row
select file_id, drop_reason, count(*)
from medication_drop
group by all;

create or replace table medication_copy as
with shared_hash as (
    -- Exact copies share a hash, and rows that share one sit side by side once sorted by it: a
    -- sort measured twice as fast as a hash aggregate over tens of millions of distinct hashes.
    -- Half a hash (32 bits) sorts a fifth faster; the few more rows that share one by chance,
    -- like a dropped line sharing a hash, only become candidates: the full comparison decides.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from (select (hash(file_id, pseudo_id, issue_date, dmd_code, bnf_code, quantity) >> 32)::UINTEGER as row_hash from raw_medications)
    )
    where row_hash = previous_hash
),
numbered as (
    select
        rowid as row_id,
        file_id,
        row_number() over (
            partition by file_id, pseudo_id, issue_date, dmd_code, bnf_code, quantity order by rowid
        ) as copy_no
    from raw_medications
    where (hash(file_id, pseudo_id, issue_date, dmd_code, bnf_code, quantity) >> 32)::UINTEGER in (select row_hash from shared_hash)
      and rowid not in (select row_id from medication_drop)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from medication_copy
group by all;

create or replace view stg_medication as
select pseudo_id, patient_key_of(pseudo_id) as patient_key, issue_date, dmd_code, bnf_code, left(bnf_code, 9) as bnf_chemical, quantity, file_id
from raw_medications
where rowid not in (select row_id from medication_drop union all select row_id from medication_copy);
