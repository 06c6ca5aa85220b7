-- +1 per PushEvent and PullRequestEvent by a non-bot actor, per hour.
select
    hour,
    actor_id,
    max_by(actor_login, created_at) as actor_login,
    count(*) as score
from {{ ref('events') }}
where not is_bot
  and type in ('PushEvent', 'PullRequestEvent')
group by hour, actor_id
