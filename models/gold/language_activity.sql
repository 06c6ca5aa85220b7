-- Events and active repositories per primary language (as GitHub's REST API reports it, through
-- `ghforge enrich`) and UTC day. Only enriched repositories count; `language` is NULL for
-- repositories GitHub gives no language.
select
    m.language,
    {{ day_of('e.created_at') }} as day,
    count(*) as events,
    count(distinct e.repo_id) as active_repos,
    count(distinct e.actor_id) as actors
from {{ ref('events') }} as e
inner join {{ ref('repo_metadata') }} as m on m.repo_id = e.repo_id
group by m.language, {{ day_of('e.created_at') }}
