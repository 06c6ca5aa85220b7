-- The developer scores of an hour add up to the non-bot pushes and pull-request events of it.
with scored as (
    select hour from {{ ref('pushes') }} where not is_bot
    union all
    select hour from {{ ref('pull_request_events') }} where not is_bot
)

select s.hour
from (select hour, sum(score) as score from {{ ref('developer_scores_hourly') }} group by hour) as s
full outer join (select hour, count(*) as score from scored group by hour) as e
    on e.hour = s.hour
where s.score is distinct from e.score
