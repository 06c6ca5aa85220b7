-- Events per type in the last `recent_minutes` minutes before the latest event in the data
-- (not the wall clock), so batch and test data give answers. The question itself is the
-- `events_per_type_last_minutes` macro, usable in any model or analysis.
{{ events_per_type_last_minutes(ref('events'), var('recent_minutes')) }}
