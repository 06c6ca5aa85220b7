-- Each repository's activity profile, the input of the repository clusters: counts of pushes,
-- pull requests opened and merged, issues opened, comments, stars, forks, releases, distinct
-- actors and active hours, log-scaled (`ln(1 + n)`), and the share of its events by bots; each
-- feature also standardised over all profiled repositories (`z_*`: mean 0, standard deviation 1;
-- 0 when every repository has the same value). Repositories with fewer than
-- `repo_clusters_min_events` events are left out: one event is no profile. The mean and
-- standard deviation are rounded to 12 decimals: a parallel sum may differ in its last bits from
-- run to run, and the profiles (and the clusters after them) must not.
with counts as (
    select
        e.repo_id,
        count(*) as events,
        count(case when e.type = 'PushEvent' then 1 end) as pushes,
        count(case when e.type = 'PullRequestEvent' and e.action = 'opened' then 1 end) as prs_opened,
        count(case when e.type = 'IssuesEvent' and e.action = 'opened' then 1 end) as issues,
        count(case when e.type in ('IssueCommentEvent', 'PullRequestReviewCommentEvent', 'CommitCommentEvent') then 1 end) as comments,
        count(case when e.type = 'WatchEvent' then 1 end) as stars,
        count(case when e.type = 'ForkEvent' then 1 end) as forks,
        count(case when e.type = 'ReleaseEvent' then 1 end) as releases,
        count(distinct e.actor_id) as actors,
        cast(count(case when e.is_bot then 1 end) as double) / count(*) as bot_share,
        count(distinct e.hour) as active_hours
    from {{ ref('events') }} as e
    where e.repo_id is not null
    group by e.repo_id
    having count(*) >= {{ var('repo_clusters_min_events', 3) }}
),

merged as (
    select repo_id, count(*) as prs_merged
    from {{ ref('pull_requests') }}
    where merged_at is not null
    group by repo_id
),

scaled as (
    select
        c.repo_id,
        c.events,
        {%- for feature in cluster_features() %}
        {%- if feature == 'bot_share' %}
        c.bot_share as x_bot_share{{ ',' if not loop.last }}
        {%- elif feature == 'prs_merged' %}
        ln(1 + coalesce(m.prs_merged, 0)) as x_prs_merged{{ ',' if not loop.last }}
        {%- else %}
        ln(1 + c.{{ feature }}) as x_{{ feature }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from counts as c
    left join merged as m on m.repo_id = c.repo_id
),

moments as (
    select
        {%- for feature in cluster_features() %}
        round(avg(x_{{ feature }}), 12) as mean_{{ feature }},
        round(stddev_pop(x_{{ feature }}), 12) as sd_{{ feature }}{{ ',' if not loop.last }}
        {%- endfor %}
    from scaled
)

select
    s.repo_id,
    r.repo_name,
    s.events,
    {%- for feature in cluster_features() %}
    s.x_{{ feature }},
    coalesce((s.x_{{ feature }} - mom.mean_{{ feature }}) / nullif(mom.sd_{{ feature }}, 0), 0) as z_{{ feature }}{{ ',' if not loop.last }}
    {%- endfor %}
from scaled as s
cross join moments as mom
inner join {{ ref('repos') }} as r on r.repo_id = s.repo_id
