-- One row per IssueCommentEvent (comments on issues and on pull requests' conversations).
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    action,
    {{ json_int('payload', 'issue.id') }} as issue_id,
    {{ json_int('payload', 'issue.number') }} as issue_number,
    {{ json_int('payload', 'comment.id') }} as comment_id,
    length({{ json_str('payload', 'comment.body') }}) as body_length,
    payload_era,
    loaded_at
from {{ ref('events') }}
where type = 'IssueCommentEvent'
  and {{ loaded_since_last_run() }}
