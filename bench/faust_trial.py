"""The faust-streaming trial: the SLA monitor's sweep run by a faust-streaming timer
(``@app.timer``, in a faust worker of its own) against the same sweep run by the project's
timer helper (``common.timers.every``, what sla_monitor's worker runs), on one broker and
one database. Run by ``make faust-trial``, which puts faust-streaming in a venv of its own
(``.run/faust-venv``): faust is not a dependency of the services.

"ours" is sla_monitor's own worker process; "faust" a faust worker process. For each,
with --clocks clocks of which --breached-pct are past their deadline:
  <runner>_first_escalation_s  process start → first escalation committed
  <runner>_all_escalated_s     process start → every breached clock escalated
  <runner>_rss_mb              the runner process's resident memory at the end
  <runner>_crash_exactly_once  SIGKILL mid-sweep, restart: every breach escalated, none twice
  <runner>_restart_to_all_escalated_s  after that restart, until every breach is escalated
  <runner>_broker_down_escalations  escalations within --down-wait-s with the broker stopped
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "libs")]

from bench.sla import LOAD, STAFF, TYPES  # noqa: E402
from common import localstack  # noqa: E402

INTERVAL_S = 1.0


# -- the two runners (each its own process) ----------------------------------------

def run_faust(batch: int) -> None:
    """A faust-streaming worker whose timer runs the same sweep."""
    import faust

    from services.sla_monitor import app as sla

    settings = sla.SlaMonitorSettings()
    fapp = faust.App("wq-sla-faust-trial", broker=f"kafka://{settings.kafka_bootstrap_servers}",
                     store="memory://", web_enabled=False, topic_partitions=1,
                     broker_request_timeout=90.0)
    state = {}

    @fapp.timer(INTERVAL_S)
    async def sweep() -> None:
        if "ctx" not in state:
            state["ctx"] = sla.SERVICE.context(settings)
        await sla.escalate_all_due(state["ctx"], batch)

    sys.argv = [sys.argv[0], "worker", "-l", "warn", "--without-web"]
    fapp.main()


# -- the harness --------------------------------------------------------------------

def counts(dsn: str) -> tuple[int, int, int]:
    """(breached clocks, escalated clocks, ladder rows)."""
    with psycopg.connect(dsn, autocommit=True) as c:
        breached = c.execute("SELECT count(*) FROM task_clock WHERE due_at <= now()").fetchone()[0]
        escalated = c.execute("SELECT count(*) FROM task_clock WHERE level >= 1").fetchone()[0]
        ladder = c.execute("SELECT count(*) FROM escalation").fetchone()[0]
    return breached, escalated, ladder


def reload(dsn: str, clocks: int, breached_pct: float) -> int:
    every = max(1, round(100 / breached_pct))
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("TRUNCATE task_clock, escalation, staff, outbox")
        c.execute(LOAD, {"types": TYPES, "every": every, "n": clocks})
        c.execute(STAFF)
        c.execute("ANALYZE task_clock")
    return counts(dsn)[0]


def spawn(python: str, runner: str, env: dict, batch: int, log: Path) -> subprocess.Popen:
    """"ours" is sla_monitor's own worker (its timers run the sweep through
    common.timers.every); "faust" a faust worker whose timer runs the same sweep."""
    if runner == "ours":
        cmd = [python, "-m", "services.sla_monitor", "worker"]
        env = {**env, "SLA_MONITOR_SWEEP_INTERVAL_S": str(INTERVAL_S),
               "SLA_MONITOR_SWEEP_BATCH": str(batch),
               "SLA_MONITOR_HEALTH_PORT": str(localstack.free_port())}
    else:
        cmd = [python, __file__, "--run", runner, "--batch", str(batch)]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=open(log, "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return float("nan")


def kill(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def trial(name: str, python: str, env: dict, dsn: str, args, log: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    breached = reload(dsn, args.clocks, args.breached_pct)
    t0 = time.monotonic()
    p = spawn(python, name, env, args.batch, log)
    first = done = None
    while time.monotonic() - t0 < args.timeout_s and p.poll() is None:
        _, escalated, _ = counts(dsn)
        now = time.monotonic() - t0
        if escalated and first is None:
            first = now
        if escalated >= breached:
            done = now
            break
        time.sleep(0.05)
    out[f"{name}_first_escalation_s"] = f"{first:.2f}" if first is not None else "never"
    out[f"{name}_all_escalated_s"] = f"{done:.2f}" if done is not None else "never"
    out[f"{name}_rss_mb"] = f"{rss_mb(p.pid):.0f}"
    exited = p.poll()
    kill(p)
    if exited is not None:
        out[f"{name}_exit_code"] = str(exited)

    # crash: SIGKILL after the first escalations, restart, check exactly once
    breached = reload(dsn, args.clocks, args.breached_pct)
    p = spawn(python, name, env, args.batch, log)
    t0 = time.monotonic()
    while counts(dsn)[1] == 0 and time.monotonic() - t0 < args.timeout_s and p.poll() is None:
        time.sleep(0.01)
    kill(p)
    mid = counts(dsn)[1]
    p = spawn(python, name, env, args.batch, log)
    t0 = time.monotonic()
    while counts(dsn)[1] < breached and time.monotonic() - t0 < args.timeout_s and p.poll() is None:
        time.sleep(0.05)
    recovered = time.monotonic() - t0
    kill(p)
    _, escalated, ladder = counts(dsn)
    out[f"{name}_restart_to_all_escalated_s"] = (f"{recovered:.2f}" if escalated >= breached
                                                 else f"not within {args.timeout_s:.0f}")
    out[f"{name}_crash_exactly_once"] = (
        f"{str(escalated == breached == ladder).lower()} (killed at {mid}/{breached}; "
        f"after restart {escalated} escalated, {ladder} ladder rows)")
    return out


def broker_down(name: str, python: str, env: dict, dsn: str, args, log: Path) -> str:
    reload(dsn, args.clocks, args.breached_pct)
    p = spawn(python, name, env, args.batch, log)
    t0 = time.monotonic()
    while time.monotonic() - t0 < args.down_wait_s and p.poll() is None:
        time.sleep(0.2)
    alive = p.poll() is None
    kill(p)
    return f"{counts(dsn)[1]} ({'running' if alive else f'exited with {p.returncode}'})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", choices=["faust"], help=argparse.SUPPRESS)
    ap.add_argument("--clocks", type=int, default=50_000)
    ap.add_argument("--breached-pct", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--timeout-s", type=float, default=240.0)
    ap.add_argument("--down-wait-s", type=float, default=30.0)
    ap.add_argument("--faust-python", default=str(ROOT / ".run" / "faust-venv" / "bin" / "python"))
    args = ap.parse_args()
    if args.run == "faust":
        run_faust(args.batch)
        return 0

    log_dir = localstack.RUN_DIR / "faust-trial"
    log_dir.mkdir(parents=True, exist_ok=True)
    with localstack.scratch_stack("faust-trial", services=("sla_monitor",)) as stack:
        env = {**stack.env(), "PYTHONPATH": f"{ROOT}:{ROOT / 'libs'}", "LOG_LEVEL": "WARNING"}
        dsn = f"postgresql://postgres@127.0.0.1:5432/{stack.db_prefix}sla_monitor"
        results: dict[str, str] = {"clocks": str(args.clocks)}
        for name, python in (("ours", sys.executable), ("faust", args.faust_python)):
            results |= trial(name, python, env, dsn, args, log_dir / f"{name}.log")
        # the broker away: a port nothing listens on
        down = {**env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{localstack.free_port()}"}
        for name, python in (("ours", sys.executable), ("faust", args.faust_python)):
            results[f"{name}_broker_down_escalations"] = broker_down(
                name, python, down, dsn, args, log_dir / f"{name}-down.log")
    for k, v in results.items():
        print(f"faust_trial_{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
