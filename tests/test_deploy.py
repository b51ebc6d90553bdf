"""docker-compose, the Helm chart and the Procfile describe the same processes, wired
to the same settings; checked here because no Docker engine or helm runs on CI."""
from pathlib import Path

import yaml

from common import localstack

ROOT = Path(__file__).resolve().parents[1]
PROCESSES = {f"{s}-worker" for s in localstack.SERVICES} | {f"{s}-api" for s in localstack.WITH_API}


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


# make run's stand-in for the payers' side (Twilio, their mailboxes): never deployed.
LOCAL_ONLY = {"payer-sim": "python scripts/payer_sim.py"}


def test_procfile_runs_every_process():
    procs = procfile()
    assert set(procs) == PROCESSES | set(LOCAL_ONLY)
    for name, cmd in LOCAL_ONLY.items():
        assert procs.pop(name) == cmd
    for name, cmd in procs.items():
        service, role = name.rsplit("-", 1)
        assert cmd == f"python -m services.{service} {role}"


def test_compose_runs_every_process_on_kafka_postgres_and_redis():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"kafka", "postgres", "redis", "migrate"} <= set(services)
    assert PROCESSES <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for name in PROCESSES:
        svc = services[name]
        service, role = name.rsplit("-", 1)
        assert svc["command"] == ["python", "-m", f"services.{service}", role]
        assert svc["build"] == "." and svc["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"
        env = svc["environment"]
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["POSTGRES_SERVER_URL"].startswith("postgresql+psycopg://")
        assert env["REDIS_URL"].startswith("redis://redis:")
    assert services["gateway-api"]["ports"] == ["8000:8000"]
    assert (ROOT / "Dockerfile").exists()


def test_helm_values_deploy_every_process_with_probes():
    values = yaml.safe_load((ROOT / "deploy/helm/workqueue/values.yaml").read_text())
    deployed = {(p["service"], p["role"]) for p in values["processes"]}
    assert deployed == {tuple(p.rsplit("-", 1)) for p in PROCESSES}
    ports = [p["port"] for p in values["processes"]]
    assert len(set(ports)) == len(ports)
    template = (ROOT / "deploy/helm/workqueue/templates/deployments.yaml").read_text()
    assert "/readyz" in template and "/healthz" in template
    assert "pre-install" in (ROOT / "deploy/helm/workqueue/templates/migrate-job.yaml").read_text()


def test_deployments_run_in_production_mode_listening_on_the_pod():
    """The chart runs production mode (so the development secrets are refused) and binds
    where a probe and a Service reach it; compose binds on its network."""
    values = yaml.safe_load((ROOT / "deploy/helm/workqueue/values.yaml").read_text())
    helpers = (ROOT / "deploy/helm/workqueue/templates/_helpers.tpl").read_text()
    assert values["environment"] == "production"
    assert "{name: WQ_ENV, value: {{ .Values.environment | quote }}}" in helpers
    assert '{name: BIND_HOST, value: "0.0.0.0"}' in helpers
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["nba-api"]["environment"]["BIND_HOST"] == "0.0.0.0"


def test_the_image_carries_the_web_apps_assets():
    """The gateway refuses to start without them; the Makefile and the image copy the same."""
    from services.gateway.web import VENDOR

    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for name in VENDOR:
        assert name in dockerfile and name in makefile
