-- Share of events by bots per hour (bots: `[bot]` logins and the `known_bots` seed).
select
    hour,
    count(*) as events,
    count(case when is_bot then 1 end) as bot_events,
    cast(count(case when is_bot then 1 end) as double) / count(*) as bot_share
from {{ ref('events') }}
group by hour
