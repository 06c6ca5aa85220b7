-- One row per CreateEvent: a repository, branch or tag was created (`ref_type`).
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    {{ json_str('payload', 'ref') }} as ref,
    {{ json_str('payload', 'ref_type') }} as ref_type,
    {{ json_str('payload', 'master_branch') }} as master_branch,
    {{ json_str('payload', 'pusher_type') }} as pusher_type,
    loaded_at
from {{ ref('events') }}
where type = 'CreateEvent'
  and {{ loaded_since_last_run() }}
