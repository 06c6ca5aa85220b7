-- The most active repositories in the last `active_window_minutes` minutes before the latest
-- event (event count, every type), ranked; ties share a rank.
with latest as (
    select max(created_at) as window_end from {{ ref('events') }}
),

per_repo as (
    select
        e.repo_id,
        max_by(e.repo_name, e.created_at) as repo_name,
        count(*) as events,
        count(distinct e.actor_id) as actors,
        min(latest.window_end) as window_end
    from {{ ref('events') }} as e
    cross join latest
    where e.created_at > {{ minutes_before('latest.window_end', var('active_window_minutes')) }}
    group by e.repo_id
)

select
    repo_id,
    repo_name,
    events,
    actors,
    {{ minutes_before('window_end', var('active_window_minutes')) }} as window_start,
    window_end,
    rank() over (order by events desc) as activity_rank
from per_repo
