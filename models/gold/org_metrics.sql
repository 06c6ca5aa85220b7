-- Totals per organisation, over the events of its repositories.
select
    org_id,
    max_by(org_login, created_at) as login,
    count(*) as events,
    count(distinct repo_id) as repos,
    count(distinct actor_id) as actors,
    count(case when type = 'PushEvent' then 1 end) as push_events,
    count(case when type = 'PullRequestEvent' then 1 end) as pull_request_events,
    count(case when type = 'WatchEvent' then 1 end) as stars,
    min(created_at) as first_seen,
    max(created_at) as last_seen
from {{ ref('events') }}
where org_id is not null
group by org_id
