-- Stars per repository and UTC day, with their growth over the day before (a day without
-- stars counts 0): `star_growth` is the difference, `star_growth_ratio` the relative change
-- (NULL when the day before had none). `trend_rank` orders a day's repositories by growth.
-- `language` and `stargazers` (all-time stars) come from `ghforge enrich`, NULL when not enriched.
with daily as (
    select repo_id, day, count(*) as stars
    from {{ ref('stars') }}
    group by repo_id, day
),

names as (
    select repo_id, max_by(repo_name, created_at) as repo_name
    from {{ ref('stars') }}
    group by repo_id
)

select
    today.repo_id,
    names.repo_name,
    today.day,
    today.stars,
    coalesce(yesterday.stars, 0) as previous_day_stars,
    today.stars - coalesce(yesterday.stars, 0) as star_growth,
    case
        when yesterday.stars > 0 then cast(today.stars - yesterday.stars as double) / yesterday.stars
    end as star_growth_ratio,
    rank() over (
        partition by today.day
        order by today.stars - coalesce(yesterday.stars, 0) desc, today.stars desc
    ) as trend_rank,
    metadata.language,
    metadata.stars as stargazers
from daily as today
left join daily as yesterday
    on yesterday.repo_id = today.repo_id
    and yesterday.day = {{ day_before('today.day') }}
inner join names on names.repo_id = today.repo_id
left join {{ ref('repo_metadata') }} as metadata on metadata.repo_id = today.repo_id
