-- One row per commit listed in a full-format PushEvent (at most 20 per push: count commits
-- with `pushes.size`, not here). Trimmed payloads list no commits, so this holds full-era rows only.
{{ config(materialized='incremental', unique_key=['event_id', 'created_at', 'position'], incremental_strategy='delete+insert') }}

with pushes as (
    select id, created_at, hour, actor_id, repo_id, payload, loaded_at
    from {{ ref('events') }}
    where type = 'PushEvent'
      and payload_era = 'full'
      and {{ loaded_since_last_run() }}
)

select
    pushes.id as event_id,
    pushes.created_at,
    pushes.hour,
    pushes.actor_id,
    pushes.repo_id,
    {{ json_int('pushes.payload', 'push_id') }} as push_id,
    {{ json_array_position('c') }} as position,
    {{ json_str('c.value', 'sha') }} as sha,
    {{ json_str('c.value', 'author.email') }} as author_email,
    {{ json_str('c.value', 'author.name') }} as author_name,
    {{ json_str('c.value', 'message') }} as message,
    {{ json_bool('c.value', 'distinct') }} as is_distinct,
    pushes.loaded_at
from pushes
{{ json_array_rows('pushes.payload', 'commits', 'c') }}
