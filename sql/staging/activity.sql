-- stg_activity: one row per distinct valid hospital spell or attendance, with valid
-- ICD-10 diagnoses as a list and a cost (the unit cost where none was sent).
create or replace temp view activity_check as
with source as (
    select a.*, f.resent_of
    from raw_activity a
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
        when not regexp_full_match(activity_id, getvariable('pattern_activity_activity_id')) then 'invalid activity_id'
        when start_date > getvariable('extract_date') then 'date in the future'
        when start_date < patients.birth_date then 'date before birth'
        when end_date < start_date then 'ends before it starts'
        when cost_gbp < 0 then 'negative cost'
    end as drop_reason
from source
left join patients using (pseudo_id);

insert into dropped_row
select file_id, drop_reason, count(*)
from activity_check
where drop_reason is not null
group by all;

create or replace table stg_activity as
with kept as (
    select * exclude (resent_of, drop_reason)
    from activity_check
    where drop_reason is null
),
deduplicated as (
    select *, count(*) as copies
    from kept
    group by all
),
diagnoses as (
    select
        *,
        list_prepend(primary_diagnosis, coalesce(string_split(secondary_diagnoses, ';'), [])) as sent_diagnoses
    from deduplicated
)
select
    d.activity_id,
    d.pseudo_id,
    d.setting::VARCHAR as setting,
    d.provider_code,
    d.start_date,
    d.end_date,
    d.hrg_code,
    list_filter(sent_diagnoses, x -> x is not null and regexp_full_match(x, getvariable('pattern_icd10'))) as diagnoses,
    len(list_filter(sent_diagnoses, x -> x is not null and not regexp_full_match(x, getvariable('pattern_icd10')))) as invalid_diagnoses,
    coalesce(d.cost_gbp, u.cost_gbp) as cost_gbp,
    d.cost_gbp is null as unit_costed,
    d.file_id,
    d.copies
from diagnoses d
join unit_cost u on u.setting = d.setting::VARCHAR;

insert into dropped_row
select file_id, 'duplicate row', sum(copies - 1)
from stg_activity
group by all
having sum(copies - 1) > 0;
