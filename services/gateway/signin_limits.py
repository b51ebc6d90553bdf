"""Failed sign-ins, counted in Redis per account and per client address (every replica
shares the counts), in a fixed window: past either limit, sign-in answers 429 with
Retry-After until the window ends, even for the right password. A success clears the
account's count. If Redis is away, sign-in still works (logged): people keep working."""
from __future__ import annotations

import hashlib

import redis.asyncio as redis

from common import logs
from services.gateway.errors import TooManyAttempts

log = logs.get(__name__)


class SignInLimiter:
    def __init__(self, url: str, *, prefix: str, window_s: int, per_account: int,
                 per_address: int) -> None:
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix, self.window_s = prefix, window_s
        self.per_account, self.per_address = per_account, per_address

    def _keys(self, email: str, address: str) -> tuple[str, str]:
        # The account key is a digest: no e-mail address is stored in Redis.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return f"{self.prefix}account:{account}", f"{self.prefix}address:{address}"

    async def check(self, email: str, address: str) -> None:
        """Raise TooManyAttempts when the account or the address is over its limit."""
        account, addr = self._keys(email, address)
        try:
            counts = await self.redis.mget([account, addr])
            for key, n, limit in ((account, counts[0], self.per_account),
                                  (addr, counts[1], self.per_address)):
                if n is not None and int(n) >= limit:
                    raise TooManyAttempts(await self.redis.ttl(key))
        except redis.RedisError as exc:
            log.warning("signin_limits_unavailable", error=type(exc).__name__)

    async def failed(self, email: str, address: str) -> None:
        """Count one failed sign-in against the account and the address."""
        try:
            async with self.redis.pipeline(transaction=True) as p:
                for key in self._keys(email, address):
                    p.set(key, 0, ex=self.window_s, nx=True)  # the window starts here
                    p.incr(key)
                await p.execute()
        except redis.RedisError as exc:
            log.warning("signin_limits_unavailable", error=type(exc).__name__)

    async def succeeded(self, email: str) -> None:
        """The right password: the account starts afresh (the address keeps its count)."""
        try:
            await self.redis.delete(self._keys(email, "")[0])
        except redis.RedisError as exc:
            log.warning("signin_limits_unavailable", error=type(exc).__name__)

    async def close(self) -> None:
        await self.redis.aclose()
