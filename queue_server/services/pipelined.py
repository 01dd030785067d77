"""Issuing a batch of numbers on PostgreSQL in three round trips instead of six.

A batch (services/tickets.py) reserves its lanes' numbers, reads its halls' lines, then inserts the
tickets and their history. Through SQLAlchemy each is a round trip of its own, and with BEGIN and
COMMIT that made six; under gevent each round trip costs the process ~0.2 ms of CPU besides the wait,
more than the database spends on most of these statements. Here the reservation and the lines go
out as one query (PostgreSQL runs them one after the other, each with its own snapshot, so the lines
are read once the lanes' row locks are held, as before), and the tickets with their history as one
statement followed by COMMIT: BEGIN (psycopg's own), then two round trips. psycopg binds the values
on this side (a ClientCursor: several statements in one query take no server-side parameters); the
lines statement is waits.py's own, compiled once for psycopg.

psycopg's pipeline mode was tried first: under gevent it polled the socket 11 times per batch
against 6 before and saved nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, cast

import psycopg
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg
from sqlalchemy.exc import DBAPIError

from ..models import Ticket, TicketCounter, TicketEvent
from .waits import HallLine, fold_lines, lines_params, lines_statement

_DIALECT = pg_psycopg.dialect()  # type: ignore[no-untyped-call]

_RESERVE = f"""
INSERT INTO {TicketCounter.__tablename__} (hall_id, bundle_id, service_day, last_seq)
SELECT * FROM unnest(%(halls)s::integer[], %(bundles)s::integer[], %(days)s::date[], %(counts)s::integer[])
ORDER BY 1, 2, 3
ON CONFLICT (hall_id, bundle_id, service_day)
DO UPDATE SET last_seq = {TicketCounter.__tablename__}.last_seq + excluded.last_seq
RETURNING hall_id, bundle_id, service_day, last_seq
"""  # noqa: S608 - table names from the models; every value is a parameter


@cache
def _lines_sql(several: bool) -> tuple[str, dict[str, Any]]:
    """waits.py's lines statement (no oldest time) for psycopg, with its literal parameters."""
    compiled = lines_statement("array" if several else "one", oldest=False).compile(dialect=_DIALECT)
    sample: dict[str, Any] = ({"halls": [0], "days": [date.min]} if several else {"hall": 0, "day": date.min})
    state = compiled.construct_expanded_state({**sample, "now": datetime.min.replace(tzinfo=UTC)})
    literals = {k: v for k, v in state.parameters.items() if k not in sample and k != "now"}
    return state.statement, literals


@cache
def _insert_sql(columns: tuple[str, ...]) -> str:
    """Insert the tickets of a JSON array of rows and their `issued` history in one statement,
    answering (track_token, id) of each."""
    table = Ticket.__table__
    types = ", ".join(f"{name} {table.c[name].type.compile(_DIALECT)}" for name in columns)
    names = ", ".join(columns)
    return f"""
WITH r AS (SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS x({types}, detail text)),
t AS (INSERT INTO {Ticket.__tablename__} ({names}) SELECT {names} FROM r RETURNING id, track_token),
e AS (INSERT INTO {TicketEvent.__tablename__} (ticket_id, at, kind, detail)
      SELECT t.id, r.taken_at, 'issued', r.detail FROM t JOIN r USING (track_token))
SELECT track_token, id FROM t
"""  # noqa: S608 - names from the models; the rows are one parameter


def reserve_and_read(conn: Connection, lanes: Sequence[tuple[int, int, date, int]],
                     reads: Sequence[tuple[datetime, dict[int, date]]]
                     ) -> tuple[dict[tuple[int, int, date], int], list[dict[int, HallLine]]]:
    """Reserve `n` numbers of each (hall, bundle, day, n) lane (sorted: the lock order), then read the
    lines of each (now, halls' days), in one round trip: the lanes' last numbers and the lines."""
    statements = [(_RESERVE, {"halls": [lane[0] for lane in lanes], "bundles": [lane[1] for lane in lanes],
                              "days": [lane[2] for lane in lanes], "counts": [lane[3] for lane in lanes]})]
    for now, days in reads:
        sql, literals = _lines_sql(len(days) > 1)
        statements.append((sql, {**literals, **lines_params(days), "now": now}))
    cursor = _run(conn, statements)
    reserved = {(h, b, d): seq for h, b, d, seq in cursor.fetchall()}
    lines = []
    for _, days in reads:
        cursor.nextset()
        lines.append(fold_lines(days, cursor.fetchall()))
    return reserved, lines


def insert_and_commit(conn: Connection, rows: Sequence[dict[str, Any]], details: Sequence[str]
                      ) -> dict[str, int]:
    """Insert the ticket rows (all with the same keys) and an `issued` event each with its detail,
    and COMMIT in the same round trip: the id of each track token. The last statement of a batch's
    transaction; the session's own commit after it finds nothing to do."""
    payload = json.dumps([{**row, "detail": detail} for row, detail in zip(rows, details, strict=True)],
                         default=_json_value, ensure_ascii=False)
    cursor = _run(conn, [(_insert_sql(tuple(rows[0])), {"rows": payload}), ("COMMIT", {})])
    return {token: id_ for token, id_ in cursor.fetchall()}


def _run(conn: Connection, statements: Sequence[tuple[str, dict[str, Any]]]) -> psycopg.ClientCursor[Any]:
    """The statements as one query (psycopg binds the values, quoted, on this side): one round trip;
    the cursor is at the first statement's rows, `nextset()` moves to the next."""
    cursor = psycopg.ClientCursor(cast("psycopg.Connection[Any]", conn.connection.driver_connection))
    sql = ";\n".join(cursor.mogrify(text, params) if params else text for text, params in statements)
    try:
        cursor.execute(sql)
    except psycopg.Error as e:  # as SQLAlchemy's (an IntegrityError stays one), as callers expect
        raise DBAPIError.instance(sql, None, e, psycopg.Error) from e
    return cursor


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not a ticket column value: {value!r}")
