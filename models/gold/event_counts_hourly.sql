-- Distinct events per hour and type.
select
    hour,
    type,
    count(*) as events
from {{ ref('events') }}
group by hour, type
