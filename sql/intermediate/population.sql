-- population: one row per reference date per eligible patient (registered at a listed
-- practice and alive on that date), at the practice of their registration on that date.
create or replace table population as
with registrations as (
    select r.pseudo_id, patient_key_of(r.pseudo_id) as patient_key, r.practice_code, r.registered_from, d.ref, d.ref_date
    from stg_registration r
    join stg_practice using (practice_code)
    cross join reference_date d
    where r.registered_from <= d.ref_date
      and (r.registered_to is null or r.registered_to > d.ref_date)
),
current_registration as (
    -- Overlapping registrations (a mover whose old practice has not yet ended it): the latest wins.
    select *
    from registrations
    qualify row_number() over (partition by ref, patient_key order by registered_from desc, practice_code) = 1
),
patients as (
    select * from stg_patient
)
select
    c.ref,
    c.ref_date,
    c.pseudo_id,
    c.patient_key,
    c.practice_code,
    p.sex,
    p.birth_date,
    date_sub('year', p.birth_date, c.ref_date) as age,
    case
        when date_sub('year', p.birth_date, c.ref_date) < 18 then '0-17'
        when date_sub('year', p.birth_date, c.ref_date) < 45 then '18-44'
        when date_sub('year', p.birth_date, c.ref_date) < 65 then '45-64'
        when date_sub('year', p.birth_date, c.ref_date) < 75 then '65-74'
        when date_sub('year', p.birth_date, c.ref_date) < 85 then '75-84'
        else '85+'
    end as age_band,
    date_sub('year', p.birth_date, c.ref_date) >= getvariable('adult_age') as adult,
    l.imd_decile
from current_registration c
join patients p using (patient_key)
left join stg_lsoa l on l.lsoa_code = p.lsoa_code
where p.birth_date <= c.ref_date
  and (p.date_of_death is null or p.date_of_death > c.ref_date);
