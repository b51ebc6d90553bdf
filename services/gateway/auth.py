"""Sign-in: argon2 password hashes, signed JWTs and the session cookie. ``deps`` reads the
current user of a request from them.

Every query the API runs is scoped by the signed-in user's org, never by a parameter.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Response

from services.gateway import domain

_hasher = PasswordHasher()
ALGORITHM = "HS256"
COOKIE = "wq_session"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """Check a password against a hash. With no hash (no such account), check it against
    a dummy one all the same, so that an unknown e-mail costs the time a known one does."""
    try:
        return _hasher.verify(hashed or _dummy_hash(), password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def set_session_cookie(response: Response, token: str, *, max_age: int, secure: bool) -> None:
    """The session cookie: script cannot read it, other sites do not send it on a POST,
    HTTPS only outside development mode, and it ends with the token it carries."""
    response.set_cookie(COOKIE, token, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure, path="/")


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=secure, path="/")


@dataclass(frozen=True)
class User:
    id: str
    org_id: str
    name: str
    email: str
    roles: tuple[str, ...]
    skills: tuple[str, ...] = ()

    @property
    def is_manager(self) -> bool:
        return bool(domain.MANAGERS & set(self.roles))


def issue_token(user: User, *, secret: str, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    return jwt.encode({"sub": user.id, "org": user.org_id, "name": user.name,
                       "email": user.email, "roles": list(user.roles),
                       "skills": list(user.skills), "iat": now, "exp": now + ttl},
                      secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str) -> User:
    claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                        options={"require": ["sub", "org", "exp"]})
    return User(claims["sub"], claims["org"], claims.get("name", ""), claims.get("email", ""),
                tuple(claims.get("roles", ())), tuple(claims.get("skills", ())))
