-- stg_observation: one row per distinct valid coded entry, dated between birth and the extract date.
-- The loaded lines stay where ingest put them: only the lines set aside are stored (dropped, with
-- why, and the surplus exact copies), and stg_observation is the view of the rest. Copying every
-- line into a checked table cost more than the checks themselves.
-- The delivery's check-digit validity, over every loaded line, for the data-quality report.
create or replace table observation_code_validity as
select count(*) as observations, count(invalid.code) as invalid_snomed
from raw_observations o
left join invalid_snomed invalid on invalid.code = o.snomed_code;

create or replace table observation_drop as
select row_id, file_id, drop_reason
from (
    select
        o.rowid as row_id,
        o.file_id,
        case
            when p.pseudo_id is null then 'unknown patient'
            when o.recorded_date is null or o.snomed_code is null then 'missing required value'
            when invalid.code is not null then 'SNOMED CT code fails its check digit'
            when o.recorded_date > getvariable('extract_date') then 'date in the future'
            when o.recorded_date < p.birth_date then 'date before birth'
            when o.unit is not null and not regexp_full_match(o.unit, getvariable('pattern_observations_unit')) then 'invalid unit'
            when not isfinite(o.value) then 'value not a finite number'
            when o.value not between getvariable('min_observations_value') and getvariable('max_observations_value')
                then 'value out of range'
        end as drop_reason
    from raw_observations o
    left join stg_patient p using (pseudo_id)
    left join invalid_snomed invalid on invalid.code = o.snomed_code
)
where drop_reason is not null;

insert into dropped_row
select file_id, drop_reason, count(*)
from observation_drop
group by all;

create or replace table observation_copy as
with shared_hash as (
    -- Exact copies share a hash, and rows that share one sit side by side once sorted by it: a
    -- sort measured twice as fast as a hash aggregate over tens of millions of distinct hashes.
    -- Half a hash (32 bits) sorts a fifth faster; the few more rows that share one by chance,
    -- like a dropped line sharing a hash, only become candidates: the full comparison decides.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from (select (hash(file_id, pseudo_id, recorded_date, snomed_code, value, unit) >> 32)::UINTEGER as row_hash from raw_observations)
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
    from raw_observations
    where (hash(file_id, pseudo_id, recorded_date, snomed_code, value, unit) >> 32)::UINTEGER in (select row_hash from shared_hash)
      and rowid not in (select row_id from observation_drop)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from observation_copy
group by all;

create or replace view stg_observation as
select pseudo_id, patient_key_of(pseudo_id) as patient_key, recorded_date, snomed_code, value, unit, file_id
from raw_observations
where rowid not in (select row_id from observation_drop union all select row_id from observation_copy);
