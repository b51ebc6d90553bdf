"""The local stack honours the environment the services read: what `make run` initialises,
seeds (the demo org, `seed-users`) and waits for is where the services run."""
import psycopg

from common import events, localstack
from common.settings import CommonSettings


def test_the_environments_stack_is_the_services_broker_and_database_prefix(monkeypatch):
    monkeypatch.setenv("DATABASE_PREFIX", "wqx_")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9092,kafka-b:9092")
    stack = localstack.Stack.from_env(fixed_ports=True)
    assert (stack.bootstrap, stack.db_prefix, stack.fixed_ports) == (
        "kafka-a:9092,kafka-b:9092", "wqx_", True)
    env = stack.env()
    assert (env["DATABASE_PREFIX"], env["KAFKA_BOOTSTRAP_SERVERS"]) == ("wqx_", "kafka-a:9092,kafka-b:9092")
    proc = stack.add("gateway", "api")  # what `wait` polls: the fixed ports of `make run`
    assert proc.port == 8000 and proc.env["DATABASE_PREFIX"] == "wqx_"
    monkeypatch.delenv("DATABASE_PREFIX")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    default = localstack.Stack.from_env()
    assert (default.bootstrap, default.db_prefix) == ("127.0.0.1:9092", "wq_")


def test_init_and_seed_users_go_to_the_databases_of_database_prefix(monkeypatch, broker, db_prefix):
    """DATABASE_PREFIX=… make run: `init` migrates, and the demo loader's seed-users writes
    the org (and its OrgRegistered, for intake) into <prefix>gateway, nowhere else."""
    prefix = f"{db_prefix}run_"
    monkeypatch.setenv("DATABASE_PREFIX", prefix)
    assert localstack.main(["init"]) == 0
    stack = localstack.Stack.from_env()
    assert stack.db_prefix == prefix
    stack.seed_users({"orgs": [{"id": "onboarded", "name": "Onboarded Clinic"}], "users": [
        {"org_id": "onboarded", "email": "pm@onboarded.test", "name": "Pat", "password": "a long password",
         "roles": ["practice_manager"]}]})
    server = CommonSettings().postgres_server_url.replace("+psycopg", "")
    with psycopg.connect(f"{server}/{prefix}gateway") as c:
        assert c.execute("SELECT id, name FROM org").fetchall() == [("onboarded", "Onboarded Clinic")]
        assert c.execute("SELECT email FROM app_user").fetchall() == [("pm@onboarded.test",)]
        announced = [events.decode(bytes(v)) for (v,) in c.execute("SELECT value FROM outbox ORDER BY id")]
    assert [(e.event_type, e.org_id) for e in announced] == [
        ("OrgRegistered", "onboarded"), ("UserUpserted", "onboarded")]
    from scripts import demo_org  # what `make run` loads: the demo org, into the same databases

    _, people = demo_org.onboard("demo-clinic", seed=7)
    with psycopg.connect(f"{server}/{prefix}gateway") as c:
        assert c.execute("SELECT count(*) FROM app_user WHERE org_id = 'demo-clinic'").fetchone() == (
            len(people["users"]),)
        assert c.execute("SELECT count(*) FROM outbox").fetchone()[0] == 2 + 1 + len(people["users"])
    with psycopg.connect(f"{server}/{prefix}intake") as c:  # migrated, and waiting for the event
        assert c.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    with psycopg.connect(f"{server}/postgres") as c:
        names = {n for (n,) in c.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                         (f"{prefix}%",))}
    assert names == {f"{prefix}{s}" for s in localstack.SERVICES}
    stack.drop_databases()
    with psycopg.connect(f"{server}/postgres") as c:
        assert c.execute("SELECT count(*) FROM pg_database WHERE datname LIKE %s",
                         (f"{prefix}%",)).fetchone() == (0,)
