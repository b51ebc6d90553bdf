"""The queue for one person: their view and filters resolved, keyset pages, board columns
and counts, and saving or deleting views."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from services.gateway import auth, domain
from services.gateway.audit import store as audit_store
from services.gateway.directory import store as directory_store
from services.gateway.errors import Conflict, Forbidden, Invalid, NotFound
from services.gateway.queue import store
from services.gateway.queue.cursors import decode_cursor, encode_cursor
from services.gateway.queue.models import BUILTIN_VIEWS, QueueFilter, QueuePage, QueueParams, ViewIn, ViewOut
from services.gateway.tasks import suggestions
from services.gateway.tasks.models import TaskOut, task_out


async def check_owner(s, user: auth.User, f: QueueFilter, field: str = "owner") -> None:
    """An owner filter names 'me', 'unassigned' or a user of the signed-in org: Invalid else."""
    if f.owner not in (None, "me", "unassigned") and \
            await directory_store.user_by_id(s, user.org_id, f.owner) is None:
        raise Invalid(f"{field}: no user '{f.owner}' in your org")


async def resolve_view(s, user: auth.User, f: QueueFilter) -> QueueFilter:
    """Merge a saved view's filters under the explicit ones."""
    if not f.view:
        merged = f
    else:
        stored = None
        if f.view in BUILTIN_VIEWS:
            stored = BUILTIN_VIEWS[f.view]
        else:
            for v in await store.views_of(s, user.org_id, user.id):
                if f.view in (v.name, str(v.id)):
                    stored = v.filters
        if stored is None:
            raise NotFound(f"view '{f.view}' not found")
        explicit = f.model_dump(exclude_unset=True, exclude={"view"})
        merged = QueueFilter.model_validate({**stored, **explicit, "view": f.view})
    if "mine" in merged.skills:
        merged = merged.model_copy(update={"skills": [*(x for x in merged.skills if x != "mine"),
                                                      *user.skills] or ["(none)"]})
    return merged


async def queue_page(s, user: auth.User, p: QueueParams) -> QueuePage:
    """One page of the queue for a user: their view and filters, keyset-paged."""
    limit, cursor = p.limit, p.cursor
    f = await resolve_view(s, user, QueueFilter.model_validate(
        p.model_dump(exclude={"limit", "cursor"}, exclude_unset=True)))
    await check_owner(s, user, f)
    now = datetime.now(UTC)
    after = decode_cursor(cursor, f.sort) if cursor else None
    rows = await store.queue_rows(s, f, org_id=user.org_id, user_id=user.id, now=now,
                                  after=after, limit=limit + 1)
    items = [task_out(row, now) for row in rows[:limit]]
    nxt = None
    if len(rows) > limit:
        cols, _ = store.SORTS[f.sort]
        last = rows[limit - 1]
        nxt = encode_cursor([getattr(last, c) for c in cols] + [last.id])
    if f.patient_id:
        await audit_store.audit(s, org_id=user.org_id, actor_id=user.id, action="read",
                                detail={"patient_id": f.patient_id, "what": "queue"})
        await s.commit()
    await suggestions.attach(user.org_id, items)
    return QueuePage(items=items, next_cursor=nxt, view=f.view)


async def column_counts(s, user: auth.User, f: QueueFilter) -> dict[str, int]:
    """Tasks per board column matching a (resolved) filter, every status counted."""
    if not f.status:
        f = f.model_copy(update={"status": list(domain.STATUSES)})
    rows = await store.column_counts(s, f, org_id=user.org_id, user_id=user.id,
                                     now=datetime.now(UTC))
    out = dict.fromkeys(domain.COLUMNS, 0)
    for status, business_status, n in rows:
        out[domain.column_of(status, business_status)] += n
    return out


async def board(s, user: auth.User, f: QueueFilter, *, cards: int) -> dict:
    """The board for a filter: the count of each column and its first ``cards`` cards
    (nba's suggestions on the To Do ones)."""
    now = datetime.now(UTC)
    counts = await column_counts(s, user, f)
    shown: dict[str, list[TaskOut]] = {}
    for column in domain.COLUMNS:
        rows = await store.board_column(s, f, column, org_id=user.org_id, user_id=user.id,
                                        now=now, limit=cards)
        shown[column] = [task_out(r, now) for r in rows]
    await suggestions.attach(user.org_id, shown[domain.COLUMNS[0]])  # shown on To Do cards
    return {"counts": counts, "cards": shown}


async def views_for(s, user: auth.User) -> list[ViewOut]:
    """The views a user can pick: built-in, the org's shared ones, their own."""
    out = [ViewOut(id=name, name=name, shared=True, builtin=True,
                   filters=QueueFilter.model_validate(f)) for name, f in BUILTIN_VIEWS.items()]
    for v in await store.views_of(s, user.org_id, user.id):
        out.append(ViewOut(id=str(v.id), name=v.name, shared=v.owner_id is None,
                           builtin=False, filters=QueueFilter.model_validate(v.filters)))
    return out


async def store_view(s, user: auth.User, body: ViewIn) -> ViewOut:
    """Save a named view for the user (or, by a manager, for the org)."""
    if body.shared and not user.is_manager:
        raise Forbidden("only a practice manager or org admin may share a view")
    if body.name in BUILTIN_VIEWS:
        raise Conflict(f"'{body.name}' is a built-in view; choose another name")
    await check_owner(s, user, body.filters, "filters.owner")
    vid = uuid.uuid4()
    try:
        await store.add_view(s, id=vid, org_id=user.org_id,
                             owner_id=None if body.shared else user.id, name=body.name,
                             filters=body.filters.model_dump(exclude={"view"}, exclude_defaults=True))
        await s.commit()
    except sa.exc.IntegrityError:
        raise Conflict(f"you already have a view named '{body.name}'") from None
    return ViewOut(id=str(vid), name=body.name, shared=body.shared, builtin=False,
                   filters=body.filters)


async def delete_view(s, user: auth.User, view_id: uuid.UUID) -> None:
    """Delete one of the user's views (a manager: or one of the org's shared ones)."""
    if not await store.delete_view(s, view_id, org_id=user.org_id, user_id=user.id,
                                   manager=user.is_manager):
        raise NotFound("no such view of yours")
    await s.commit()
