{{ config(materialized='incremental', unique_key=['id', 'created_at'], incremental_strategy='delete+insert') }}

with source_events as (
    select *
    from {{ source('gharchive', 'events') }}
    {% if is_incremental() %}
    where hour >= (select coalesce(max(hour), '1970-01-01') from {{ this }})
    {% endif %}
),

deduplicated as (
    select *
    from source_events
    qualify row_number() over (partition by id, created_at order by hour, line_number) = 1
)

select
    id,
    type,
    created_at,
    {{ hour_of('created_at') }} as hour,
    {{ json_int('actor', 'id') }} as actor_id,
    {{ json_str('actor', 'login') }} as actor_login,
    {{ json_int('repo', 'id') }} as repo_id,
    {{ json_str('repo', 'name') }} as repo_name,
    {{ json_int('org', 'id') }} as org_id,
    {{ json_str('org', 'login') }} as org_login,
    public,
    payload,
    (
        {{ json_str('actor', 'login') }} like '%[bot]'
        or {{ json_str('actor', 'login') }} in (select login from {{ ref('known_bots') }})
    ) as is_bot
from deduplicated
