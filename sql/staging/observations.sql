-- stg_observation: one row per distinct valid coded entry, dated between birth and the extract date.
-- Every line is checked once into observation_line; the dropped are counted by reason and the
-- surplus exact copies listed; stg_observation is the view of the lines kept.
-- The delivery's check-digit validity, over every loaded line, for the data-quality report.
create or replace table observation_code_validity as
select count(*) as observations, count(invalid.code) as invalid_snomed
from raw_observations o
left join invalid_snomed invalid on invalid.code = o.snomed_code;

create or replace table observation_line as
select
    o.pseudo_id,
    o.recorded_date,
    o.snomed_code,
    o.value,
    o.unit,
    o.file_id,
    case
        when p.pseudo_id is null then 'unknown patient'
        when o.recorded_date is null or o.snomed_code is null then 'missing required value'
        when invalid.code is not null then 'SNOMED CT code fails its check digit'
        when o.recorded_date > getvariable('extract_date') then 'date in the future'
        when o.recorded_date < p.birth_date then 'date before birth'
        when o.unit is not null and not regexp_full_match(o.unit, getvariable('pattern_observations_unit')) then 'invalid unit'
    end as drop_reason,
    -- Exact copies share this hash; only rows that share one are compared in full.
    hash(o.file_id, o.pseudo_id, o.recorded_date, o.snomed_code, o.value, o.unit) as row_hash
from raw_observations o
left join stg_patient p using (pseudo_id)
left join invalid_snomed invalid on invalid.code = o.snomed_code;

insert into dropped_row
select file_id, drop_reason, count(*)
from observation_line
where drop_reason is not null
group by all;

create or replace table observation_copy as
with shared_hash as (
    -- Rows that share a hash sit side by side once sorted by it: a sort measured twice as
    -- fast as a hash aggregate over tens of millions of distinct hashes.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from observation_line
        where drop_reason is null
    )
    where row_hash = previous_hash
),
numbered as (
    select
        rowid as row_id,
        file_id,
        row_number() over (
            partition by file_id, pseudo_id, recorded_date, snomed_code, value, unit order by rowid
        ) as copy_no
    from observation_line
    where drop_reason is null and row_hash in (select row_hash from shared_hash)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from observation_copy
group by all;

-- The staged model is a view of the lines kept. Deleting the rest instead would hold every
-- removed row in memory until the delete commits, which stops a large delivery in little memory.
create or replace view stg_observation as
select pseudo_id, recorded_date, snomed_code, value, unit, file_id
from observation_line
where drop_reason is null and rowid not in (select row_id from observation_copy);
-- Staged and counted: the raw lines' memory is better spent on what follows.
drop table raw_observations;
