-- stg_activity: one row per distinct valid hospital spell or attendance, with valid
-- ICD-10 diagnoses as a list (worked out as the lines were read) and a cost (the unit cost
-- where none was sent). As for the GP record, the loaded lines stay where ingest put them:
-- only the lines set aside are stored (dropped, with why, and the surplus exact copies), and
-- stg_activity is the view of the rest.
create or replace table activity_drop as
select row_id, file_id, drop_reason
from (
    select
        a.rowid as row_id,
        a.file_id,
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
        end as drop_reason
    from raw_activity a
    left join stg_patient p using (pseudo_id)
)
where drop_reason is not null;

insert into dropped_row
select file_id, drop_reason, count(*)
from activity_drop
group by all;

create or replace table activity_copy as
with shared_hash as (
    -- As for the GP record: exact copies share a hash, sorted side by side; half a hash (32
    -- bits) sorts faster, and rows sharing one by chance are compared in full too.
    select distinct row_hash
    from (
        select row_hash, lag(row_hash) over (order by row_hash) as previous_hash
        from (
            select (hash(file_id, activity_id, pseudo_id, setting, provider_code, start_date, end_date, hrg_code,
                         primary_diagnosis, secondary_diagnoses, cost_gbp) >> 32)::UINTEGER as row_hash
            from raw_activity
        )
    )
    where row_hash = previous_hash
),
numbered as (
    select
        rowid as row_id,
        file_id,
        row_number() over (
            partition by file_id, activity_id, pseudo_id, setting, provider_code, start_date, end_date, hrg_code,
                primary_diagnosis, secondary_diagnoses, cost_gbp
            order by rowid
        ) as copy_no
    from raw_activity
    where (hash(file_id, activity_id, pseudo_id, setting, provider_code, start_date, end_date, hrg_code,
                primary_diagnosis, secondary_diagnoses, cost_gbp) >> 32)::UINTEGER in (select row_hash from shared_hash)
      and rowid not in (select row_id from activity_drop)
)
select row_id, file_id from numbered where copy_no > 1;

insert into dropped_row
select file_id, 'duplicate row', count(*)
from activity_copy
group by all;

create or replace view stg_activity as
select
    a.activity_id,
    a.pseudo_id,
    patient_key_of(a.pseudo_id) as patient_key,
    a.setting::VARCHAR as setting,
    a.provider_code,
    a.start_date,
    a.end_date,
    a.hrg_code,
    a.diagnoses,
    a.invalid_diagnoses,
    coalesce(a.cost_gbp, u.cost_gbp) as cost_gbp,
    a.cost_gbp is null as unit_costed,
    a.file_id
from raw_activity a
left join unit_cost u on u.setting = a.setting::VARCHAR
where a.rowid not in (select row_id from activity_drop union all select row_id from activity_copy);
