{#- Date arithmetic per warehouse. -#}

{% macro hour_of(ts) -%}
    {{ return(adapter.dispatch('hour_of')(ts)) }}
{%- endmacro %}

{% macro default__hour_of(ts) -%}
    date_trunc('hour', {{ ts }})
{%- endmacro %}

{% macro minutes_before(ts, minutes) -%}
    {{ return(adapter.dispatch('minutes_before')(ts, minutes)) }}
{%- endmacro %}

{% macro duckdb__minutes_before(ts, minutes) -%}
    {{ ts }} - interval '{{ minutes }} minutes'
{%- endmacro %}

{% macro snowflake__minutes_before(ts, minutes) -%}
    dateadd('minute', -{{ minutes }}, {{ ts }})
{%- endmacro %}
