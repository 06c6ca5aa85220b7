-- One row per repository id: its current name (the name on its latest event; renames change
-- the name of an id, and a deleted and recreated repo gets a new id), its organisation, first
-- and last seen. Incremental like `actors`: touched repos are recomputed over all their events.
{{ config(materialized='incremental', unique_key='repo_id', incremental_strategy='delete+insert') }}

with touched as (
    select distinct repo_id
    from {{ ref('events') }}
    where repo_id is not null
      and {{ loaded_since_last_run('loaded_at', 'last_loaded_at') }}
)

select
    e.repo_id,
    max_by(e.repo_name, e.created_at) as repo_name,
    max_by(e.org_id, case when e.org_id is not null then e.created_at end) as org_id,
    min(e.created_at) as first_seen,
    max(e.created_at) as last_seen,
    count(*) as events,
    max(e.loaded_at) as last_loaded_at
from {{ ref('events') }} as e
where e.repo_id in (select repo_id from touched)
group by e.repo_id
