-- One row per repository `ghforge enrich` asked GitHub's REST API about (`bronze.repo_metadata`),
-- typed. `repo_id` is the id GitHub answered with, so a renamed repository (asked under its old
-- name, answered under its new one) still joins the events of its id; when two asked names
-- answer with the same id, the latest answer is kept. A repository that is gone (404/410/451)
-- keeps its row, with `is_gone` and no metadata.
with typed as (
    select
        m.repo_name as requested_name,
        {{ json_int('m.body', 'id') }} as repo_id,
        coalesce({{ json_str('m.body', 'full_name') }}, m.repo_name) as repo_name,
        m.status = 'gone' as is_gone,
        m.http_status,
        {{ json_int('m.body', 'stargazers_count') }} as stars,
        {{ json_int('m.body', 'forks_count') }} as forks,
        {{ json_int('m.body', 'subscribers_count') }} as watchers,
        {{ json_int('m.body', 'open_issues_count') }} as open_issues,
        {{ json_str('m.body', 'language') }} as language,
        {{ json_str('m.body', 'license.spdx_id') }} as license_spdx_id,
        {{ json_string_list('m.body', 'topics') }} as topics,
        {{ json_ts('m.body', 'created_at') }} as created_at,
        {{ json_ts('m.body', 'pushed_at') }} as pushed_at,
        {{ json_bool('m.body', 'archived') }} as is_archived,
        {{ json_bool('m.body', 'fork') }} as is_fork,
        m.etag,
        m.fetched_at
    from {{ source('gharchive', 'repo_metadata') }} as m
),

ranked as (
    select
        typed.*,
        row_number() over (partition by repo_id order by fetched_at desc, requested_name) as answer_rank
    from typed
)

select
    requested_name, repo_id, repo_name, is_gone, http_status, stars, forks, watchers, open_issues,
    language, license_spdx_id, topics, created_at, pushed_at, is_archived, is_fork, etag, fetched_at
from ranked
where repo_id is null or answer_rank = 1
