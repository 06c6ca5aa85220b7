-- A trimmed payload cannot tell a push's size or its commits: such pushes have NULL sizes
-- (never 0) and no rows in `commits`; a full-format push always has its size.
select 'push size' as what, event_id
from {{ ref('pushes') }}
where (payload_era = 'trimmed' and (size is not null or distinct_size is not null))
   or (payload_era = 'full' and size is null)

union all

select 'commit of a trimmed push', c.event_id
from {{ ref('commits') }} as c
inner join {{ ref('pushes') }} as p
    on p.event_id = c.event_id and p.created_at = c.created_at
where p.payload_era = 'trimmed'
