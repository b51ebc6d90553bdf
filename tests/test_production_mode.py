"""Outside development mode no process starts with a development secret; with real ones it
starts, and listens only where its settings say (loopback unless told)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from common import localstack

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"SERVICE_TOKEN": "prod-service-token-" + "s" * 32,
           "GATEWAY_JWT_SECRET": "prod-jwt-key-" + "j" * 32}


def env(**extra) -> dict:
    base = {k: v for k, v in os.environ.items()
            if k not in ("WQ_ENV", "SERVICE_TOKEN", "GATEWAY_JWT_SECRET", "BIND_HOST")}
    return {**base, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.parametrize("service, role, missing", [
    ("gateway", "api", "GATEWAY_JWT_SECRET"), ("intake", "api", "SERVICE_TOKEN"),
    ("nba", "worker", "SERVICE_TOKEN"), ("routing", "worker", "SERVICE_TOKEN")])
def test_production_mode_refuses_to_start_with_a_development_secret(service, role, missing):
    given = {k: v for k, v in SECRETS.items() if k != missing}
    r = subprocess.run([sys.executable, "-m", f"services.{service}", role], cwd=ROOT,
                       env=env(WQ_ENV="production", **given), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert f"{service}: refusing to start: {missing} is still the documented development " \
           f"value: set {missing}" in r.stderr
    assert "Traceback" not in r.stderr


def listening_on(port: int) -> set[str]:
    """Local addresses of the IPv4 sockets listening on a port (from /proc/net/tcp)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        host, p = local.split(":")
        if state == "0A" and int(p, 16) == port:
            out.add(".".join(str(int(host[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


@pytest.mark.parametrize("service", ["gateway", "intake", "nba"])
def test_with_real_secrets_production_mode_starts_on_loopback(service, db_prefix):
    port = localstack.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"services.{service}", "api", "--port", str(port)], cwd=ROOT,
        env=env(WQ_ENV="production", DATABASE_PREFIX=db_prefix, **SECRETS),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline, answer = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, proc.poll()
        assert answer.json() == {"status": "ok", "service": f"{service}-api"}
        assert listening_on(port) == {"127.0.0.1"}  # BIND_HOST unset: loopback only
    finally:
        proc.terminate()
        proc.wait(20)
