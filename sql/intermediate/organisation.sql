-- organisation: one row per level per organisation per member practice (practice -> PCN
-- -> place -> system), so one aggregation walks every level.
create or replace table organisation as
select 'practice' as level, 1 as level_order, practice_code as org_code, practice_name as org_name, practice_code from stg_practice
union all
select 'pcn', 2, pcn_code, any_value(pcn_name) over (partition by pcn_code), practice_code from stg_practice
union all
select 'place', 3, place, place, practice_code from stg_practice
union all
select 'system', 4, getvariable('system_code'), getvariable('system_name'), practice_code from stg_practice;
