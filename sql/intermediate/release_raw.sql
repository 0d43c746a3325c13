-- The raw tables are staged and counted by now; their memory is better spent on what follows.
drop table raw_observations;
drop table raw_medications;
drop table raw_activity;
drop table raw_patients;
