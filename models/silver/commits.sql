-- One row per commit listed in a full-format PushEvent (at most 20 per push: count commits
-- with `pushes.size`, not here). Trimmed payloads list no commits, so this holds full-era rows only.
{{ config(materialized='incremental', unique_key=['event_id', 'created_at', 'position'], incremental_strategy='delete+insert') }}

with pushes as (
    select
        id,
        created_at,
        hour,
        actor_id,
        repo_id,
        {{ json_int('payload', 'push_id') }} as push_id,
        payload,
        loaded_at
    from {{ ref('events') }}
    where type = 'PushEvent'
      and payload_era = 'full'
      and {{ loaded_since_last_run() }}
),

listed as (
    {{ json_array_elements('pushes', 'payload', 'commits', ['id', 'created_at', 'hour', 'actor_id', 'repo_id', 'push_id', 'loaded_at']) }}
)

select
    id as event_id,
    created_at,
    hour,
    actor_id,
    repo_id,
    push_id,
    position,
    {{ json_str('value', 'sha') }} as sha,
    {{ json_str('value', 'author.email') }} as author_email,
    {{ json_str('value', 'author.name') }} as author_name,
    {{ json_str('value', 'message') }} as message,
    {{ json_bool('value', 'distinct') }} as is_distinct,
    loaded_at
from listed
