{#- Date arithmetic per warehouse. Timestamps are UTC without time zone. -#}

{% macro hour_of(ts) -%}
    {{ return(adapter.dispatch('hour_of')(ts)) }}
{%- endmacro %}

{% macro default__hour_of(ts) -%}
    date_trunc('hour', {{ ts }})
{%- endmacro %}

{% macro snowflake__hour_of(ts) -%}
    date_trunc('hour', {{ ts }})
{%- endmacro %}

{#- The UTC day of a timestamp, as a date. -#}
{% macro day_of(ts) -%}
    {{ return(adapter.dispatch('day_of')(ts)) }}
{%- endmacro %}

{% macro default__day_of(ts) -%}
    cast(date_trunc('day', {{ ts }}) as date)
{%- endmacro %}

{% macro snowflake__day_of(ts) -%}
    to_date({{ ts }})
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

{#- The day before a date. -#}
{% macro day_before(day) -%}
    {{ return(adapter.dispatch('day_before')(day)) }}
{%- endmacro %}

{% macro duckdb__day_before(day) -%}
    cast({{ day }} - interval '1 day' as date)
{%- endmacro %}

{% macro snowflake__day_before(day) -%}
    dateadd('day', -1, {{ day }})
{%- endmacro %}

{#- Whole seconds from `start` to `end` (negative when `end` is earlier). -#}
{% macro seconds_between(start, end) -%}
    {{ return(adapter.dispatch('seconds_between')(start, end)) }}
{%- endmacro %}

{% macro duckdb__seconds_between(start, end) -%}
    date_diff('second', {{ start }}, {{ end }})
{%- endmacro %}

{% macro snowflake__seconds_between(start, end) -%}
    datediff('second', {{ start }}, {{ end }})
{%- endmacro %}
