"""Orgs and their people (sign-in names, argon2 hashes, roles, skills, capacity)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.store import metadata

org = sa.Table(
    "org", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
app_user = sa.Table(
    "app_user", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("org_id", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("roles", ARRAY(sa.Text), nullable=False),
    sa.Column("skills", ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("capacity", sa.Integer, nullable=False, server_default="40"),
    sa.Column("away", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("phone", sa.Text),
    # An e-mail is unique within an org, not across orgs: one person may work for two
    # practices, and no org can learn that an address is in use in another.
    sa.UniqueConstraint("org_id", "email", name="app_user_org_email_key"),
)

async def accounts_by_email(session: AsyncSession, email: str, *, org_id: str | None = None,
                            limit: int) -> list:
    """The active accounts with this e-mail (case-insensitive), oldest first: only
    ``org_id``'s when given, and at most ``limit``."""
    q = sa.select(app_user).where(app_user.c.email == email.lower(), app_user.c.active)
    if org_id is not None:
        q = q.where(app_user.c.org_id == org_id)
    return list((await session.execute(
        q.order_by(app_user.c.created_at, app_user.c.id).limit(limit))).all())


async def email_taken(session: AsyncSession, org_id: str, email: str) -> bool:
    """Whether an account of this org, active or not, has this e-mail."""
    return (await session.execute(sa.select(sa.literal(1)).where(
        app_user.c.org_id == org_id, app_user.c.email == email.lower()).limit(1))).first() is not None


async def insert_user(session: AsyncSession, **values) -> None:
    """Create a user; an e-mail already taken in the org raises IntegrityError (never an
    update)."""
    await session.execute(sa.insert(app_user).values(**values))


async def update_user(session: AsyncSession, user_id: str, **changes) -> None:
    """Change a user's roles, skills, capacity, away, active or phone."""
    await session.execute(sa.update(app_user).where(app_user.c.id == user_id).values(**changes))


async def user_by_id(session: AsyncSession, org_id: str, user_id: str):
    """A user of one org, or None."""
    return (await session.execute(sa.select(app_user).where(
        app_user.c.id == user_id, app_user.c.org_id == org_id))).first()


async def users_of(session: AsyncSession, org_id: str) -> list:
    """An org's users, by name."""
    return (await session.execute(sa.select(app_user).where(
        app_user.c.org_id == org_id).order_by(app_user.c.name))).all()


async def ensure_org(session: AsyncSession, org_id: str, name: str) -> None:
    """Create an org if it does not exist."""
    await session.execute(pg_insert(org).values(id=org_id, name=name).on_conflict_do_nothing())


async def upsert_user(session: AsyncSession, **values) -> str:
    """Create or update a user (by org and e-mail); its id (an existing account keeps its
    own)."""
    stmt = pg_insert(app_user).values(**values)
    return (await session.execute(stmt.on_conflict_do_update(
        index_elements=[app_user.c.org_id, app_user.c.email],
        set_={k: stmt.excluded[k] for k in values if k not in ("id", "org_id", "email")})
        .returning(app_user.c.id))).scalar_one()



async def org_skills(session: AsyncSession, org_id: str) -> set[str]:
    """Every skill some active user of the org has."""
    got = await session.execute(sa.select(sa.func.unnest(app_user.c.skills)).where(
        app_user.c.org_id == org_id, app_user.c.active))
    return set(got.scalars())


