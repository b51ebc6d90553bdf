"""billing's tables. For now only the outbox and the processed-event ledger."""
import sqlalchemy as sa

from common.db import add_common_tables

metadata = sa.MetaData()
outbox, processed_event = add_common_tables(metadata)
