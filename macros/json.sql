{#- JSON access per warehouse, so the same models run on DuckDB and Snowflake. `path` is a
    dotted path below the column (`pull_request.merged_at`). On DuckDB the column is JSON; on
    Snowflake it is a VARIANT, read with `get_path` (so keys such as `distinct` need no quoting).
    A missing key or a value of the wrong type gives NULL. -#}

{% macro json_str(column, path) -%}
    {{ return(adapter.dispatch('json_str')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_str(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro snowflake__json_str(column, path) -%}
    get_path({{ column }}, '{{ path }}')::varchar
{%- endmacro %}

{% macro json_int(column, path) -%}
    {{ return(adapter.dispatch('json_int')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_int(column, path) -%}
    try_cast(json_extract_string({{ column }}, '$.{{ path }}') as bigint)
{%- endmacro %}

{% macro snowflake__json_int(column, path) -%}
    try_to_number(get_path({{ column }}, '{{ path }}')::varchar)
{%- endmacro %}

{% macro json_bool(column, path) -%}
    {{ return(adapter.dispatch('json_bool')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_bool(column, path) -%}
    try_cast(json_extract_string({{ column }}, '$.{{ path }}') as boolean)
{%- endmacro %}

{% macro snowflake__json_bool(column, path) -%}
    try_to_boolean(get_path({{ column }}, '{{ path }}')::varchar)
{%- endmacro %}

{#- An ISO-8601 UTC timestamp (`2024-05-01T00:00:02Z`) as a timestamp without time zone. -#}
{% macro json_ts(column, path) -%}
    {{ return(adapter.dispatch('json_ts')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_ts(column, path) -%}
    try_cast(json_extract_string({{ column }}, '$.{{ path }}') as timestamp)
{%- endmacro %}

{% macro snowflake__json_ts(column, path) -%}
    try_cast(get_path({{ column }}, '{{ path }}')::varchar as timestamp_ntz)
{%- endmacro %}

{#- True when the key is present (even with a JSON null value): tells the payload eras apart. -#}
{% macro json_has(column, path) -%}
    {{ return(adapter.dispatch('json_has')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_has(column, path) -%}
    coalesce(json_exists({{ column }}, '$.{{ path }}'), false)
{%- endmacro %}

{% macro snowflake__json_has(column, path) -%}
    (get_path({{ column }}, '{{ path }}') is not null)
{%- endmacro %}

{#- Number of elements of a JSON array (NULL when absent). -#}
{% macro json_array_length(column, path) -%}
    {{ return(adapter.dispatch('json_array_length')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_array_length(column, path) -%}
    cast(json_array_length({{ column }}, '$.{{ path }}') as bigint)
{%- endmacro %}

{% macro snowflake__json_array_length(column, path) -%}
    array_size(get_path({{ column }}, '{{ path }}'))
{%- endmacro %}

{#- One row per element of the JSON array at `path` in `column` of `relation`: the `columns`
    kept from each row, the element as `value` and its 1-based `position`. DuckDB unnests in
    the select list (a lateral join is several times slower there and holds every row's JSON
    per element); Snowflake flattens laterally. -#}
{% macro json_array_elements(relation, column, path, columns) -%}
    {{ return(adapter.dispatch('json_array_elements')(relation, column, path, columns)) }}
{%- endmacro %}

{% macro duckdb__json_array_elements(relation, column, path, columns) -%}
    select {{ columns | join(', ') }}, unnest(elements) as value, generate_subscripts(elements, 1) as position
    from (
        select {{ columns | join(', ') }}, json_extract({{ column }}, '$.{{ path }}[*]') as elements
        from {{ relation }}
    ) as with_elements
{%- endmacro %}

{% macro snowflake__json_array_elements(relation, column, path, columns) -%}
    select {% for c in columns %}r.{{ c }}, {% endfor %}f.value as value, f.index + 1 as position
    from {{ relation }} as r,
        lateral flatten(input => get_path(r.{{ column }}, '{{ path }}')) as f
{%- endmacro %}

{#- The strings of the JSON array at `path` as a list (DuckDB `varchar[]`, Snowflake ARRAY). -#}
{% macro json_string_list(column, path) -%}
    {{ return(adapter.dispatch('json_string_list')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_string_list(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}[*]')
{%- endmacro %}

{% macro snowflake__json_string_list(column, path) -%}
    get_path({{ column }}, '{{ path }}')::array
{%- endmacro %}
