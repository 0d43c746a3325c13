-- cohort_groups: placeholder
select 1;
