-- Totals per actor over all silver events.
select
    actor_id,
    max_by(actor_login, created_at) as login,
    max(case when is_bot then 1 else 0 end) = 1 as is_bot,
    count(*) as events,
    count(case when type = 'PushEvent' then 1 end) as push_events,
    count(case when type = 'PullRequestEvent' then 1 end) as pull_request_events,
    count(case when type = 'IssuesEvent' then 1 end) as issues_events,
    count(case when type = 'IssueCommentEvent' then 1 end) as issue_comments,
    count(case when type = 'WatchEvent' then 1 end) as stars_given,
    count(distinct repo_id) as repos,
    min(created_at) as first_seen,
    max(created_at) as last_seen
from {{ ref('events') }}
where actor_id is not null
group by actor_id
