{#- JSON access per warehouse, so the same models run on DuckDB and Snowflake. -#}

{% macro json_str(column, path) -%}
    {{ return(adapter.dispatch('json_str')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_str(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro snowflake__json_str(column, path) -%}
    {{ column }}:{{ path }}::varchar
{%- endmacro %}

{% macro json_int(column, path) -%}
    {{ return(adapter.dispatch('json_int')(column, path)) }}
{%- endmacro %}

{% macro duckdb__json_int(column, path) -%}
    try_cast(json_extract_string({{ column }}, '$.{{ path }}') as bigint)
{%- endmacro %}

{% macro snowflake__json_int(column, path) -%}
    try_to_number({{ column }}:{{ path }}::varchar)
{%- endmacro %}
