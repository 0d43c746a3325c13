-- population: one row per reference date per eligible patient (registered at a listed
-- practice and alive on that date), at the practice of their registration on that date.
create or replace table population as
with listed as (
    -- Each registration at a listed practice with its patient's details, once, before the
    -- reference dates multiply the rows.
    select
        r.pseudo_id,
        p.patient_key,
        r.practice_code,
        r.registered_from,
        r.registered_to,
        p.sex,
        p.birth_date,
        p.date_of_death,
        l.imd_decile,
        count(*) over (partition by p.patient_key) as registrations
    from stg_registration r
    join stg_practice using (practice_code)
    join stg_patient p on p.patient_key = patient_key_of(r.pseudo_id)
    left join stg_lsoa l on l.lsoa_code = p.lsoa_code
),
registrations as (
    select r.*, d.ref, d.ref_date, date_sub('year', r.birth_date, d.ref_date) as age
    from listed r
    cross join reference_date d
    where r.registered_from <= d.ref_date
      and (r.registered_to is null or r.registered_to > d.ref_date)
      and r.birth_date <= d.ref_date
      and (r.date_of_death is null or r.date_of_death > d.ref_date)
),
current_registration as (
    -- Overlapping registrations (a mover whose old practice has not yet ended it): the latest
    -- wins. Only patients with more than one registration can overlap, so only they are ranked.
    select * from registrations where registrations = 1
    union all
    select *
    from registrations
    where registrations > 1
    qualify row_number() over (partition by ref, patient_key order by registered_from desc, practice_code) = 1
)
select
    ref,
    ref_date,
    pseudo_id,
    patient_key,
    practice_code,
    sex,
    birth_date,
    age,
    case
        when age < 18 then '0-17'
        when age < 45 then '18-44'
        when age < 65 then '45-64'
        when age < 75 then '65-74'
        when age < 85 then '75-84'
        else '85+'
    end as age_band,
    age >= getvariable('adult_age') as adult,
    imd_decile
from current_registration;
