"""The Redis cache of suggestions: one key per task, a JSON value, a TTL (10 minutes)."""
from __future__ import annotations

import uuid

import orjson
import redis.asyncio as redis

PREFIX = "nba:s:"


class SuggestionCache:
    def __init__(self, url: str, ttl_s: int) -> None:
        self.redis = redis.Redis.from_url(url)
        self.ttl_s = ttl_s

    async def get_many(self, org_id: str, task_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
        """Cached suggestions of one org's tasks (another org's entry is never returned)."""
        if not task_ids:
            return {}
        got = await self.redis.mget([f"{PREFIX}{t}" for t in task_ids])
        out = {}
        for tid, raw in zip(task_ids, got, strict=True):
            if raw is not None:
                v = orjson.loads(raw)
                if v.get("org_id") == org_id:
                    out[tid] = v["s"]
        return out

    async def put_many(self, items: dict[uuid.UUID, tuple[str, dict]]) -> None:
        """Cache task → (org, suggestion) for the TTL, in one round trip."""
        if not items:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for tid, (org_id, s) in items.items():
                pipe.set(f"{PREFIX}{tid}", orjson.dumps({"org_id": org_id, "s": s}), ex=self.ttl_s)
            await pipe.execute()

    async def drop(self, task_ids) -> None:
        """Forget tasks' suggestions (they changed, or are done)."""
        ids = [f"{PREFIX}{t}" for t in task_ids]
        for i in range(0, len(ids), 1000):
            await self.redis.delete(*ids[i:i + 1000])

    async def close(self) -> None:
        await self.redis.aclose()
