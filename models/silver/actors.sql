-- One row per actor id: the latest login, first and last seen, event count. Incremental: the
-- actors with events loaded since the last run are recomputed over all their silver events
-- (delete+insert on `actor_id`), so `last_seen` moves forward and `first_seen` never does.
{{ config(materialized='incremental', unique_key='actor_id', incremental_strategy='delete+insert') }}

with touched as (
    select distinct actor_id
    from {{ ref('events') }}
    where actor_id is not null
      and {{ loaded_since_last_run('loaded_at', 'last_loaded_at') }}
)

select
    e.actor_id,
    max_by(e.actor_login, e.created_at) as login,
    max(case when e.is_bot then 1 else 0 end) = 1 as is_bot,
    min(e.created_at) as first_seen,
    max(e.created_at) as last_seen,
    count(*) as events,
    max(e.loaded_at) as last_loaded_at
from {{ ref('events') }} as e
where e.actor_id in (select actor_id from touched)
group by e.actor_id
