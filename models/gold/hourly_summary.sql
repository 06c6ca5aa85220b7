-- Distinct events, actors and repositories per hour.
select
    hour,
    count(*) as events,
    count(distinct actor_id) as actors,
    count(distinct repo_id) as repos
from {{ ref('events') }}
group by hour
