-- data_quality_by_practice: for every practice in the reference list, the lines of its files
-- and what became of them: loaded or rejected on reading, dropped in cleaning, kept. Lines,
-- not people; a practice that sent nothing says so. The manifest and the dashboard's data
-- quality feed both read this table.
create or replace table data_quality_by_practice as
with dropped as (
    select file_id, sum(rows)::BIGINT as dropped
    from dropped_row
    group by all
),
practice_file as (
    select f.practice_code, f.status, f.lines, f.loaded, f.rejected, coalesce(d.dropped, 0) as dropped
    from delivery_file f
    left join dropped d using (file_id)
    where f.practice_code is not null
)
select
    p.practice_code,
    case
        when count(f.practice_code) = 0 then 'no extract'
        when bool_or(f.status = 'quarantined') then 'quarantined'
        else 'loaded'
    end as status,
    coalesce(sum(f.lines), 0)::BIGINT as lines,
    coalesce(sum(f.loaded), 0)::BIGINT as loaded,
    coalesce(sum(f.rejected), 0)::BIGINT as rejected,
    coalesce(sum(f.dropped), 0)::BIGINT as dropped,
    (coalesce(sum(f.loaded), 0) - coalesce(sum(f.dropped), 0))::BIGINT as kept
from stg_practice p
left join practice_file f using (practice_code)
group by p.practice_code
order by p.practice_code;
