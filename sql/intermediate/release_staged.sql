-- Conditions, frailty and drug counts are computed: the staged GP record is not read
-- again, and its memory is better spent on the models and outputs.
drop table listed_observation;
drop table medication_window;
drop view stg_observation;
drop view stg_medication;
drop table raw_observations;
drop table observation_drop;
drop table observation_copy;
drop table raw_medications;
drop table medication_drop;
drop table medication_copy;
