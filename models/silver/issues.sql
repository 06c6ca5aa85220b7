-- One row per IssuesEvent (opened, closed, reopened, labeled...), with the issue's id, number
-- and title. `issue_created_at` comes from the payload and may be NULL.
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    action,
    {{ json_int('payload', 'issue.id') }} as issue_id,
    {{ json_int('payload', 'issue.number') }} as issue_number,
    {{ json_str('payload', 'issue.title') }} as title,
    {{ json_str('payload', 'issue.state') }} as issue_state,
    {{ json_ts('payload', 'issue.created_at') }} as issue_created_at,
    payload_era,
    loaded_at
from {{ ref('events') }}
where type = 'IssuesEvent'
  and {{ loaded_since_last_run() }}
