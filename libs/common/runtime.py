"""How a service runs: its spec, the worker process, the API process and the CLI.

    python -m services.<name> migrate   # create the database if missing, run migrations
    python -m services.<name> worker    # consumers, outbox relay, timers, health server
    python -m services.<name> api       # the FastAPI app under uvicorn
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from common import db, edge, health, kafka, logs
from common.consumer import Consumer, Subscription
from common.outbox import OutboxRelay
from common.settings import CommonSettings
from common.uow import transaction

log = logs.get(__name__)


@dataclass
class Context:
    """What a running process of a service has: settings, engine and sessions."""

    settings: CommonSettings
    engine: AsyncEngine
    sessions: async_sessionmaker
    outbox: sa.Table
    processed: sa.Table

    def unit_of_work(self):
        """A transaction of this service holding a state change and the events it emits."""
        return transaction(self.sessions, self.outbox, producer=self.settings.service_name)


Timer = Callable[[Context], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    settings_cls: type[CommonSettings]
    metadata: sa.MetaData
    versions: Path  # this service's Alembic versions folder
    subscriptions: list[Subscription] = field(default_factory=list)
    router: Callable[[], APIRouter] | None = None  # the service's HTTP API, if it has one
    timers: list[Timer] = field(default_factory=list)  # long-running loops in the worker
    api_port_default: int = 0
    # Extra CLI commands: name → (add arguments to the subparser, run(settings, args) → exit code)
    commands: dict[str, tuple[Callable, Callable]] = field(default_factory=dict)
    # What the API app needs beyond routes (static files, HTML error pages), called once
    setup_api: Callable[[FastAPI], None] | None = None

    def tables(self) -> tuple[sa.Table, sa.Table]:
        return self.metadata.tables["outbox"], self.metadata.tables["processed_event"]

    def context(self, settings: CommonSettings | None = None) -> Context:
        settings = settings or self.settings_cls()
        engine = db.create_engine(settings.database_url, pool_size=settings.db_pool_size)
        outbox, processed = self.tables()
        return Context(settings, engine, db.sessionmaker(engine), outbox, processed)


def _psycopg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def run_worker(spec: ServiceSpec, settings: CommonSettings | None = None) -> None:
    """Consume, relay the outbox and run timers until SIGTERM/SIGINT; then stop cleanly."""
    ctx = spec.context(settings)
    s = ctx.settings
    await kafka.ensure_topics(s)
    producer = kafka.producer(s, f"{spec.name}-relay")
    await producer.start()
    relay = OutboxRelay(service=spec.name, engine=ctx.engine, outbox=ctx.outbox,
                        producer=producer, listen_dsn=_psycopg_dsn(s.database_url),
                        batch_size=s.outbox_batch_size, poll_interval=s.outbox_poll_interval_s,
                        max_message_bytes=s.kafka_max_message_bytes)
    tasks = [asyncio.create_task(relay.run(), name="outbox-relay"),
             asyncio.create_task(kafka.keep_topics(s), name="keep-topics")]
    consumer = None
    if spec.subscriptions:
        consumer = Consumer(
            service=spec.name,
            kafka=kafka.consumer(s, *(sub.topic.name for sub in spec.subscriptions),
                                 group_id=spec.name),
            sessions=ctx.sessions, outbox=ctx.outbox, processed=ctx.processed,
            subscriptions=spec.subscriptions, transient_retries=s.transient_retries)
        tasks.append(asyncio.create_task(consumer.run(), name="consumer"))
    tasks += [asyncio.create_task(t(ctx), name=getattr(t, "__name__", "timer"))
              for t in spec.timers]
    server = None
    if s.health_port:
        app = FastAPI(title=f"{spec.name} worker")
        app.include_router(health.router(f"{spec.name}-worker", health.checks_for(
            s, ctx.engine, ctx.outbox, broker_required=True)))
        server = uvicorn.Server(uvicorn.Config(app, host=s.bind_host, port=s.health_port,
                                               log_config=None, access_log=False))
        tasks.append(asyncio.create_task(server.serve(), name="health"))

    # Everything loaded so far (modules, schemas, the engine) lives as long as the process:
    # move it out of the collector's sight, so that a full collection scans only what
    # events allocate (without this, one poll in three paid ~80 ms for scanning it all).
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker_started", service=spec.name, health_port=s.health_port)
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    crashed = [t for t in done if t is not stopper and t.exception()]
    for t in crashed:
        log.error("worker_task_crashed", task=t.get_name(), error=t.exception(),
                  where=logs.where(t.exception()))
    log.info("worker_stopping", service=spec.name)
    if server:
        server.should_exit = True
    for t in tasks:
        if t.get_name() != "health":
            t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # Publish what committed handlers left in the outbox before leaving.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(relay.drain(), 5)
    await producer.stop()
    await ctx.engine.dispose()
    if crashed:
        raise SystemExit(1)


def create_api(spec: ServiceSpec, settings: CommonSettings | None = None) -> FastAPI:
    """The service's FastAPI app, with health, metrics and readable validation errors."""
    from contextlib import asynccontextmanager

    ctx = spec.context(settings)

    checks = health.checks_for(ctx.settings, ctx.engine, ctx.outbox, broker_required=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await checks.broker.stop()
        await ctx.engine.dispose()

    app = FastAPI(title=f"{spec.name}", lifespan=lifespan,
                  description=(spec.router.__doc__ or "") if spec.router else "")
    app.state.ctx = ctx
    app.include_router(health.router(f"{spec.name}-api", checks))
    if spec.router:
        app.include_router(spec.router())
    if spec.setup_api:
        spec.setup_api(app)

    edge.install(app, max_body_bytes=ctx.settings.max_body_bytes)
    return app


def cli(spec: ServiceSpec, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m services.{spec.name}")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="create the database if missing and migrate it")
    sub.add_parser("worker", help="consumers, outbox relay, timers and a health server")
    api = sub.add_parser("api", help="the HTTP API under uvicorn")
    api.add_argument("--host", default=None,
                     help="interface to listen on (default: <SVC>_API_HOST, else BIND_HOST, "
                          "else 127.0.0.1)")
    api.add_argument("--port", type=int, default=None)
    api.add_argument("--workers", type=int, default=1)
    for name, (configure, _) in spec.commands.items():
        configure(sub.add_parser(name))
    args = parser.parse_args(argv)

    try:
        settings = spec.settings_cls()
    except ValidationError as exc:
        # A setting that must be fixed (a development secret in production, a bad URL):
        # say which, in one line, and do not start.
        reasons = "; ".join(
            ("".join(f"{x}: " for x in e["loc"][:1])) + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors())
        print(f"{spec.name}: refusing to start: {reasons}", file=sys.stderr)
        return 2
    logs.configure(f"{spec.name}-{args.cmd}", level=settings.log_level, json=settings.log_json)
    if args.cmd == "migrate":
        db.migrate(settings.database_url, spec.versions)
        log.info("migrated", service=spec.name)
        return 0
    if args.cmd in spec.commands:
        return spec.commands[args.cmd][1](settings, args)
    if args.cmd == "worker":
        import uvloop

        uvloop.run(run_worker(spec, settings))
        return 0
    port = args.port or getattr(settings, "api_port", 0) or spec.api_port_default
    uvicorn.run(create_api(spec, settings), host=args.host or settings.api_bind_host, port=port,
                log_config=None, access_log=False, loop="uvloop", http="httptools")
    return 0


def main(spec: ServiceSpec) -> None:
    sys.exit(cli(spec))
