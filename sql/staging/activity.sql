-- stg_activity: one row per distinct valid hospital spell or attendance, with valid
-- ICD-10 diagnoses as a list and a cost (the unit cost where none was sent).
-- Every line is checked once into activity_line; the dropped are counted by reason and the
-- surplus exact copies listed; stg_activity is the view of the lines kept.
create or replace table activity_line as
with checked as (
    select
        a.*,
        case
            when p.pseudo_id is null then 'unknown patient'
            when a.activity_id is null or a.setting is null or a.provider_code is null or a.start_date is null
                then 'missing required value'
            when not regexp_full_match(a.activity_id, getvariable('pattern_activity_activity_id')) then 'invalid activity_id'
            when a.start_date > getvariable('extract_date') then 'date in the future'
            when a.start_date < p.birth_date then 'date before birth'
            when a.end_date < a.start_date then 'ends before it starts'
            -- The reason names the column, never the value.
            when not isfinite(a.cost_gbp) then 'cost_gbp not a finite number'
            when a.cost_gbp not between getvariable('min_activity_cost_gbp') and getvariable('max_activity_cost_gbp')
                then 'cost_gbp out of range'
        end as drop_reason,
        -- Exact copies share this hash; only rows that share one are compared in full. Half a
        -- hash (32 bits) sorts faster, and the few rows sharing one by chance are compared too.
        (hash(a.file_id, a.activity_id, a.pseudo_id, a.setting, a.provider_code, a.start_date, a.end_date, a.hrg_code,
              a.primary_diagnosis, a.secondary_diagnoses, a.cost_gbp) >> 32)::UINTEGER as row_hash,
        list_prepend(a.primary_diagnosis, coalesce(string_split(a.secondary_diagnoses, ';'), [])) as sent_diagnoses
    from raw_activity a
    left join stg_patient p using (pseudo_id)
)
select
    c.activity_id,
    c.pseudo_id,
    c.setting::VARCHAR as setting,
    c.provider_code,
    c.start_date,
    c.end_date,
    c.hrg_code,
    list_filter(c.sent_diagnoses, x -> x is not null and regexp_full_match(x, getvariable('pattern_icd10'))) as diagnoses,
    len(list_filter(c.sent_diagnoses, x -> x is not null and not regexp_full_match(x, getvariable('pattern_icd10')))) as invalid_diagnoses,
    coalesce(c.cost_gbp, u.cost_gbp) as cost_gbp,
    c.cost_gbp is null as unit_costed,
    -- Kept for the exact comparison of rows that share a hash.
    c.primary_diagnosis,
    c.secondary_diagnoses,
    c.cost_gbp as sent_cost_gbp,
    c.file_id,
    c.drop_reason,
    c.row_hash
from checked c
left join unit_cost u on u.setting = c.setting::VARCHAR;

insert into dropped_row
select file_id, drop_reason, count(*)
from activity_line
where drop_reason is not null
group by all;

create or replace table activity_copy as
with shared_hash as (
    -- Rows that share a hash sit side by side once sorted by it: a sort measured twice as
    -- fast as a hash aggregate over tens of millions of distinct hashes.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from activity_line
        where drop_reason is null
    )
    where row_hash = previous_hash
),
numbered as (
    select
        rowid as row_id,
        file_id,
        row_number() over (
            partition by file_id, activity_id, pseudo_id, setting, provider_code, start_date, end_date, hrg_code,
                primary_diagnosis, secondary_diagnoses, sent_cost_gbp
            order by rowid
        ) as copy_no
    from activity_line
    where drop_reason is null and row_hash in (select row_hash from shared_hash)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from activity_copy
group by all;

-- The staged model is a view of the lines kept. Deleting the rest instead would hold every
-- removed row in memory until the delete commits, which stops a large delivery in little memory.
create or replace view stg_activity as
select activity_id, pseudo_id, patient_key_of(pseudo_id) as patient_key, setting, provider_code, start_date, end_date, hrg_code, diagnoses, invalid_diagnoses, cost_gbp,
    unit_costed, file_id
from activity_line
where drop_reason is null and rowid not in (select row_id from activity_copy);
-- Staged and counted: the raw lines' memory is better spent on what follows.
drop table raw_activity;
