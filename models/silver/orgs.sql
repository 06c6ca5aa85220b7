-- One row per organisation id (events of repos that belong to an organisation): the latest
-- login, first and last seen. Incremental like `actors`.
{{ config(materialized='incremental', unique_key='org_id', incremental_strategy='delete+insert') }}

with touched as (
    select distinct org_id
    from {{ ref('events') }}
    where org_id is not null
      and {{ loaded_since_last_run('loaded_at', 'last_loaded_at') }}
)

select
    e.org_id,
    max_by(e.org_login, e.created_at) as login,
    min(e.created_at) as first_seen,
    max(e.created_at) as last_seen,
    count(*) as events,
    count(distinct e.repo_id) as repos,
    max(e.loaded_at) as last_loaded_at
from {{ ref('events') }} as e
where e.org_id in (select org_id from touched)
group by e.org_id
