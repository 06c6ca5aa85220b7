-- Totals per repository. `pushed_commits` sums the pushes' `size` and is NULL when any push of
-- the repository has a trimmed payload (which does not tell), never an undercount. `language`
-- and `stargazers` (all-time stars) come from GitHub's REST API through `ghforge enrich`; NULL
-- for repositories not enriched.
with per_repo as (
    select
        repo_id,
        max_by(repo_name, created_at) as repo_name,
        max_by(org_id, case when org_id is not null then created_at end) as org_id,
        count(*) as events,
        count(distinct actor_id) as actors,
        count(case when type = 'PushEvent' then 1 end) as push_events,
        count(case when type = 'WatchEvent' then 1 end) as stars,
        count(case when type = 'ForkEvent' then 1 end) as forks,
        count(case when type = 'PullRequestEvent' then 1 end) as pull_request_events,
        count(case when type = 'IssuesEvent' and action = 'opened' then 1 end) as issues_opened,
        count(case when type = 'ReleaseEvent' then 1 end) as releases,
        min(created_at) as first_seen,
        max(created_at) as last_seen
    from {{ ref('events') }}
    where repo_id is not null
    group by repo_id
),

pushed as (
    select
        repo_id,
        case when count(size) = count(*) then cast(sum(size) as bigint) end as pushed_commits
    from {{ ref('pushes') }}
    group by repo_id
),

prs as (
    select
        repo_id,
        count(*) as pull_requests,
        count(case when is_merged then 1 end) as pull_requests_merged
    from {{ ref('pull_requests') }}
    group by repo_id
),

metadata as (
    select repo_id, language, stars as stargazers
    from {{ ref('repo_metadata') }}
    where repo_id is not null
)

select
    per_repo.repo_id,
    per_repo.repo_name,
    per_repo.org_id,
    per_repo.events,
    per_repo.actors,
    per_repo.push_events,
    pushed.pushed_commits,
    per_repo.stars,
    per_repo.forks,
    per_repo.pull_request_events,
    coalesce(prs.pull_requests, 0) as pull_requests,
    coalesce(prs.pull_requests_merged, 0) as pull_requests_merged,
    per_repo.issues_opened,
    per_repo.releases,
    per_repo.first_seen,
    per_repo.last_seen,
    metadata.language,
    metadata.stargazers
from per_repo
left join pushed on pushed.repo_id = per_repo.repo_id
left join prs on prs.repo_id = per_repo.repo_id
left join metadata on metadata.repo_id = per_repo.repo_id
