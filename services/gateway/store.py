"""The gateway's one MetaData (Alembic's target), with the outbox and processed-event
tables every service has. Each subject declares its own tables on it in its own store:
``tasks/store.py`` (the task record), ``queue/store.py`` (saved views, preferences),
``directory/store.py`` (orgs, people), ``admin/store.py`` (other services' settings) and
``audit/store.py`` (the audit log)."""
from __future__ import annotations

import sqlalchemy as sa

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)
