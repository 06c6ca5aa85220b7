-- Events per type in the last `recent_minutes` minutes, anchored to the latest event in the
-- data (not the wall clock), so batch and test data give answers.
with latest as (
    select max(created_at) as max_created_at from {{ ref('events') }}
)

select
    type,
    count(*) as events
from {{ ref('events') }}, latest
where created_at > {{ minutes_before('latest.max_created_at', var('recent_minutes')) }}
group by type
