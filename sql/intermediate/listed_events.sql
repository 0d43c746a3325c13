-- listed_observation: one row per coded entry whose code is on a codelist (per list);
-- listed_medication: one row per issue whose BNF chemical is on a medication list that a
-- condition rule names (polypharmacy counts every drug, from stg_medication itself).
-- Every rule below reads these, not the full record.
create or replace table listed_observation as
select o.patient_key, o.recorded_date, c.codelist
from stg_observation o
join codelist c on c.code = o.snomed_code and c.system = 'snomedct';

create or replace table listed_medication as
select m.patient_key, m.issue_date, c.codelist
from stg_medication m
join codelist c on c.code = m.bnf_chemical and c.system = 'bnf'
where c.codelist in (select medication from condition_rule);
