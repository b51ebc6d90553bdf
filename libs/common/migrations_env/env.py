"""Alembic environment shared by every service; each passes its own versions folder."""
import sqlalchemy as sa
from alembic import context

url = context.config.attributes["database_url"]
engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
with engine.connect() as connection:
    # Two replicas migrating at once: the second waits for the first.
    connection.execute(sa.text("SELECT pg_advisory_lock(727274)"))
    connection.commit()
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.execute(sa.text("SELECT pg_advisory_unlock(727274)"))
    connection.commit()
engine.dispose()
