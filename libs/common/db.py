"""One PostgreSQL database per service: engine, creation if missing, migrations, and the
two tables every service has (the outbox and the processed-event ledger)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson
import sqlalchemy as sa
from psycopg.types.json import set_json_dumps
from sqlalchemy.dialects.postgresql import BYTEA, JSONB, UUID
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from common import logs

log = logs.get(__name__)
MIGRATIONS_ENV = Path(__file__).with_name("migrations_env")


def add_common_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """Declare the outbox, outbox_dead and processed_event tables on a service's metadata."""
    outbox = sa.Table(
        "outbox", metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", BYTEA, nullable=True),
        sa.Column("value", BYTEA, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    outbox_dead_table(metadata)
    processed = sa.Table(
        "processed_event", metadata,
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False, server_default="handled"),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    return outbox, processed


def outbox_dead_table(metadata: sa.MetaData) -> sa.Table:
    """Events the broker refuses for good (too large, invalid), set aside by the relay with
    the reason, so the events behind them publish; kept whole for an operator to inspect."""
    return sa.Table(
        "outbox_dead", metadata,
        sa.Column("id", sa.BigInteger, primary_key=True),  # the outbox row's id
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("key", BYTEA, nullable=True),
        sa.Column("value", BYTEA, nullable=False),
        sa.Column("headers", JSONB, nullable=False, server_default="[]"),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )


def create_outbox_dead_table(bind) -> None:
    """Migration step: the outbox_dead table (added after the first version)."""
    md = sa.MetaData()
    outbox_dead_table(md)
    md.create_all(bind)


def _json_dumps(value) -> str:
    # orjson: JSONB columns (outbox headers, decisions, explanations) are written on every
    # event; the stdlib encoder was a measurable share of a consumer's CPU.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


async def copy_rows(session, table: str, types: dict[str, str], rows: Iterable[Sequence]) -> None:
    """Append rows to a table with one binary COPY, in this session's transaction: the
    fastest way into PostgreSQL (no SQL per row, no text escaping). ``types`` maps each
    column to its PostgreSQL type, in the rows' order; jsonb values are Python objects.
    COPY has no ON CONFLICT: for rows that cannot already exist."""
    conn = await session.connection()
    pg = (await conn.get_raw_connection()).driver_connection
    async with pg.cursor() as cur:
        set_json_dumps(_json_dumps, context=cur)
        sql = f"COPY {table} ({', '.join(types)}) FROM STDIN (FORMAT BINARY)"
        async with cur.copy(sql) as copy:
            copy.set_types(list(types.values()))
            for r in rows:
                await copy.write_row(r)


def array_literal(values: Iterable) -> str:
    """A PostgreSQL array literal (``{"a","b"}``), each element quoted and escaped, for one
    text parameter cast in SQL (``= ANY(CAST(:ids AS uuid[]))``): cheaper than psycopg's
    per-element list adapter for the hundreds of ids a poll asks about."""
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def recordset(types: dict[str, str], alias: str = "v") -> str:
    """SQL for a batch of rows passed as one JSON document (see ``recordset_rows``):
    ``jsonb_to_recordset(CAST(:rows AS jsonb)) AS v(col type, ...)``. One short statement
    for one row or thousands, and PostgreSQL parses JSON far faster than psycopg builds a
    text array per column (it escapes every element)."""
    cols = ", ".join(f"{c} {t}" for c, t in types.items())
    return f"jsonb_to_recordset(CAST(:rows AS jsonb)) AS {alias}({cols})"


def recordset_rows(rows: list[dict], types: dict[str, str]) -> dict[str, str]:
    """The ``:rows`` parameter of ``recordset``: the typed columns of each row, as JSON (a
    column a row lacks is NULL, as jsonb_to_recordset reads it)."""
    return {"rows": orjson.dumps([{c: r.get(c) for c in types} for r in rows]).decode()}


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size,
                               pool_pre_ping=True, json_serializer=_json_dumps,
                               json_deserializer=orjson.loads)


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def ensure_database(url: str) -> bool:
    """Create the service's database if it is missing. True when it was created."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (u.database,)).fetchone()
        if exists:
            return False
        conn.execute(f'CREATE DATABASE "{u.database}"')
        log.info("database_created", database=u.database)
        return True


def drop_database(url: str) -> None:
    """Drop a service database (tests and `make clean-db` only)."""
    import psycopg

    u = make_url(url)
    admin = u.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')


def migrate(url: str, versions: Path, *, revision: str = "head") -> None:
    """Create the database if needed and run this service's Alembic migrations."""
    from alembic import command
    from alembic.config import Config

    ensure_database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_ENV))
    cfg.set_main_option("version_locations", str(versions))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    cfg.attributes["database_url"] = url
    command.upgrade(cfg, revision)


def create_common_tables(bind) -> None:
    """Migration step: the outbox and processed_event tables, as of their first version."""
    md = sa.MetaData()
    add_common_tables(md)
    md.remove(md.tables["outbox_dead"])  # its own migration step (create_outbox_dead_table)
    md.create_all(bind)
