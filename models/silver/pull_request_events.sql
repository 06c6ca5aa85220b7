-- One row per PullRequestEvent. Full-format payloads carry the pull request's own timestamps
-- and merge flag; trimmed ones (since 2025-10-07) only its id and number, so those columns are
-- NULL there, and a merge is the action `merged` instead of `closed` with `merged = true`.
{{ config(materialized='incremental', unique_key=['event_id', 'created_at'], incremental_strategy='delete+insert') }}

select
    {{ event_columns() }},
    action,
    {{ json_int('payload', 'pull_request.id') }} as pr_id,
    coalesce({{ json_int('payload', 'pull_request.number') }}, {{ json_int('payload', 'number') }}) as pr_number,
    {{ json_str('payload', 'pull_request.state') }} as pr_state,
    {{ json_ts('payload', 'pull_request.created_at') }} as pr_created_at,
    {{ json_ts('payload', 'pull_request.closed_at') }} as pr_closed_at,
    {{ json_bool('payload', 'pull_request.merged') }} as pr_merged,
    {{ json_ts('payload', 'pull_request.merged_at') }} as pr_merged_at,
    {{ json_int('payload', 'pull_request.additions') }} as additions,
    {{ json_int('payload', 'pull_request.deletions') }} as deletions,
    {{ json_int('payload', 'pull_request.changed_files') }} as changed_files,
    (action = 'merged' or (action = 'closed' and {{ json_bool('payload', 'pull_request.merged') }})) as is_merge,
    payload_era,
    loaded_at
from {{ ref('events') }}
where type = 'PullRequestEvent'
  and {{ loaded_since_last_run() }}
