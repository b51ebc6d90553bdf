"""People of an org: sign-in, adding and changing a person (announced as UserUpserted and
audited), and who is who."""
from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from common.events.generated import UserUpserted
from common.runtime import Context
from common.uow import UnitOfWork
from services.gateway import auth
from services.gateway.audit import store as audit_store
from services.gateway.directory import store
from services.gateway.directory.models import Login, Token, UserIn, UserOut, UserPatch
from services.gateway.errors import Conflict, NotFound, Unauthorized
from services.gateway.signin_limits import SignInLimiter

SIGN_IN_REFUSED = "wrong e-mail or password"
# Without an org, sign-in tries the password on this many of the address's accounts (the
# oldest); a person with more accounts than that names the org.
ACCOUNTS_CHECKED = 3
# An e-mail is unique within an org. An address another org uses is no obstacle (nor
# told): this org gets its own account. Only the manager's own org is checked, active or
# not, and the answer names nothing the manager cannot see under People.
EMAIL_REFUSED = ("someone in your org already has this e-mail address (active or not): "
                 "see People")


async def announce_user(uow: UnitOfWork, row) -> None:
    """Tell routing (and whoever else) who this person is now."""
    await uow.emit(UserUpserted(user_id=row.id, name=row.name, roles=list(row.roles),
                                skills=list(row.skills), capacity=row.capacity, away=row.away,
                                active=row.active, email=row.email, phone=row.phone),
                   org_id=row.org_id, key=row.org_id)


async def names(s, org_id: str) -> dict[str, str]:
    """Every person of the org by id: their name."""
    return {u.id: u.name for u in await store.users_of(s, org_id)}


async def authenticate(s, settings, body: Login, *, limiter: SignInLimiter, address: str) -> Token:
    """Check an e-mail and password; a signed session token, or Unauthorized (one answer,
    and about the same time, for an unknown e-mail, a wrong password, and an address other
    orgs use too). TooManyAttempts past the per-account or per-address limit of failures."""
    await limiter.check(body.email, address)
    # Always the same number of hash checks, padded with the dummy hash: one for a named
    # org, else ACCOUNTS_CHECKED, so the time says nothing of how many orgs use the address.
    n = 1 if body.org else ACCOUNTS_CHECKED
    rows = await store.accounts_by_email(s, body.email, org_id=body.org, limit=n)
    matches = [auth.verify_password(rows[i].password_hash if i < len(rows) else None, body.password)
               for i in range(n)]
    if not any(matches):
        await limiter.failed(body.email, address)
        raise Unauthorized(SIGN_IN_REFUSED)
    row = rows[matches.index(True)]  # the oldest account this password opens
    await limiter.succeeded(body.email)
    user = auth.User(row.id, row.org_id, row.name, row.email, tuple(row.roles), tuple(row.skills))
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    return Token(access_token=auth.issue_token(user, secret=settings.jwt_secret, ttl=ttl),
                 expires_in=int(ttl.total_seconds()), user=UserOut.model_validate(row))


async def me(s, user: auth.User) -> UserOut:
    """The signed-in person as stored; Unauthorized once the account is gone."""
    row = await store.user_by_id(s, user.org_id, user.id)
    if row is None:
        raise Unauthorized("this account no longer exists", challenge=False)
    return UserOut.model_validate(row)


async def people(s, user: auth.User) -> list[UserOut]:
    """The user's org's people, by name."""
    return [UserOut.model_validate(u) for u in await store.users_of(s, user.org_id)]


async def add_person(c: Context, manager: auth.User, body: UserIn) -> UserOut:
    """Add a person to the manager's org; announced and audited. Conflict when the address
    is already one of the org's accounts."""
    uid = str(uuid.uuid4())
    try:
        async with c.unit_of_work() as uow:
            if await store.email_taken(uow.session, manager.org_id, body.email):
                raise Conflict(EMAIL_REFUSED)
            await store.insert_user(uow.session, id=uid, org_id=manager.org_id, email=body.email,
                                    name=body.name, roles=list(body.roles), skills=body.skills,
                                    password_hash=auth.hash_password(body.password), active=True)
            row = await store.user_by_id(uow.session, manager.org_id, uid)
            await announce_user(uow, row)
            await audit_store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                                    action="user_added", detail={"user_id": uid, "roles": list(body.roles)})
    except sa.exc.IntegrityError:  # the same address added to the org at the same moment
        raise Conflict(EMAIL_REFUSED) from None
    return UserOut.model_validate(row)


async def change_user(c: Context, manager: auth.User, user_id: str, body: UserPatch) -> UserOut:
    """Change a user's roles, skills, capacity, away or active; announced and audited."""
    changes = body.model_dump(exclude_unset=True)
    async with c.unit_of_work() as uow:
        row = await store.user_by_id(uow.session, manager.org_id, user_id)
        if row is None:
            raise NotFound(f"no user {user_id} in your org")
        if changes:
            await store.update_user(uow.session, user_id, **changes)
            row = await store.user_by_id(uow.session, manager.org_id, user_id)
            await announce_user(uow, row)
            await audit_store.audit(uow.session, org_id=manager.org_id, actor_id=manager.id,
                                    action="user_changed", detail={"user_id": user_id, **changes})
    return UserOut.model_validate(row)
