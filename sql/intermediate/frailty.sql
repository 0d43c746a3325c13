-- patient_drugs: one row per reference date per patient with issues in the 12 months to it:
-- how many distinct drugs (BNF chemical substances from the chapters polypharmacy counts, 1-15:
-- no dressings or appliances); polypharmacy and the models read it.
-- patient_deficit: one row per reference date per eligible patient per eFI-style deficit;
-- patient_frailty: one row per reference date per eligible patient, with the eFI-style
-- score and category, the latest coded frailty severity, the HFRS, and which rules fired.
create or replace table patient_drugs as
select ref, patient_key, count(*) as distinct_drugs_12m
from medication_window
where within_months = getvariable('polypharmacy_months')
  and left(bnf_chemical, 2) between getvariable('polypharmacy_chapter_from') and getvariable('polypharmacy_chapter_to')
group by all;

create or replace table patient_deficit as
with numbered_deficits as (
    -- deficit_no: one small integer per deficit, so the large grouping below keys on numbers.
    select *, (row_number() over (order by deficit_id))::SMALLINT as deficit_no
    from deficit_rule
),
deficit_codes as materialized (
    -- Codes meet the deficits before the reference dates: fewer rows to repeat per date.
    select o.patient_key, o.recorded_date, d.deficit_no
    from listed_observation o
    join numbered_deficits d on d.codelist = o.codelist
),
coded as (
    -- A coded deficit counts from its first code on: met on the dates of the patient's
    -- population rows (which carry the date), so no row is made for a date they were not eligible.
    select p.ref, c.patient_key, c.deficit_no
    from (select patient_key, deficit_no, min(recorded_date) as first_date from deficit_codes group by all) c
    join population p on p.patient_key = c.patient_key and c.first_date <= p.ref_date
),
polypharmacy as (
    select g.ref, g.patient_key, d.deficit_no
    from patient_drugs g
    join numbered_deficits d on d.min_distinct_drugs is not null and g.distinct_drugs_12m >= d.min_distinct_drugs
    semi join population p on p.ref = g.ref and p.patient_key = g.patient_key
)
select c.ref, c.patient_key, d.deficit_id
from (select * from coded union all select * from polypharmacy) c
join numbered_deficits d using (deficit_no);

create or replace table patient_frailty as
with deficits as (
    select ref, patient_key, count(*) as efi_deficits
    from patient_deficit
    group by all
),
coded_frailty as (
    -- The latest severity code in the window; on a tie, the more severe.
    select w.ref, o.patient_key, arg_max(s.severity, (o.recorded_date, s.rank)) as coded_frailty
    from listed_observation o
    join frailty_severity s on s.codelist = o.codelist
    join days_before(getvariable('coded_frailty_months')) w on w.day = o.recorded_date
    group by all
),
hfrs_codes as (
    select distinct w.ref, a.patient_key, left(unnest(a.diagnoses), 3) as icd10_code
    from stg_activity a
    -- Read on the dates the models and the cohorts use, not the earlier dates kept for the
    -- experience rating's record, whose windows reach back before the delivery's secondary care.
    join days_before(getvariable('hfrs_months')) w on w.day = a.start_date and w.years_back <= 2
    -- Admitted-patient spells only, as Gilbert et al. scored them.
    where list_contains(getvariable('hfrs_settings'), a.setting)
),
hfrs as (
    select c.ref, c.patient_key, round(sum(h.points), 1) as hfrs
    from hfrs_codes c
    join hfrs_points h using (icd10_code)
    group by all
),
scored as (
    select
        p.ref,
        p.patient_key,
        coalesce(d.efi_deficits, 0) as efi_deficits,
        coalesce(d.efi_deficits, 0) / getvariable('efi_deficit_count') as efi_score,
        coalesce(c.coded_frailty, 'none') as coded_frailty,
        case when r.years_back <= 2 then coalesce(h.hfrs, 0) end as hfrs
    from population p
    join reference_date r on r.ref = p.ref
    left join deficits d on d.ref = p.ref and d.patient_key = p.patient_key
    left join coded_frailty c on c.ref = p.ref and c.patient_key = p.patient_key
    left join hfrs h on h.ref = p.ref and h.patient_key = p.patient_key
),
categorised as (
    select
        *,
        -- Cut-offs on deficit counts (0.12 x 36 = 4.32 ...), so floating point never decides.
        case
            when efi_deficits <= floor(0.12 * getvariable('efi_deficit_count')) then 'fit'
            when efi_deficits <= floor(0.24 * getvariable('efi_deficit_count')) then 'mild'
            when efi_deficits <= floor(0.36 * getvariable('efi_deficit_count')) then 'moderate'
            else 'severe'
        end as efi_category
    from scored
)
select
    *,
    list_filter(
        [
            case when coded_frailty in ('moderate', 'severe') then 'coded_frailty' end,
            case when efi_category in ('moderate', 'severe') then 'efi' end,
            case when hfrs >= getvariable('hfrs_marker_at_least') then 'hfrs' end
        ],
        x -> x is not null
    ) as frailty_rules,
    len(frailty_rules) > 0 as frailty
from categorised;
