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

-- days_before(months), days_after(months): every day of each reference date's window of that
-- many months up to the date (the date included) or after it. A dated record meets its window
-- through an equality join on the day (a hash join) rather than a range join over every row.
create or replace macro days_before(months) as table
select ref, years_back, unnest(generate_series((ref_date - to_months(months))::DATE + 1, ref_date, interval 1 day))::DATE as day
from reference_date;

create or replace macro days_after(months) as table
select ref, years_back, unnest(generate_series(ref_date + 1, (ref_date + to_months(months))::DATE, interval 1 day))::DATE as day
from reference_date;
