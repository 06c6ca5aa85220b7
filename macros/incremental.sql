{#- The filter of an incremental silver model: on an incremental run, only rows whose
    `column` (the bronze load time, carried through silver) is at or after the latest one
    already in `{{ this }}`; the latest load is re-read on purpose, and the models' unique keys
    make that re-read idempotent. Filtering on load time rather than event hour also picks up
    an old hour loaded late (a backfill or `ghforge load --force`). Elsewhere: every row. -#}
{% macro loaded_since_last_run(column='loaded_at', this_column=none) -%}
    {%- if is_incremental() -%}
        {{ column }} >= (
            select coalesce(max({{ this_column or column }}), cast('1900-01-01' as timestamp))
            from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
