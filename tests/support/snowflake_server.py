"""Snowflake emulator for ghforge's tests: fakesnow's server, fixed for the Rust connector.

fakesnow (https://github.com/tekumara/fakesnow) emulates Snowflake's REST API on DuckDB, but it
speaks the dialect of the Python connector. `snowflake-connector-rs` 1.1 needs three things it
does not give, so this module wraps fakesnow's Starlette app (same process, plain ASGI) and:

1. login: adds an empty `SESSION_PARAMETERS` when the client sent none (fakesnow reads the key
   unconditionally and answers 500 without it);
2. query results: decodes fakesnow's base64 Arrow rowset and answers in Snowflake's JSON result
   format instead (`queryResultFormat: "json"`, `rowset` as arrays of strings or nulls), which is
   the only format the Rust connector reads;
3. query errors: answers HTTP 200 with `success: false`, `code`, `message`, a top-level `sqlState`
   and `data.queryId` / `data.errorCode` / `data.sqlState`, as Snowflake does; without a
   `data.queryId` the connector reports a parse error instead of Snowflake's code and message.

It also makes fakesnow accept NULL binds (`{"type": "FIXED", "value": null}` crashed it), binds
REAL values as floats rather than text, and returns DuckDB LIST / STRUCT / MAP results (from
`array_construct`, `array_agg`, ...) as ARRAY / OBJECT instead of failing with
`NotImplementedError: for column type INTEGER[]`.

A temporary table created under a qualified name (`create temporary table "DB"."S"."T"`, how
ghforge stages incremental rows on Snowflake) becomes a plain table: fakesnow runs on DuckDB,
whose temporary tables live only in its `temp` catalog. The plans drop the table when done.

FLATTEN's INDEX (and PATH) of an array element is the element's position, as on Snowflake:
fakesnow numbers the unnested elements with `row_number() OVER ()`, which follows no order, so a
lateral FLATTEN over many rows (the commits of pushes) gave elements the positions of others.

Run it through `scripts/snowflake-emulator.sh`, which creates the venv it needs. The server binds
before it starts, then prints the port as the first line of stdout once it answers requests; all
logging goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextvars
import datetime
import decimal
import gzip
import json
import logging
import math
import re
import socket
import string
import sys
import threading
import uuid
import warnings
from typing import Any, Callable

import pyarrow as pa
import uvicorn

import fakesnow.macros as fakesnow_macros
import fakesnow.server as fakesnow_server

LOGIN_PATH = "/session/v1/login-request"
QUERY_PATH = "/queries/v1/query-request"

# fakesnow prefixes messages with the code and SQL state ("002003 (42S02): ..."); Snowflake's
# `message` field carries neither, they come in `code` and `sqlState`.
MESSAGE_PREFIX = re.compile(r"^\d{6} \([0-9A-Z]{5}\): ")

EPOCH_DATE = datetime.date(1970, 1, 1)

# ---------------------------------------------------------------------------------------------
# Arrow rowset -> Snowflake JSON rowset
# ---------------------------------------------------------------------------------------------


def _fixed(value: Any, column: dict[str, Any]) -> str:
    """NUMBER(p, s): decimal text with exactly `s` digits after the point, as Snowflake sends."""
    scale = column.get("scale") or 0
    if isinstance(value, decimal.Decimal):
        return format(value, f".{scale}f")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if scale == 0:
            return str(value)
        return format(decimal.Decimal(value), f".{scale}f")
    return format(decimal.Decimal(str(value)), f".{scale}f")


def _real(value: Any, _column: dict[str, Any]) -> str:
    """FLOAT: shortest round-tripping text; Snowflake's spellings of the non-finite values."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return repr(value)


def _boolean(value: Any, _column: dict[str, Any]) -> str:
    return "1" if value else "0"


def _date(value: Any, _column: dict[str, Any]) -> str:
    """DATE: days since 1970-01-01."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return str((value - EPOCH_DATE).days)
    return str(int(value))


def _scaled_seconds(total_nanos: int, scale: int) -> str:
    """Seconds as decimal text with exactly `scale` fractional digits (`scale` 0..=9)."""
    scale = max(0, min(9, scale))
    units = total_nanos // 10 ** (9 - scale)  # floor, as Snowflake truncates to the column scale
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**scale)
    if scale == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{scale}d}"


def _time(value: Any, column: dict[str, Any]) -> str:
    """TIME: seconds since midnight, "s.fffffffff". fakesnow sends int64 nanoseconds."""
    scale = _time_scale(column)
    if isinstance(value, datetime.time):
        nanos = (value.hour * 3600 + value.minute * 60 + value.second) * 10**9 + value.microsecond * 1000
    else:
        nanos = int(value)
    return _scaled_seconds(nanos, scale)


def _time_scale(column: dict[str, Any]) -> int:
    scale = column.get("scale")
    return 9 if scale is None else int(scale)


def _timestamp_nanos(value: Any) -> tuple[int, int | None]:
    """(nanoseconds since the epoch, Snowflake timezone index or None) of a fakesnow timestamp.

    fakesnow sends Snowflake's Arrow struct {epoch: seconds, fraction: nanoseconds[, timezone]}.
    """
    if isinstance(value, dict):
        if value.get("epoch") is None:
            raise _NullCell
        nanos = int(value["epoch"]) * 10**9 + int(value["fraction"])
        return nanos, value.get("timezone")
    if isinstance(value, datetime.datetime):
        offset = value.utcoffset()
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        nanos = (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
        tz_index = None if offset is None else 1440 + int(offset.total_seconds() // 60)
        return nanos, tz_index
    return int(value), None


class _NullCell(Exception):
    """A value that is SQL NULL although Arrow holds it as non-null (fakesnow's timestamp structs
    are never null themselves: a NULL timestamp is a struct of null fields)."""


def _timestamp_ntz(value: Any, column: dict[str, Any]) -> str:
    """TIMESTAMP_NTZ / _LTZ: seconds since the epoch, "s.fffffffff" (wall clock read as UTC)."""
    nanos, _ = _timestamp_nanos(value)
    return _scaled_seconds(nanos, _time_scale(column))


def _timestamp_tz(value: Any, column: dict[str, Any]) -> str:
    """TIMESTAMP_TZ: "s.fffffffff TZ" where TZ is the offset in minutes plus 1440."""
    nanos, tz_index = _timestamp_nanos(value)
    return f"{_scaled_seconds(nanos, _time_scale(column))} {1440 if tz_index is None else tz_index}"


def _semi_structured(value: Any, _column: dict[str, Any]) -> str:
    """VARIANT / OBJECT / ARRAY: JSON text. fakesnow already holds them as JSON strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=_json_default, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    """JSON for what DuckDB puts inside LIST / STRUCT values besides JSON's own types."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex().upper()
    return str(value)


def _binary(value: Any, _column: dict[str, Any]) -> str:
    """BINARY: upper-case hex, as with Snowflake's default BINARY_OUTPUT_FORMAT."""
    return bytes(value).hex().upper()


def _text(value: Any, _column: dict[str, Any]) -> str:
    return value if isinstance(value, str) else str(value)


CELL_FORMATTERS: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "fixed": _fixed,
    "real": _real,
    "boolean": _boolean,
    "date": _date,
    "time": _time,
    "timestamp_ntz": _timestamp_ntz,
    "timestamp_ltz": _timestamp_ntz,
    "timestamp_tz": _timestamp_tz,
    "variant": _semi_structured,
    "object": _semi_structured,
    "array": _semi_structured,
    "binary": _binary,
    "text": _text,
}


def _cell(formatter: Callable[[Any, dict[str, Any]], str], value: Any, column: dict[str, Any]) -> str | None:
    if value is None:
        return None
    try:
        return formatter(value, column)
    except _NullCell:
        return None


def arrow_to_json_rowset(rowset_base64: str, rowtype: list[dict[str, Any]]) -> list[list[str | None]]:
    """Decode fakesnow's base64 Arrow IPC stream into Snowflake's JSON rowset."""
    if not rowset_base64:
        return []
    table = pa.ipc.open_stream(base64.b64decode(rowset_base64)).read_all()
    if table.num_columns != len(rowtype):
        raise ValueError(f"Arrow result has {table.num_columns} columns but rowtype has {len(rowtype)}")
    columns: list[list[str | None]] = []
    for arrow_column, column in zip(table.columns, rowtype):
        formatter = CELL_FORMATTERS.get(str(column.get("type", "text")).lower(), _text)
        columns.append([_cell(formatter, value, column) for value in arrow_column.to_pylist()])
    return [list(row) for row in zip(*columns)]


# ---------------------------------------------------------------------------------------------
# Response bodies
# ---------------------------------------------------------------------------------------------

# fakesnow logs the exception behind an "Unhandled exception" 500 and raises a bare message; a
# filter on its logger hands the exception to the request that is being answered.
_unhandled_exception: contextvars.ContextVar[dict[str, BaseException] | None] = contextvars.ContextVar(
    "unhandled_exception", default=None
)


class _CaptureUnhandled(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        holder = _unhandled_exception.get()
        if holder is not None and record.exc_info and record.exc_info[1] is not None:
            holder["exception"] = record.exc_info[1]
        return True


def fix_query_body(body: dict[str, Any], unhandled: BaseException | None) -> dict[str, Any]:
    """Rewrite one fakesnow query response into what Snowflake would have sent."""
    if not body.get("success"):
        return fix_error_body(body, unhandled)

    data = body.get("data") or {}
    if "rowsetBase64" in data or data.get("queryResultFormat") == "arrow":
        rowtype = data.get("rowtype") or []
        data["rowset"] = arrow_to_json_rowset(data.pop("rowsetBase64", "") or "", rowtype)
        data["queryResultFormat"] = "json"
    if "rowset" in data:
        data["returned"] = len(data["rowset"])
        data.setdefault("total", len(data["rowset"]))
    data.setdefault("queryId", str(uuid.uuid4()))
    body["data"] = data
    return body


def fix_error_body(body: dict[str, Any], unhandled: BaseException | None) -> dict[str, Any]:
    data = body.get("data") or {}
    code = body.get("code") or data.get("errorCode") or "000603"
    message = MESSAGE_PREFIX.sub("", body.get("message") or "")
    if unhandled is not None:
        # fakesnow only says "sql_text=... Unhandled exception": name what it could not do.
        message = f"{message}: {type(unhandled).__name__}: {unhandled}"
    sql_state = data.get("sqlState") or body.get("sqlState")
    data.setdefault("queryId", str(uuid.uuid4()))
    data["errorCode"] = code
    data["sqlState"] = sql_state
    data.setdefault("internalError", unhandled is not None)
    return {
        "data": data,
        "code": code,
        "message": message,
        "sqlState": sql_state,
        "success": False,
        "headers": None,
    }


QUALIFIED_TEMPORARY_TABLE = re.compile(
    r'^(\s*create\s+(?:or\s+replace\s+)?)temp(?:orary)?\s+(table\s+"[^"]+"\."[^"]+"\.)',
    re.IGNORECASE,
)


def fix_sql_text(sql: str) -> str:
    """A qualified temporary table as a plain one (see the module doc)."""
    return QUALIFIED_TEMPORARY_TABLE.sub(r"\1\2", sql, count=1)


def fix_login_body(raw: bytes) -> bytes:
    body = json.loads(raw)
    data = body.setdefault("data", {})
    if not isinstance(data.get("SESSION_PARAMETERS"), dict):
        data["SESSION_PARAMETERS"] = {}
    return json.dumps(body).encode()


# ---------------------------------------------------------------------------------------------
# ASGI wrapper
# ---------------------------------------------------------------------------------------------


async def _read_body(receive: Callable) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Callable:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_headers(headers: list[tuple[bytes, bytes]], body: bytes, drop: tuple[bytes, ...]) -> list:
    kept = [(k, v) for k, v in headers if k.lower() not in drop + (b"content-length",)]
    return kept + [(b"content-length", str(len(body)).encode())]


class SnowflakeWireFixes:
    """ASGI app wrapping fakesnow's: fixes login requests and query responses (see module doc)."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
        elif scope["path"] == LOGIN_PATH:
            await self._login(scope, receive, send)
        elif scope["path"] == QUERY_PATH:
            await self._query(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _login(self, scope: dict, receive: Callable, send: Callable) -> None:
        raw = await _read_body(receive)
        headers = scope.get("headers", [])
        if any(k.lower() == b"content-encoding" and v.lower() == b"gzip" for k, v in headers):
            raw = gzip.decompress(raw)
        try:
            body = fix_login_body(raw)
        except (ValueError, AttributeError):
            body = raw  # not JSON: let fakesnow answer as it does
        scope = dict(scope, headers=_with_headers(headers, body, drop=(b"content-encoding",)))
        await self.app(scope, _replay(body), send)

    async def _query(self, scope: dict, receive: Callable, send: Callable) -> None:
        raw = await _read_body(receive)
        headers = scope.get("headers", [])
        if any(k.lower() == b"content-encoding" and v.lower() == b"gzip" for k, v in headers):
            raw = gzip.decompress(raw)
        try:
            request = json.loads(raw)
            request["sqlText"] = fix_sql_text(request.get("sqlText", ""))
            raw = json.dumps(request).encode()
        except (ValueError, AttributeError, TypeError):
            pass  # not a JSON query request: let fakesnow answer as it does
        scope = dict(scope, headers=_with_headers(headers, raw, drop=(b"content-encoding",)))
        receive = _replay(raw)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        holder: dict[str, BaseException] = {}
        token = _unhandled_exception.set(holder)
        try:
            await self.app(scope, receive, capture)
        except Exception as error:  # noqa: BLE001 - fakesnow failed outside its own error handling
            holder["exception"] = error
            chunks = [json.dumps({"success": False, "code": "261000", "message": "fakesnow failed"}).encode()]
        finally:
            _unhandled_exception.reset(token)

        # Snowflake answers statement errors with HTTP 200 and `success: false`.
        try:
            fixed = fix_query_body(json.loads(b"".join(chunks)), holder.get("exception"))
        except Exception as error:  # noqa: BLE001 - the client must still get an answer
            logging.getLogger("snowflake_server").exception("cannot rewrite fakesnow response")
            fixed = fix_error_body({"code": "000603", "message": "emulator cannot rewrite fakesnow's answer"}, error)
        body = json.dumps(fixed, separators=(",", ":")).encode()
        headers = _with_headers(start.get("headers", []), body, drop=(b"content-type", b"content-encoding"))
        headers.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


_fakesnow_from_binding = fakesnow_server.from_binding


def _from_binding(binding: dict[str, Any]) -> Any:
    """fakesnow's bind conversion, plus NULL of any type and REAL as a float."""
    value = binding.get("value")
    if value is None:
        return None
    if binding.get("type") == "REAL" and isinstance(value, str):
        return float(value)
    return _fakesnow_from_binding(binding)


_fakesnow_describe_as_rowtype = fakesnow_server.describe_as_rowtype


def _describe_as_rowtype(describe_results: list) -> list[dict[str, Any]]:
    """fakesnow's rowtype, plus DuckDB nested types as Snowflake ARRAY / OBJECT."""
    semi_structured: dict[int, str] = {}
    described = []
    for index, (name, column_type, *rest) in enumerate(describe_results):
        if column_type.endswith("]"):  # INTEGER[], VARCHAR[3], ...
            semi_structured[index], column_type = "array", "JSON"
        elif column_type.startswith(("STRUCT", "MAP")):
            semi_structured[index], column_type = "object", "JSON"
        described.append((name, column_type, *rest))
    rowtype = _fakesnow_describe_as_rowtype(described)
    for index, kind in semi_structured.items():
        rowtype[index]["type"] = kind
    return rowtype


# fakesnow's `_fs_flatten` table macro (created in every database), with each element's index
# taken from `list_transform`'s element index instead of `row_number() OVER ()`.
FS_FLATTEN = string.Template(
    """
CREATE OR REPLACE MACRO ${catalog}._fs_flatten(input) AS TABLE
    SELECT
        -- SEQ: hash of input gives same value for all rows from same input, close enough to Snowflake's SEQ
        hash(TO_JSON(input))::UBIGINT AS SEQ,
        e.k AS KEY,
        COALESCE(e.k, '[' || (e.i - 1) || ']') AS PATH,
        CASE WHEN e.k IS NOT NULL THEN NULL ELSE (e.i - 1)::BIGINT END AS INDEX,
        e.v AS VALUE,
        TO_JSON(input) AS THIS
    FROM (
        SELECT UNNEST(
            CASE WHEN json_type(TO_JSON(input)) = 'OBJECT'
                 THEN list_transform(
                    json_keys(TO_JSON(input)),
                    lambda x, i: struct_pack(k := x, v := CAST(TO_JSON(input) -> x AS JSON), i := i)
                 )
                 ELSE list_transform(
                    CAST(TO_JSON(input) AS JSON[]),
                    lambda x, i: struct_pack(k := NULL::VARCHAR, v := x, i := i)
                 )
            END, recursive := true
        )
    ) AS e(k, v, i)
    """
)

# creation_sql reads it from its module when a database is created.
fakesnow_macros.FS_FLATTEN = FS_FLATTEN
# query_request looks both up in its own module.
fakesnow_server.from_binding = _from_binding
fakesnow_server.describe_as_rowtype = _describe_as_rowtype
app = SnowflakeWireFixes(fakesnow_server.app)

# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every statement to stderr")
    parser.add_argument(
        "--exit-on-stdin-eof",
        action="store_true",
        help="stop when stdin closes, so a test's server dies with the test process",
    )
    return parser.parse_args(argv)


def _watch_stdin(server: uvicorn.Server) -> None:
    def wait() -> None:
        while sys.stdin.buffer.read(65536):
            pass
        server.should_exit = True

    threading.Thread(target=wait, name="stdin-eof", daemon=True).start()


async def _serve(args: argparse.Namespace) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    port = sock.getsockname()[1]

    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="info" if args.verbose else "warning",
        access_log=args.verbose,
        lifespan="off",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            await serving  # startup failed: raise its error
            return
        await asyncio.sleep(0.01)

    # The one line a caller reads: the port, once requests are answered.
    print(port, flush=True)
    sys.stdout = sys.stderr
    if args.exit_on_stdin_eof:
        _watch_stdin(server)
    await serving


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if args.verbose else logging.WARNING,
        format="snowflake-emulator %(levelname)s %(name)s: %(message)s",
    )
    fakesnow_logger = logging.getLogger("fakesnow.server")
    fakesnow_logger.handlers = []  # fakesnow borrows uvicorn's handlers; use the root's instead
    fakesnow_logger.propagate = True
    fakesnow_logger.setLevel(logging.INFO if args.verbose else logging.WARNING)
    fakesnow_logger.addFilter(_CaptureUnhandled())
    # DuckDB warns on every result fakesnow fetches as Arrow; it says nothing about the test.
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
