-- k-means over the repositories' activity profiles (`repo_activity_profiles`), in SQL so the
-- same project runs on DuckDB and Snowflake. `repo_clusters_k` clusters (default 5) are seeded
-- with k-means++ (a first repository drawn uniformly, then each next seed drawn with probability
-- proportional to its squared distance from the seeds so far) on a fixed pseudo-random sequence
-- (`repo_clusters_seed`), so a build gives the same clusters every time; then
-- `repo_clusters_iterations` Lloyd rounds (default 15), one pair of CTEs per round. A cluster
-- that loses all its repositories in a round ends there. One row per cluster: its size, its
-- centroid (standardised features, `z_*`) and a label read from the centroid: bots first (a
-- bot share over one standard deviation above the mean), then its strongest feature.
{%- set k = var('repo_clusters_k', 5) %}
{%- set iterations = var('repo_clusters_iterations', 15) %}
{%- set seed = var('repo_clusters_seed', 42) %}

with profiles as (
    select repo_id, events, {{ z_columns('p') }}
    from {{ ref('repo_activity_profiles') }} as p
),

seeds_1 as {{ materialized_cte() }}(
    select * from (
        select 1 as cluster, p.repo_id, {{ z_columns('p') }}
        from profiles as p
        order by {{ seeded_uniform('p.repo_id', seed * 1000 + 1) }}, p.repo_id
        limit 1
    ) as first_draw
),
{%- for draw in range(2, k + 1) %}

seeds_{{ draw }} as {{ materialized_cte() }}(
    select * from seeds_{{ draw - 1 }}
    union all
    select * from (
        select {{ draw }} as cluster, p.repo_id, {{ z_columns('p') }}
        from profiles as p
        inner join (
            select p.repo_id, min({{ squared_distance('p', 's') }}) as nearest
            from profiles as p
            cross join seeds_{{ draw - 1 }} as s
            where p.repo_id not in (select repo_id from seeds_{{ draw - 1 }})
            group by p.repo_id
        ) as d on d.repo_id = p.repo_id
        where d.nearest > 0
        {#- Weighted sampling as a race: the least `-ln(u) / weight` wins with probability
            proportional to the weight. #}
        order by -ln({{ seeded_uniform('p.repo_id', seed * 1000 + draw) }}) / d.nearest, p.repo_id
        limit 1
    ) as farthest
),
{%- endfor %}

centroids_0 as {{ materialized_cte() }}(
    select cluster, {{ z_columns('s') }} from seeds_{{ k }} as s
),
{%- for step in range(1, iterations + 1) %}

assigned_{{ step }} as {{ materialized_cte() }}(
    {{ nearest_centroid('profiles', 'centroids_' ~ (step - 1)) | indent(4) }}
),

centroids_{{ step }} as {{ materialized_cte() }}(
    select
        a.cluster,
        {%- for feature in cluster_features() %}
        round(avg(p.z_{{ feature }}), 12) as z_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from assigned_{{ step }} as a
    inner join profiles as p on p.repo_id = a.repo_id
    group by a.cluster
),
{%- endfor %}

final_assignment as (
    {{ nearest_centroid('profiles', 'centroids_' ~ iterations) | indent(4) }}
),

sized as (
    select a.cluster, count(*) as repos, avg(p.events) as avg_events
    from final_assignment as a
    inner join profiles as p on p.repo_id = a.repo_id
    group by a.cluster
),

strongest as (
    select
        c.*,
        greatest({{ z_columns('c') }}) as top_z
    from centroids_{{ iterations }} as c
)

select
    c.cluster,
    case
        when c.top_z < 0.5 then 'quiet: little of anything'
        when least(c.z_pushes, c.z_prs_opened, c.z_issues, c.z_comments, c.z_stars, c.z_actors) > 2 then 'flagship: busy on every front'
        when c.z_bot_share > 1 and c.z_pushes > 0 then 'bot-driven pushes'
        when c.z_bot_share > 1 then 'bot-driven'
        when c.z_prs_opened = c.top_z or c.z_prs_merged = c.top_z then 'PR-heavy collaborative'
        when c.z_issues = c.top_z or c.z_comments = c.top_z then 'issue and review discussion'
        when c.z_stars = c.top_z or c.z_forks = c.top_z then 'popular: starred and forked'
        when c.z_releases = c.top_z then 'release-driven'
        when c.z_actors = c.top_z then 'many contributors'
        when c.z_active_hours = c.top_z then 'steadily active'
        else 'push-heavy'
    end as label,
    s.repos,
    s.avg_events,
    {{ z_columns('c') }}
from strongest as c
inner join sized as s on s.cluster = c.cluster
