"""Who may call what: API keys with scopes, checked before a request's body is read.

A key has a name (what the audit records), a scope, and a secret the caller sends as `Authorization: Bearer <key>`.
The scopes nest: `read` (predictions, /track, listing claims, summaries, recent documents), `write` (that, and
registering claims and ingesting documents), `admin` (that, and retiring, watching again, deleting, reading the
audit). Keys come from CLAIMSTANCE_API_KEYS (a JSON list) or the file CLAIMSTANCE_API_KEYS_FILE names, each with its
secret in the clear (`key`) or, better, as the SHA-256 of it (`key_sha256`, which `python -m serving.access new`
prints). Once any key is configured every route but health and readiness (and the tracker page's own files) needs
one; with none, the service is open, as before, and says so at start-up when it listens beyond this machine.

Secrets are compared as their SHA-256 digests, each against every configured digest with `hmac.compare_digest`, so
the time taken does not tell a caller how much of a guess was right, or which key it was close to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping
from enum import IntEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from starlette.responses import JSONResponse

from serving.body_limit import Receive, Scope, Send
from serving.errors import error_response


class Level(IntEnum):
    """A key's scope; a higher one includes those below it."""

    READ = 1
    WRITE = 2
    ADMIN = 3

    @classmethod
    def named(cls, name: str) -> Level:
        return cls[name.upper()]

    def __str__(self) -> str:
        return self.name.lower()


class ApiKey(BaseModel):
    """One key: its name, its scope, and its secret in the clear or as a SHA-256 hex digest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@-]+$")
    scope: str = Field(pattern="^(read|write|admin)$")
    key: str | None = Field(default=None, min_length=16)
    key_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def one_secret(self) -> ApiKey:
        if (self.key is None) == (self.key_sha256 is None):
            raise ValueError(f"key {self.name!r}: give `key` or `key_sha256`, one of them")
        return self

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.key_sha256) if self.key_sha256 else sha256(self.key or "")

    @property
    def level(self) -> Level:
        return Level.named(self.scope)


API_KEYS = TypeAdapter(list[ApiKey])


def sha256(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def keys_from_file(path: Path) -> list[ApiKey]:
    """The keys of a JSON file (a list of keys, as CLAIMSTANCE_API_KEYS takes them); a bad file is named."""
    try:
        return API_KEYS.validate_json(path.read_bytes())
    except OSError as error:
        raise ValueError(f"api_keys_file {path}: cannot read it ({error.strerror})") from None
    except ValidationError as error:
        raise ValueError(f"api_keys_file {path}: {error.errors()[0]['msg']} at {error.errors()[0]['loc']}") from None


class KeyRing:
    """The configured keys, found by their secret in constant time."""

    def __init__(self, keys: list[ApiKey]) -> None:
        names = [key.name for key in keys]
        if len(set(names)) != len(names):
            raise ValueError(f"api keys: a name is given twice in {names}")
        self.keys = keys

    def __bool__(self) -> bool:
        return bool(self.keys)

    def find(self, secret: str) -> ApiKey | None:
        presented = sha256(secret)
        found = None
        for key in self.keys:  # every key compared, whatever matched first
            if hmac.compare_digest(presented, key.digest):
                found = key
        return found


OPEN_PATHS = ("/livez", "/readyz", "/healthz")
"""Health and readiness: what an orchestrator asks without a key."""
OPEN_PREFIXES = ("/tracker",)
"""The tracker page's own files: it asks for a key once the service answers it 401."""


def unauthorized(message: str) -> JSONResponse:
    response = error_response(401, message, ["header", "authorization"], "unauthorized")
    response.headers["WWW-Authenticate"] = 'Bearer realm="claimstance"'
    return response


def forbidden(key: ApiKey, route: str, needed: Level) -> JSONResponse:
    message = f"the key {key.name!r} has the scope {key.scope}; {route} needs {needed}"
    return error_response(403, message, ["header", "authorization"], "forbidden", needed=str(needed))


class AccessControl:
    """ASGI middleware: a request to a route that needs a scope is answered 401 without a known key and 403 with a key
    of too low a scope, before its body is read. The key's name is left in the request's state (`api_key`) for the
    audit. With no keys configured it lets everything through."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        keys: KeyRing,
        route_levels: Mapping[str, Level],
    ) -> None:
        self.app = app
        self.keys = keys
        self.route_levels = dict(route_levels)

    def needed(self, path: str) -> Level | None:
        route = path.rstrip("/") or "/"
        if route in OPEN_PATHS or route.startswith(OPEN_PREFIXES):
            return None
        return self.route_levels.get(route, Level.READ)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys:
            return await self.app(scope, receive, send)
        needed = self.needed(scope["path"])
        if needed is None:
            return await self.app(scope, receive, send)
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            return await unauthorized("an API key is needed: send it as `Authorization: Bearer <key>`")(
                scope, receive, send
            )
        key = self.keys.find(secret.strip())
        if key is None:
            return await unauthorized("the API key is not one of this service's")(scope, receive, send)
        if key.level < needed:
            return await forbidden(key, scope["path"], needed)(scope, receive, send)
        scope.setdefault("state", {})["api_key"] = key.name
        await self.app(scope, receive, send)


def new_key(name: str, scope: str) -> tuple[str, ApiKey]:
    """A fresh secret and the key entry to configure for it (its digest only)."""
    secret = secrets.token_urlsafe(32)
    return secret, ApiKey(name=name, scope=scope, key_sha256=hashlib.sha256(secret.encode()).hexdigest())


def main(argv: list[str] | None = None) -> int:
    """`python -m serving.access new NAME SCOPE`: a new key's secret (give it to the caller) and its entry for the
    keys file (keep it there; it holds no secret)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "new" or args[2] not in ("read", "write", "admin"):
        print("usage: python -m serving.access new NAME read|write|admin", file=sys.stderr)
        return 2
    secret, entry = new_key(args[1], args[2])
    print(f"secret (give it to the caller, shown once): {secret}")
    print(f"entry for CLAIMSTANCE_API_KEYS_FILE: {json.dumps(entry.model_dump(exclude_none=True))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
