-- Average time between the pull-request events of a repository: (last - first) / (n - 1), for
-- repositories with at least two PullRequestEvents.
with per_repo as (
    select
        repo_id,
        max_by(repo_name, created_at) as repo_name,
        count(*) as pr_events,
        min(created_at) as first_pr_event_at,
        max(created_at) as last_pr_event_at
    from {{ ref('pull_request_events') }}
    group by repo_id
    having count(*) >= 2
)

select
    repo_id,
    repo_name,
    pr_events,
    first_pr_event_at,
    last_pr_event_at,
    cast({{ seconds_between('first_pr_event_at', 'last_pr_event_at') }} as double)
        / (pr_events - 1) as avg_seconds_between_pr_events
from per_repo
