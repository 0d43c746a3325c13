-- stg_medication: one row per distinct valid prescription issue, dated between birth and the extract date.
-- Every line is checked once into medication_line; the dropped are counted by reason and the
-- surplus exact copies listed; stg_medication is the view of the lines kept.
create or replace temp table bnf_code_check as
-- A few thousand distinct codes are checked, not tens of millions of lines.
select bnf_code, regexp_full_match(bnf_code, getvariable('pattern_medications_bnf_code')) as valid
from (select distinct bnf_code from raw_medications);

create or replace table medication_line as
select
    m.pseudo_id,
    m.issue_date,
    m.dmd_code,
    m.bnf_code,
    left(m.bnf_code, 9) as bnf_chemical,
    m.quantity,
    m.file_id,
    case
        when p.pseudo_id is null then 'unknown patient'
        when m.issue_date is null or m.dmd_code is null then 'missing required value'
        when not coalesce(codes.valid, false) then 'invalid BNF code'
        when m.issue_date > getvariable('extract_date') then 'date in the future'
        when m.issue_date < p.birth_date then 'date before birth'
    end as drop_reason,
    -- Exact copies share this hash; only rows that share one are compared in full.
    hash(m.file_id, m.pseudo_id, m.issue_date, m.dmd_code, m.bnf_code, m.quantity) as row_hash
from raw_medications m
left join stg_patient p using (pseudo_id)
left join bnf_code_check codes using (bnf_code);

insert into dropped_row
select file_id, drop_reason, count(*)
from medication_line
where drop_reason is not null
group by all;

create or replace table medication_copy as
with shared_hash as (
    -- Rows that share a hash sit side by side once sorted by it: a sort measured twice as
    -- fast as a hash aggregate over tens of millions of distinct hashes.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from medication_line
        where drop_reason is null
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
    from medication_line
    where drop_reason is null and row_hash in (select row_hash from shared_hash)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from medication_copy
group by all;

-- The staged model is a view of the lines kept: deleting the rest instead would hold every
-- removed row in memory until it commits, which stops a large delivery in little memory.
create or replace view stg_medication as
select pseudo_id, issue_date, dmd_code, bnf_code, bnf_chemical, quantity, file_id
from medication_line
where drop_reason is null and rowid not in (select row_id from medication_copy);
-- Staged and counted: the raw lines' memory is better spent on what follows.
drop table raw_medications;
