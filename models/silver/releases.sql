-- One row per ReleaseEvent (action `published` and, rarely, others).
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    action,
    {{ json_str('payload', 'release.tag_name') }} as tag_name,
    {{ json_str('payload', 'release.name') }} as release_name,
    {{ json_bool('payload', 'release.draft') }} as is_draft,
    {{ json_bool('payload', 'release.prerelease') }} as is_prerelease,
    {{ json_ts('payload', 'release.published_at') }} as published_at,
    loaded_at
from {{ ref('events') }}
where type = 'ReleaseEvent'
  and {{ loaded_since_last_run() }}
