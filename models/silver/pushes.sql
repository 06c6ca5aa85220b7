-- One row per PushEvent. `size` and `distinct_size` are the commit counts of a full-format
-- payload; trimmed payloads (since 2025-10-07) do not carry them, so they are NULL there, never 0.
-- Incremental on the bronze load time, like every per-type table (see `loaded_since_last_run`).
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    {{ json_int('payload', 'push_id') }} as push_id,
    {{ json_str('payload', 'ref') }} as ref,
    {{ json_str('payload', 'head') }} as head_sha,
    {{ json_str('payload', 'before') }} as before_sha,
    case when payload_era = 'full' then {{ json_int('payload', 'size') }} end as size,
    case when payload_era = 'full' then {{ json_int('payload', 'distinct_size') }} end as distinct_size,
    -- The commits listed in the payload: at most 20, so not a commit count.
    case when payload_era = 'full' then {{ json_array_length('payload', 'commits') }} end as commits_listed,
    payload_era,
    loaded_at
from {{ ref('events') }}
where type = 'PushEvent'
  and {{ loaded_since_last_run() }}
