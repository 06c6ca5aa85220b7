-- Every per-type silver table holds exactly the distinct bronze events of its type, after any
-- mix of full and incremental runs. (The truth is recomputed from bronze rather than read from
-- silver events, so this test has only the per-type tables as parents.)
with per_type as (
    select 'PushEvent' as type, count(*) as n from {{ ref('pushes') }}
    union all select 'PullRequestEvent', count(*) from {{ ref('pull_request_events') }}
    union all select 'IssuesEvent', count(*) from {{ ref('issues') }}
    union all select 'IssueCommentEvent', count(*) from {{ ref('issue_comments') }}
    union all select 'WatchEvent', count(*) from {{ ref('stars') }}
    union all select 'ForkEvent', count(*) from {{ ref('forks') }}
    union all select 'ReleaseEvent', count(*) from {{ ref('releases') }}
    union all select 'CreateEvent', count(*) from {{ ref('creates') }}
    union all select 'DeleteEvent', count(*) from {{ ref('deletes') }}
),

in_bronze as (
    select type, count(*) as n
    from (select distinct id, created_at, type from {{ source('gharchive', 'events') }}) as distinct_events
    group by type
)

select per_type.type, per_type.n as in_table, coalesce(in_bronze.n, 0) as in_bronze
from per_type
left join in_bronze on in_bronze.type = per_type.type
where per_type.n <> coalesce(in_bronze.n, 0)
