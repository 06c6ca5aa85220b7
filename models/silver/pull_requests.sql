-- One row per pull request id: its lifecycle over every PullRequestEvent seen, in either
-- payload format. A table, rebuilt from `pull_request_events` on each run, so an open and a
-- merge that arrive in different hours or runs always meet.
--   opened_at: the PR's own `created_at` (full format), else the first `opened` event
--   merged_at: `merged_at` of a `closed` + `merged = true` event (full), else the time of the
--              first `merged` event (trimmed), else the time of a `closed` + merged event
--   closed_at: the latest `closed` or `merged` event, NULL when reopened since
{{ config(materialized='table') }}

with lifecycle as (
    select
        pr_id,
        max_by(repo_id, created_at) as repo_id,
        max_by(pr_number, created_at) as pr_number,
        min(pr_created_at) as payload_created_at,
        min(case when action = 'opened' then created_at end) as first_opened_event_at,
        max(case when action = 'closed' and pr_merged then pr_merged_at end) as payload_merged_at,
        min(case when action = 'merged' then created_at end) as first_merged_event_at,
        min(case when is_merge then created_at end) as first_merge_event_at,
        max(case when action in ('closed', 'merged') then created_at end) as last_closed_at,
        max(case when action = 'reopened' then created_at end) as last_reopened_at,
        min(created_at) as first_event_at,
        max(created_at) as last_event_at,
        count(*) as events,
        max(case when payload_era = 'full' then 1 else 0 end) = 1 as has_full_payload
    from {{ ref('pull_request_events') }}
    where pr_id is not null
    group by pr_id
)

select
    pr_id,
    repo_id,
    pr_number,
    coalesce(payload_created_at, first_opened_event_at) as opened_at,
    case
        when payload_created_at is not null then 'payload'
        when first_opened_event_at is not null then 'opened_event'
    end as opened_at_source,
    case
        when last_reopened_at is null or last_closed_at > last_reopened_at then last_closed_at
    end as closed_at,
    coalesce(payload_merged_at, first_merged_event_at, first_merge_event_at) as merged_at,
    case
        when payload_merged_at is not null then 'payload'
        when first_merged_event_at is not null or first_merge_event_at is not null then 'merge_event'
    end as merged_at_source,
    coalesce(payload_merged_at, first_merged_event_at, first_merge_event_at) is not null as is_merged,
    case
        when coalesce(payload_merged_at, first_merged_event_at, first_merge_event_at) is not null then 'merged'
        when last_closed_at is not null and (last_reopened_at is null or last_closed_at > last_reopened_at) then 'closed'
        else 'open'
    end as state,
    first_event_at,
    last_event_at,
    events,
    has_full_payload
from lifecycle
