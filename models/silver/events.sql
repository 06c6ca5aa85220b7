-- One row per distinct event: bronze deduplicated on (id, created_at) — never on id alone,
-- GitHub renumbered ids in late 2025 — with actor, repo and org flattened, the bot flag and the
-- payload format. Incremental on the bronze load time: a run reads the hours loaded since the
-- latest one already here (that one included), so an event repeated in a neighbouring hour
-- replaces its earlier copy instead of adding a second row.
{{ config(
    materialized='incremental',
    unique_key=['id', 'created_at'],
    incremental_strategy='delete+insert',
) }}

with source_events as (
    select *
    from {{ source('gharchive', 'events') }}
    where {{ loaded_since_last_run('loaded_at') }}
),

deduplicated as (
    select *
    from source_events
    qualify row_number() over (partition by id, created_at order by hour, line_number) = 1
),

flattened as (
    select
        id,
        type,
        {{ json_str('payload', 'action') }} as action,
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
        {{ payload_era('type', 'payload', 'created_at') }} as payload_era,
        loaded_at
    from deduplicated
)

select
    flattened.*,
    coalesce(
        lower(actor_login) like '%[bot]'
        or lower(actor_login) in (select lower(login) from {{ ref('known_bots') }}),
        false
    ) as is_bot
from flattened
