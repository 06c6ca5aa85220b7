-- Totals per event type: events, distinct actors and repos, bot events, share of all events.
with per_type as (
    select
        type,
        count(*) as events,
        count(distinct actor_id) as actors,
        count(distinct repo_id) as repos,
        count(case when is_bot then 1 end) as bot_events,
        min(created_at) as first_seen,
        max(created_at) as last_seen
    from {{ ref('events') }}
    group by type
)

select
    type,
    events,
    actors,
    repos,
    bot_events,
    cast(events as double) / sum(events) over () as share_of_events,
    first_seen,
    last_seen
from per_type
