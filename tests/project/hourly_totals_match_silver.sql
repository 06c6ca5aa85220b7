-- Per-hour totals in gold equal the distinct events in silver.
select g.hour
from (select hour, sum(events) as events from {{ ref('event_counts_hourly') }} group by hour) g
full outer join (select hour, count(*) as events from {{ ref('events') }} group by hour) s
    on g.hour = s.hour
where g.events is distinct from s.events
