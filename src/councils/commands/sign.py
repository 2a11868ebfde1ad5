"""A client that signs: ``councils keys new FILE`` makes a member's key and registers it, ``councils act`` sends an
act to a server and signs the statement the server answers with (HTTP 428), with that key.

Usable from Python too (docs/api.md)::

    from councils.commands.sign import KeyFile, send_act
    key = KeyFile.load("ana.key")
    status, answer = send_act("https://councils.example.org", "PUT", "/api/proposals/12/ballot",
                              {"choice": "yes"}, token="cnc_...", key=key)

Needs no Django: only the standard library and ``councils.record.statement``. The private key stays in FILE
(mode 0600), and the client signs only a statement that names its own key and the act it sent (``check``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from councils.record import statement as st

KEY_FORMAT = "councils.key/v1"


@dataclass(frozen=True)
class KeyFile:
    private_key: bytes

    @property
    def public_key(self) -> str:
        return st.encode_public_key(st.public_key_of(self.private_key))

    @property
    def key_id(self) -> str:
        return st.key_id(st.public_key_of(self.private_key))

    @classmethod
    def new(cls) -> KeyFile:
        return cls(st.generate_private_key())

    @classmethod
    def load(cls, path) -> KeyFile:
        try:
            data = json.loads(Path(path).read_text())
            if data.get("type") != KEY_FORMAT:
                raise ValueError(f"not a {KEY_FORMAT} key file")
            return cls(st._unb64url(data["private_key"], 32, "private key"))
        except (OSError, ValueError, KeyError, st.StatementError) as exc:
            raise SystemExit(f"councils: cannot read the key file {path}: {exc}") from None

    def save(self, path) -> None:
        path = Path(path)
        if path.exists():
            raise SystemExit(f"councils: {path} exists: choose another file (a key file is never overwritten)")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"type": KEY_FORMAT, "key_id": self.key_id, "public_key": self.public_key,
                       "private_key": st.b64url(self.private_key)}, out, indent=1)
            out.write("\n")

    def sign(self, text: str) -> str:
        signed = st.sign_statement(st.parse_statement(text.encode("utf-8")), self.private_key)
        return st.encode_signature(signed.signature)


def _request(url: str, method: str, body: dict | None, headers: dict) -> tuple[int, dict]:
    data = json.dumps(body).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={**({"Content-Type": "application/json"} if data is not None else {}), **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw) if raw else {}
    except ValueError:
        return status, {"detail": raw[:300].decode("utf-8", "replace")}


def check(text: str, key: KeyFile) -> st.Statement:
    """Refuse to sign a statement that is malformed, names another key, or is not about now."""
    statement = st.parse_statement(text.encode("utf-8"))
    if statement.key != key.key_id:
        raise ValueError(f"the server asks to sign with key {statement.key}, not this key {key.key_id}")
    if abs((statement.time() - datetime.now(UTC)).total_seconds()) > 600:
        raise ValueError(f"the statement's time {statement.at} is not now")
    return statement


def send_act(server: str, method: str, path: str, body: dict | None, *, token: str, key: KeyFile,
             confirm=None) -> tuple[int, dict]:
    """Send an act; on HTTP 428 check and sign the statement, and send it again signed. Returns (status, answer).

    ``confirm(statement)``, when given, sees the statement before it is signed and returns False to stop."""
    url = server.rstrip("/") + path
    headers = {"Authorization": f"Bearer {token}", "Councils-Key": key.key_id}
    status, answer = _request(url, method, body, headers)
    if status != 428 or "statement" not in answer:
        return status, answer
    text = answer["statement"]
    statement = check(text, key)
    if confirm is not None and not confirm(statement):
        return 428, {"detail": "not signed: stopped before signing", "statement": text}
    signed_headers = {**headers, "Councils-Statement": base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode(),
                      "Councils-Signature": key.sign(text)}
    return _request(url, method, body, signed_headers)


def register(server: str, key: KeyFile, *, token: str, label: str = "") -> tuple[int, dict]:
    """Register ``key`` to the token's member: the key.register statement, signed by the key itself."""
    at = datetime.now(UTC)
    content = {"public_key": key.public_key, "label": label}
    statement = st.Statement(act="key.register", council="-", object=f"key:{key.key_id}", at=st.format_time(at),
                             key=key.key_id, content=content)
    text = statement.canonical().decode("utf-8")
    return _request(server.rstrip("/") + "/api/members/me/keys", "POST",
                    {**content, "statement": text, "signature": key.sign(text)}, {"Authorization": f"Bearer {token}"})


def _token(args) -> str:
    token = args.token or os.environ.get("COUNCILS_TOKEN", "")
    if not token:
        raise SystemExit("councils: give a personal token (--token, or COUNCILS_TOKEN) from your profile page")
    return token


def keys_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="councils keys", description="Your signing keys.")
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="make a key in FILE (mode 0600) and register it with a server")
    new.add_argument("file", type=Path)
    new.add_argument("--server", help="the server's address; without it the key is only made")
    new.add_argument("--token", help="a personal API token (default: $COUNCILS_TOKEN)")
    new.add_argument("--label", default="", help="a name for the key, e.g. 'laptop'")
    args = parser.parse_args(argv)
    key = KeyFile.new()
    key.save(args.file)
    print(f"Key {key.key_id} made in {args.file} (keep it safe: whoever holds it acts in your name).")
    if args.server:
        status, answer = register(args.server, key, token=_token(args), label=args.label)
        if status != 201:
            print(f"councils: the server refused the key: HTTP {status} {answer.get('detail')}", file=sys.stderr)
            return 1
        print(f"Registered with {args.server} (see 'Your keys' on your profile).")
    return 0


def act_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="councils act", description="Send an act to a server, signed with your key (the 428 flow, docs/api.md).")
    parser.add_argument("method", choices=["POST", "PUT", "PATCH", "DELETE"], type=str.upper)
    parser.add_argument("path", help="the API path, e.g. /api/proposals/12/ballot")
    parser.add_argument("body", nargs="?", help="the JSON body (default: none)")
    parser.add_argument("--server", required=True)
    parser.add_argument("--key", required=True, type=Path, help="your key file (councils keys new)")
    parser.add_argument("--token", help="a personal API token (default: $COUNCILS_TOKEN)")
    parser.add_argument("--show", action="store_true", help="print the statement signed")
    args = parser.parse_args(argv)
    try:
        body = json.loads(args.body) if args.body else None
    except ValueError as exc:
        print(f"councils: the body is not JSON: {exc}", file=sys.stderr)
        return 2
    key = KeyFile.load(args.key)
    shown = []
    try:
        status, answer = send_act(args.server, args.method, args.path, body, token=_token(args), key=key,
                                  confirm=lambda s: shown.append(s) or True)
    except (ValueError, st.StatementError) as exc:
        print(f"councils: not signed: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"councils: {args.server}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    if args.show and shown:
        print(shown[0].canonical().decode("utf-8"), file=sys.stderr)
    print(json.dumps(answer, indent=1, ensure_ascii=False))
    return 0 if 200 <= status < 300 else 1


def claim(server: str, key: KeyFile, username: str, password: str, *, request=None) -> tuple[int, dict]:
    """Claim the account a free-exit import made for you on ``server`` (docs/free-exit.md): ask for a challenge,
    sign the membership.claim statement with ``key`` (a key your origin server had registered to you), send it
    with your new password. Returns (status, answer)."""
    from urllib.parse import urlencode

    request = request or _request
    base = server.rstrip("/")
    status, answer = request(base + "/api/members/claim/challenge?" + urlencode({"username": username}), "GET", None, {})
    if status != 200:
        return status, answer
    if key.key_id not in answer.get("keys", []):
        return 403, {"detail": f"this key {key.key_id} is not one your origin server registered to you "
                               f"({', '.join(answer.get('keys', [])) or 'none'})"}
    statement = st.Statement(act="membership.claim", council="-", object=f"account:{username}",
                             at=st.format_time(datetime.now(UTC)), key=key.key_id,
                             content={"server": answer["content"]["server"], "challenge": answer["challenge"]})
    text = statement.canonical().decode("utf-8")
    return request(base + "/api/members/claim", "POST",
                   {"username": username, "password": password, "statement": text, "signature": key.sign(text)}, {})


def claim_main(argv: list[str]) -> int:
    import getpass

    parser = argparse.ArgumentParser(
        prog="councils claim", description="Claim your account on the server your council moved to (free exit), "
                                           "with the key your old server knew, and choose a password.")
    parser.add_argument("server", help="the new server's address")
    parser.add_argument("--key", required=True, type=Path, help="your key file (councils keys new)")
    parser.add_argument("--username", required=True, help="your user name on the new server")
    args = parser.parse_args(argv)
    key = KeyFile.load(args.key)
    password = os.environ.get("COUNCILS_PASSWORD") or getpass.getpass("New password: ")
    try:
        status, answer = claim(args.server, key, args.username, password)
    except OSError as exc:
        print(f"councils: {args.server}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    if status != 200:
        print(f"councils: the claim was refused: HTTP {status} {answer.get('detail')}", file=sys.stderr)
        return 1
    print(f"Claimed {args.username} on {args.server} with key {key.key_id}: log in with your new password.")
    return 0
