-- Conditions, frailty and drug counts are computed: the staged GP record is not read
-- again, and its memory is better spent on the models and outputs.
drop table listed_observation;
drop table listed_medication;
drop table stg_observation;
drop table stg_medication;
