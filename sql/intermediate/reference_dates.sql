-- activity_coverage: where the delivery's secondary care begins: the first month with at least
-- a quarter of a typical month's activity, so a stray early record does not stretch everyone's
-- history. The experience rating looks back no further.
create or replace table activity_coverage as
with monthly as materialized (
    select date_trunc('month', start_date) as month, count(*) as events from stg_activity group by 1
)
select min(month)::DATE as coverage_start
from monthly
where events >= 0.25 * (select median(events) from monthly);

-- reference_date keeps the history dates only where the year after them holds secondary care:
-- the clinical record on an earlier date would describe a year no event can be compared with.
delete from reference_date
where years_back > 2
  and (
      (select coverage_start from activity_coverage) is null
      or ref_date + to_months(12) <= (select coverage_start from activity_coverage) - interval 1 day
  );
