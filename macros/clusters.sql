{#- Helpers of the repository clusters (`repo_activity_profiles`, `repo_cluster_centroids`,
    `repo_clusters`): the activity features, and the squared distance between two rows'
    standardised features. -#}

{% macro cluster_features() -%}
    {{ return(['pushes', 'prs_opened', 'prs_merged', 'issues', 'comments', 'stars', 'forks',
               'releases', 'actors', 'bot_share', 'active_hours']) }}
{%- endmacro %}

{% macro squared_distance(left, right) -%}
    {%- for feature in cluster_features() %}
    {{ '+ ' if not loop.first }}({{ left }}.z_{{ feature }} - {{ right }}.z_{{ feature }}) * ({{ left }}.z_{{ feature }} - {{ right }}.z_{{ feature }})
    {%- endfor %}
{%- endmacro %}

{#- `materialized` for a CTE that later ones read more than once. DuckDB's optimizer otherwise
    inlines each such CTE into every reader, so a chain of k-means rounds costs time exponential
    in their number (8 rounds 0.3 s, 10 rounds 4 s, 15 never finish). Snowflake has no keyword
    for it and plans the chain once. -#}
{% macro materialized_cte() -%}
    {{ return('materialized ' if target.type == 'duckdb' else '') }}
{%- endmacro %}

{#- `alias.z_pushes, alias.z_prs_opened, ...` -#}
{% macro z_columns(alias) -%}
    {%- for feature in cluster_features() %}{{ alias }}.z_{{ feature }}{{ ', ' if not loop.last }}{% endfor -%}
{%- endmacro %}

{#- Each row of `profiles` with the nearest row of `centroids` (ties: the lower cluster), as
    `repo_id`, `cluster` and `squared_distance`. -#}
{% macro nearest_centroid(profiles, centroids) -%}
    select repo_id, cluster, squared_distance
    from (
        select
            p.repo_id,
            c.cluster,
            {{ squared_distance('p', 'c') }} as squared_distance,
            row_number() over (
                partition by p.repo_id
                order by {{ squared_distance('p', 'c') }}, c.cluster
            ) as nearness
        from {{ profiles }} as p
        cross join {{ centroids }} as c
    ) as ranked
    where nearness = 1
{%- endmacro %}

{#- A number in (0, 1) drawn from an integer `column` and an integer `salt`: two rounds of the
    Park-Miller generator, the same on every warehouse, so the clusters are seeded alike. -#}
{% macro seeded_uniform(column, salt) -%}
    ((((((abs({{ column }}) + {{ salt }}) % 2147483646 + 1) * 48271) % 2147483647) * 48271 % 2147483647) + 0.5) / 2147483647.0
{%- endmacro %}
