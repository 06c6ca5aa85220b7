-- One row per star: a WatchEvent (action `started`) is a star, despite its name.
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    id as event_id,
    created_at,
    hour,
    {{ day_of('created_at') }} as day,
    actor_id,
    actor_login,
    is_bot,
    repo_id,
    repo_name,
    org_id,
    loaded_at
from {{ ref('events') }}
where type = 'WatchEvent'
  and {{ loaded_since_last_run() }}
