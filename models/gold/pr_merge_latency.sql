-- Time from opening to merge of every merged pull request, in either payload format: the
-- payload's `created_at` -> `merged_at` in the full format, the `opened` event -> the `merged`
-- event (joined on the pull request id) in the trimmed one. NULL when the data cannot tell
-- (a trimmed-era merge whose opening was never seen).
select
    pr_id,
    repo_id,
    pr_number,
    opened_at,
    merged_at,
    opened_at_source,
    merged_at_source,
    case
        when opened_at is not null and merged_at is not null
            then {{ seconds_between('opened_at', 'merged_at') }}
    end as merge_latency_seconds
from {{ ref('pull_requests') }}
where is_merged
