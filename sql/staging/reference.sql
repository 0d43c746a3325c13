-- stg_practice: one row per practice in the reference list (the organisation model:
-- practice -> PCN -> place); stg_lsoa: one row per LSOA with its deprivation decile.
create or replace table stg_practice as
with source as (
    select * from raw_practices
),
valid as (
    select *
    from source
    where regexp_full_match(practice_code, getvariable('pattern_practices_practice_code'))
      and regexp_full_match(pcn_code, getvariable('pattern_practices_pcn_code'))
      and regexp_full_match(place, getvariable('pattern_practices_place'))
      and regexp_full_match(practice_name, getvariable('pattern_practices_practice_name'))
      and regexp_full_match(pcn_name, getvariable('pattern_practices_pcn_name'))
)
select file_id, practice_code, trim(practice_name) as practice_name, pcn_code, trim(pcn_name) as pcn_name, place
from valid
qualify row_number() over (partition by practice_code order by file_id) = 1;

create or replace table stg_lsoa as
select file_id, lsoa_code, imd_decile, place
from raw_lsoa
where regexp_full_match(lsoa_code, getvariable('pattern_lsoa_lsoa_code'))
  and regexp_full_match(place, getvariable('pattern_lsoa_place'))
  and imd_decile between 1 and 10
qualify row_number() over (partition by lsoa_code order by file_id) = 1;

insert into dropped_row
select file_id, 'invalid or repeated reference row', count(*) - (select count(*) from stg_practice)
from raw_practices
group by file_id
having count(*) > (select count(*) from stg_practice);

insert into dropped_row
select file_id, 'invalid or repeated reference row', count(*) - (select count(*) from stg_lsoa)
from raw_lsoa
group by file_id
having count(*) > (select count(*) from stg_lsoa);
