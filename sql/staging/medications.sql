-- stg_medication: one row per distinct valid prescription issue, dated between birth and the extract date.
-- Every line is checked once; the dropped are counted by reason, then exact duplicates go.
create or replace temp table bnf_code_check as
-- A few thousand distinct codes are checked, not tens of millions of lines.
select bnf_code, regexp_full_match(bnf_code, getvariable('pattern_medications_bnf_code')) as valid
from (select distinct bnf_code from raw_medications);

create or replace table stg_medication as
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
from stg_medication
where drop_reason is not null
group by all;

create or replace temp table medication_copy as
with shared_hash as (
    select row_hash
    from stg_medication
    where drop_reason is null
    group by row_hash
    having count(*) > 1
),
numbered as (
    select
        rowid as row_id,
        file_id,
        row_number() over (
            partition by file_id, pseudo_id, issue_date, dmd_code, bnf_code, quantity order by rowid
        ) as copy_no
    from stg_medication
    where drop_reason is null and row_hash in (select row_hash from shared_hash)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from medication_copy
group by all;

delete from stg_medication
where drop_reason is not null or rowid in (select row_id from medication_copy);
alter table stg_medication drop column drop_reason;
alter table stg_medication drop column row_hash;
-- Staged and counted: the raw lines' memory is better spent on what follows.
drop table raw_medications;
-- In a file-backed work database, deleted rows and dropped columns hold their memory until a
-- checkpoint writes the table out afresh; in memory this does nothing.
checkpoint;
