-- One row per ForkEvent: the forked repository (`repo_id`) and the new fork (`forkee_*`).
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    {{ json_int('payload', 'forkee.id') }} as forkee_id,
    {{ json_str('payload', 'forkee.full_name') }} as forkee_full_name,
    loaded_at
from {{ ref('events') }}
where type = 'ForkEvent'
  and {{ loaded_since_last_run() }}
