-- The incremental dimensions agree with the data: first and last seen and event counts of
-- every actor, repository and organisation equal a fresh aggregate over the distinct bronze
-- events (so `last_seen` kept moving and nothing was counted twice across runs).
with distinct_events as (
    select distinct
        id,
        created_at,
        {{ json_int('actor', 'id') }} as actor_id,
        {{ json_int('repo', 'id') }} as repo_id,
        {{ json_int('org', 'id') }} as org_id
    from {{ source('gharchive', 'events') }}
),

actor_truth as (
    select actor_id as id, min(created_at) as first_seen, max(created_at) as last_seen, count(*) as events
    from distinct_events
    group by actor_id
),

repo_truth as (
    select repo_id as id, min(created_at) as first_seen, max(created_at) as last_seen, count(*) as events
    from distinct_events
    group by repo_id
),

org_truth as (
    select org_id as id, min(created_at) as first_seen, max(created_at) as last_seen, count(*) as events
    from distinct_events
    where org_id is not null
    group by org_id
)

select 'actor' as dimension, coalesce(t.id, d.actor_id) as id
from actor_truth as t
full outer join {{ ref('actors') }} as d on d.actor_id = t.id
where d.actor_id is null or t.id is null
   or d.first_seen <> t.first_seen or d.last_seen <> t.last_seen or d.events <> t.events

union all

select 'repo', coalesce(t.id, d.repo_id)
from repo_truth as t
full outer join {{ ref('repos') }} as d on d.repo_id = t.id
where d.repo_id is null or t.id is null
   or d.first_seen <> t.first_seen or d.last_seen <> t.last_seen or d.events <> t.events

union all

select 'org', coalesce(t.id, d.org_id)
from org_truth as t
full outer join {{ ref('orgs') }} as d on d.org_id = t.id
where d.org_id is null or t.id is null
   or d.first_seen <> t.first_seen or d.last_seen <> t.last_seen or d.events <> t.events
