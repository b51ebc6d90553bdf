"""Migrations on data: what a step does to rows written before it."""
import uuid

import psycopg

from common import db
from services.gateway.app import SERVICE


def test_tasks_whose_owner_was_decided_keep_it_from_routing_decisions_in_flight(db_prefix):
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_prefix}gateway_migration"
    db.migrate(url, SERVICE.versions, revision="gateway_0004_sla")
    ids = {name: uuid.uuid4() for name in ("assigned", "escalated", "escalated_nobody", "routed")}
    history = {"assigned": ("assigned", "{}"),
               "escalated": ("escalated", '{"escalated_to_user_id": "pm", "previous_owner_id": "b"}'),
               "escalated_nobody": ("escalated", '{"escalated_to_user_id": null, "previous_owner_id": "b"}'),
               "routed": ("routed", '{"owner_id": "b"}')}
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as c:
        for name, tid in ids.items():
            c.execute("""INSERT INTO task (id, org_id, task_type, status, priority, priority_rank, title,
                         due_at, source_kind, source_id, source_module, created_at)
                         VALUES (%s, 'o', 'Denial', 'requested', 'Low', 3, 't', now(), 'DenialPosted',
                                 %s, 'RCM', now())""", (tid, name))
            action, detail = history[name]
            c.execute("INSERT INTO task_history (task_id, org_id, at, actor, action, detail) "
                      "VALUES (%s, 'o', now(), 'x', %s, %s::jsonb)", (tid, action, detail))
    db.migrate(url, SERVICE.versions)
    with psycopg.connect(url.replace("+psycopg", "")) as c:
        marked = {name for name, tid in ids.items() if c.execute(
            "SELECT assigned_event_id FROM task WHERE id = %s", (tid,)).fetchone()[0] is not None}
    assert marked == {"assigned", "escalated"}
