{#- Project-level helpers over silver events. -#}

{#- The payload format of an event: `trimmed` (GitHub's payloads since 2025-10-07) or `full`.
    Push and pull-request events say it themselves (a trimmed push has no `size`, a trimmed
    pull request no `state`); other types have the same payload in both formats, so the date
    decides (var `payload_trimmed_since`). -#}
{% macro payload_era(type_column, payload_column, created_at_column) -%}
    case
        when {{ type_column }} = 'PushEvent' then
            case when {{ json_has(payload_column, 'size') }} then 'full' else 'trimmed' end
        when {{ type_column }} = 'PullRequestEvent' then
            case when {{ json_has(payload_column, 'pull_request.state') }} then 'full' else 'trimmed' end
        when {{ created_at_column }} >= cast('{{ var("payload_trimmed_since") }}' as timestamp) then 'trimmed'
        else 'full'
    end
{%- endmacro %}

{#- Events per type in the last `minutes` minutes of `relation` (columns `type`,
    `created_at`), anchored to the latest `created_at` in it rather than the wall clock, so
    batch and test data give answers. The window is half-open: (latest - minutes, latest]. -#}
{% macro events_per_type_last_minutes(relation, minutes) -%}
with latest as (
    select max(created_at) as max_created_at from {{ relation }}
)

select
    e.type,
    count(*) as events,
    min(latest.max_created_at) as window_end
from {{ relation }} as e
cross join latest
where e.created_at > {{ minutes_before('latest.max_created_at', minutes) }}
group by e.type
{%- endmacro %}

{#- The columns every per-type silver table starts with: the event's key, time, actor, repo
    and org, as `silver.events` has them. -#}
{% macro event_columns() -%}
id as event_id,
    created_at,
    hour,
    actor_id,
    actor_login,
    is_bot,
    repo_id,
    repo_name,
    org_id
{%- endmacro %}
