"""Authentication for the standalone app (``egg:pyramid_jobs#main``), when no host provides a policy.

``jobs.auth = tokens``: each user has API tokens, sent as ``Authorization: Bearer <token>``; a
browser sends the same token as the password of HTTP Basic (user name and token), so the pages
work too. ``jobs.auth = basic``: users have passwords, sent with HTTP Basic (tokens listed beside
them work as well). ``jobs.auth = none``: no authentication, everyone is the same anonymous user.

Credentials are ``user HASH`` lines, in ``jobs.auth.users`` or in the file ``jobs.auth.users_file``;
nothing is kept in clear. A token is stored as ``sha256:<hex>`` (a token is 32 random bytes, so a
fast hash is enough and lets a request be checked in one lookup); a password as
``pbkdf2_sha256$<iterations>$<salt>$<hash>`` (slow on purpose; a verified password is remembered in
memory by its SHA-256 so a page polling every second costs one check). Make them with
``python -m pyramid_jobs.auth token USER`` or ``python -m pyramid_jobs.auth password USER``.

Without ``jobs.auth`` written in the ini, the app refuses to start when any ``[server:*]``
section of the same ini listens on a non-loopback address, and, whatever server runs it (the app
cannot see a gunicorn or uWSGI command line), it answers a request from a non-loopback client
403. Users named in ``jobs.auth.admins`` see every job; the others see their own.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.response import Response
from pyramid.security import Allowed, Denied

from .errors import ConfigurationError
from .settings import parse_settings

TOKEN = "sha256:"
PBKDF2 = "pbkdf2_sha256"
ITERATIONS = 310_000
VIEW, SUBMIT, ADMIN = "jobs.view", "jobs.submit", "jobs.admin"
REALM = 'Basic realm="pyramid_jobs", charset="UTF-8"'


def hash_token(token: str) -> str:
    return TOKEN + hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{PBKDF2}${iterations}${_b64(salt)}${_b64(digest)}"


def verify_password(stored: str, password: str) -> bool:
    _, iterations, salt, digest = stored.split("$")
    got = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), _unb64(salt), int(iterations))
    return hmac.compare_digest(got, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _well_formed(stored: str) -> bool:
    if stored.startswith(TOKEN):
        digest = stored[len(TOKEN):]
        return len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != PBKDF2 or not parts[1].isdigit():
        return False
    try:
        _unb64(parts[2]), _unb64(parts[3])
    except (binascii.Error, ValueError):
        return False
    return True


@dataclass
class Credentials:
    """Users' token hashes (looked up by hash) and password hashes, and the administrators."""

    tokens: dict[str, str] = field(default_factory=dict)
    passwords: dict[str, list[str]] = field(default_factory=dict)
    admins: frozenset[str] = frozenset()
    _verified: dict[str, str] = field(default_factory=dict)

    def by_token(self, token: str) -> str | None:
        return self.tokens.get(hash_token(token))

    def by_password(self, user: str, password: str) -> str | None:
        if self.tokens.get(hash_token(password)) == user:
            return user
        key = hashlib.sha256(f"{user}\0{password}".encode()).hexdigest()
        if self._verified.get(key) == user:
            return user
        if any(verify_password(stored, password) for stored in self.passwords.get(user, ())):
            if len(self._verified) > 1000:
                self._verified.clear()
            self._verified[key] = user
            return user
        return None


def load_credentials(settings: Any) -> Credentials:
    """The credentials named by ``jobs.auth.users`` and ``jobs.auth.users_file``; a bad line stops
    start-up naming the setting and the line number, never the line (it may hold a secret)."""
    creds = Credentials(admins=frozenset(settings.auth_admins))
    sources = [("jobs.auth.users", settings.auth_users or "")]
    if settings.auth_users_file:
        try:
            with open(settings.auth_users_file, encoding="utf-8") as f:
                sources.append(("jobs.auth.users_file", f.read()))
        except OSError as exc:
            raise ConfigurationError("jobs.auth.users_file", settings.auth_users_file,
                                     f"a readable file of 'user HASH' lines ({exc.strerror})") from None
    for key, text in sources:
        for number, line in enumerate(text.splitlines(), 1):
            _add_line(creds, key, number, line.strip())
    return creds


def _add_line(creds: Credentials, key: str, number: int, line: str) -> None:
    if not line or line.startswith("#"):
        return
    user, _, stored = line.partition(" ")
    stored = stored.strip()
    if not user or not _well_formed(stored):
        raise ConfigurationError(key, f"<line {number}>", "lines of 'user sha256:HEX' or 'user pbkdf2_sha256$...' "
                                                         "as made by python -m pyramid_jobs.auth")
    if stored.startswith(TOKEN):
        creds.tokens[stored] = user
    else:
        creds.passwords.setdefault(user, []).append(stored)


class CredentialsPolicy:
    """A Pyramid security policy over :class:`Credentials`: who sent the request, and what they may do."""

    def __init__(self, creds: Credentials, mode: str):
        self.creds, self.mode = creds, mode

    def identity(self, request: Request) -> str | None:
        scheme, _, value = (request.headers.get("Authorization") or "").partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value.strip():
            return self.creds.by_token(value.strip())
        if scheme == "basic":
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.creds.by_password(user, password) if user and password else None
        return None

    def authenticated_userid(self, request: Request) -> str | None:
        return request.identity

    def permits(self, request: Request, context: Any, permission: str) -> Allowed | Denied:
        user = request.identity
        if user is None:
            return Denied("not authenticated")
        if permission == ADMIN and user not in self.creds.admins:
            return Denied("not an administrator")
        return Allowed("authenticated")

    def remember(self, request: Request, userid: str, **kw: Any) -> list:
        return []

    def forget(self, request: Request, **kw: Any) -> list:
        return []


def challenge(exc: Any, request: Request) -> Response:
    """401 with a challenge for an anonymous caller; a signed-in one who may not gets 403."""
    from .views.errors import error_response, is_api_request

    if request.identity is not None:
        if is_api_request(request):
            return error_response(request, "forbidden", "You are not allowed to do this.", 403)
        return Response("You are not allowed to do this.", status=403, content_type="text/plain")
    message = "Sign in: send an API token (Authorization: Bearer ...) or a user name and password."
    if is_api_request(request):
        response = error_response(request, "unauthorized", message, 401)
    else:
        response = Response(message, status=401, content_type="text/plain")
    response.headers["WWW-Authenticate"] = REALM
    return response


LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen_hosts(server: dict) -> list[str]:
    """The hosts a waitress-style ``[server:*]`` section listens on (``listen`` or ``host``)."""
    hosts = []
    for item in str(server.get("listen") or "").split():
        hosts.append(item.rsplit(":", 1)[0] if ":" in item else item)
    if server.get("host"):
        hosts.append(str(server["host"]))
    if not hosts and not server.get("unix_socket"):
        hosts.append("0.0.0.0")  # waitress's default
    return hosts


def server_sections(global_config: dict) -> list[dict]:
    """Every ``[server:*]`` section of the ini the app was loaded from (none when not loaded from one)."""
    path = global_config.get("__file__")
    if not path or not os.path.isfile(path):
        return []
    import configparser

    parser = configparser.ConfigParser(defaults={"here": os.path.dirname(os.path.abspath(path))},
                                       interpolation=configparser.BasicInterpolation())
    parser.read(path, encoding="utf-8")
    return [dict(parser[s]) for s in parser.sections() if s.startswith("server:")]


def exposed_hosts(global_config: dict) -> list[str]:
    return [h for s in server_sections(global_config) for h in listen_hosts(s) if not is_loopback(h)]


def configure(config: Configurator, global_config: dict) -> None:
    """Install the policy the settings ask for, or refuse to start without one where it is needed.

    Runs at include time, before the views are derived (Pyramid secures a view only when a policy
    exists as it is derived), so it reads the settings itself rather than from the runtime."""
    raw = config.get_settings()
    settings = parse_settings(raw, here=raw.get("here"))
    if settings.auth is None:
        exposed = exposed_hosts(global_config)
        if exposed:
            raise ConfigurationError("jobs.auth", None, f"tokens or basic, since the server listens on {exposed[0]} "
                                                         "(or write jobs.auth = none to serve it open)")
        config.add_tween("pyramid_jobs.auth.local_only_tween")
        return
    if settings.auth == "none":
        return
    creds = load_credentials(settings)
    if settings.auth == "tokens" and not creds.tokens:
        raise ConfigurationError("jobs.auth.users", "<no token>", "at least one 'user sha256:HEX' line")
    if not creds.tokens and not creds.passwords:
        raise ConfigurationError("jobs.auth.users", "<empty>", "at least one 'user HASH' line")
    config.set_security_policy(CredentialsPolicy(creds, settings.auth))
    config.add_forbidden_view(challenge, jobs_api=True)  # replaces the add-on's 403 (the includer wins)
    config.add_forbidden_view(challenge)


def auth_permissions(settings: dict) -> None:
    """Under ``jobs.auth = tokens|basic`` the routes need a signed-in user unless the ini says otherwise."""
    if str(settings.get("jobs.auth", "")).strip().lower() in ("tokens", "basic"):
        settings.setdefault("jobs.permission.view", VIEW)
        settings.setdefault("jobs.permission.submit", SUBMIT)
        settings.setdefault("jobs.permission.admin", ADMIN)
        settings.setdefault("jobs.permission.metrics", ADMIN)


def local_only_tween(handler: Any, registry: Any) -> Any:
    """With no ``jobs.auth`` written, answer only clients on this machine (a reverse proxy here included)."""

    def tween(request: Request) -> Response:
        remote = request.remote_addr
        if remote and not is_loopback(remote) and not request.path.endswith("/health"):
            return Response("This job service has no authentication configured (jobs.auth), so it answers "
                            "only clients on its own machine.", status=403, content_type="text/plain")
        return handler(request)

    return tween


def main(argv: Iterable[str] | None = None) -> int:
    """``python -m pyramid_jobs.auth token USER`` / ``password USER``: print a credential line."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] not in ("token", "password"):
        print("usage: python -m pyramid_jobs.auth token USER | password USER", file=sys.stderr)
        return 2
    kind, user = args
    if kind == "token":
        token = secrets.token_urlsafe(32)
        print(f"token for {user} (give it to them; it is not kept): {token}", file=sys.stderr)
        print(f"{user} {hash_token(token)}")
        return 0
    import getpass

    password = getpass.getpass(f"password for {user}: ")
    if len(password) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 1
    print(f"{user} {hash_password(password)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
