"""`councils verify --remote URL` and `councils witness URL...`: check a Councils server's record from outside,
with nothing but its public answers and its key.

Both keep what they saw in a state folder (``--state``, default ``~/.local/state/councils``): the server's key the
first time it was seen (a changed key is reported, never silently accepted) and the last checkpoint of each chain,
so that the next run checks the new checkpoint is consistent with it (RFC 9162 consistency proof): a server that
rewrites, truncates or forks a chain's history is caught by anyone who saw it before.
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from councils.record.signatures import SignatureCheck
from councils.record import note, tree
from councils.record.chain import GENESIS

PAGE = 1000


class RemoteFailure(Exception):
    """What failed, said so that the first line of the report names it."""


def default_state() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "councils"


@dataclass
class Server:
    url: str
    timeout: float = 30.0

    def _open(self, path: str, data: bytes | None = None, params: dict | None = None):
        url = self.url.rstrip("/") + path + ("?" + urllib.parse.urlencode(params) if params else "")
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode("utf-8", "replace")
            raise RemoteFailure(f"{url}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise RemoteFailure(f"{url}: {getattr(exc, 'reason', exc)}") from None

    def json(self, path: str, **params) -> dict:
        body = self._open(path, params=params or None)
        try:
            return json.loads(body)
        except ValueError:
            raise RemoteFailure(f"{path}: the answer is not JSON") from None

    def text(self, path: str) -> str:
        return self._open(path).decode("utf-8")

    def post(self, path: str, payload: dict) -> dict:
        return json.loads(self._open(path, data=json.dumps(payload).encode()))


class State:
    """What this verifier or witness saw of each server before."""

    def __init__(self, root: Path, server_url: str):
        host = urllib.parse.urlsplit(server_url).netloc or server_url
        self.dir = root / "servers" / host.replace(":", "_")
        self.dir.mkdir(parents=True, exist_ok=True)

    def server_key(self, vkey: str) -> note.VerifierKey:
        """Trust on first use: the key seen first is the key; a different one later is refused."""
        path = self.dir / "vkey"
        if path.exists() and path.read_text().strip() != vkey:
            raise RemoteFailure(f"the server's key changed: it was {path.read_text().strip()}, it is now {vkey} "
                                f"(if the operator announced a new key, remove {path})")
        key = note.VerifierKey.parse(vkey)
        if not path.exists():
            path.write_text(vkey + "\n")
        return key

    def _checkpoint_path(self, chain: str) -> Path:
        return self.dir / "checkpoints" / (chain.replace("/", "_") + ".note")

    def last_checkpoint(self, chain: str, key: note.VerifierKey) -> note.Checkpoint | None:
        path = self._checkpoint_path(chain)
        if not path.exists():
            return None
        return note.open_checkpoint(path.read_text(), key).checkpoint

    def keep_checkpoint(self, chain: str, signed: str) -> None:
        path = self._checkpoint_path(chain)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(signed)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise RemoteFailure(f"{what} is not base64") from None


def check_checkpoint(server: Server, state: State, key: note.VerifierKey, chain: str) -> tuple[str, note.Checkpoint]:
    """The chain's signed checkpoint, checked against the server's key and the last one seen (consistency)."""
    signed = server.text(f"/api/record/{chain}/checkpoint")
    try:
        checkpoint = note.open_checkpoint(signed, key).checkpoint
    except ValueError as exc:
        raise RemoteFailure(f"{chain}: the checkpoint's signature does not verify with the server's key ({exc})") from None
    if not checkpoint.origin.endswith("/" + chain):
        raise RemoteFailure(f"{chain}: the checkpoint is for {checkpoint.origin!r}")
    before = state.last_checkpoint(chain, key)
    if before is not None:
        if before.size > checkpoint.size:
            raise RemoteFailure(f"{chain}: the log shrank from {before.size} to {checkpoint.size} entries "
                                "(entries deleted, or a different history shown)")
        if before.size == checkpoint.size and before.root_hash != checkpoint.root_hash:
            raise RemoteFailure(f"{chain}: two different trees of {checkpoint.size} entries were signed: a fork")
        if 0 < before.size < checkpoint.size:
            proof = [_b64(h, "a proof hash") for h in server.json(
                f"/api/record/{chain}/proof/consistency", first=before.size, second=checkpoint.size)["hashes"]]
            try:
                tree.verify_consistency(before.size, checkpoint.size, proof, before.root_hash, checkpoint.root_hash)
            except tree.InvalidProof as exc:
                raise RemoteFailure(f"{chain}: the tree of {checkpoint.size} entries does not extend the one of "
                                    f"{before.size} seen before: its history was rewritten ({exc})") from None
    return signed, checkpoint


# The record's canonical JSON (record.chain.canonical_json), here without its check of keys and floats: a leaf was
# parsed from JSON, so its keys are strings, and allow_nan=False refuses what JSON cannot say.
_canonical = functools.partial(json.dumps, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_FIELDS = {"chain", "seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash"}


def _leaf_entry(leaf: bytes, where: str) -> dict:
    """The entry a leaf is, refusing a leaf that is not exactly its canonical JSON (so one entry has one leaf)."""
    try:
        entry = json.loads(leaf)
        canonical = _canonical(entry)
    except ValueError as exc:
        raise RemoteFailure(f"{where}: not an entry ({exc})") from None
    if not isinstance(entry, dict) or set(entry) != _FIELDS:
        raise RemoteFailure(f"{where}: not an entry (its fields are not {sorted(_FIELDS)})")
    if canonical.encode("utf-8") != leaf:
        raise RemoteFailure(f"{where}: the leaf is not the entry's canonical JSON")
    return entry


def check_leaves(server: Server, chain: str, checkpoint: note.Checkpoint, progress=None, signatures=None) -> int:
    """Download every leaf, check each is an entry of this chain, its hash right and linked to the one before, and
    that together they make the signed root."""
    frontier = tree.Frontier()
    expected_seq, prev = 0, GENESIS
    for start in range(0, checkpoint.size, PAGE):
        end = min(start + PAGE, checkpoint.size)
        page = server.json(f"/api/record/{chain}/leaves", start=start, end=end)["leaves"]
        if len(page) != end - start:
            raise RemoteFailure(f"{chain}: asked for leaves {start} to {end}, got {len(page)}")
        for offset, text in enumerate(page):
            where = f"{chain} entry #{start + offset}"
            leaf = _b64(text, where)
            frontier.append(leaf)
            entry = _leaf_entry(leaf, where)
            if entry["chain"] != chain:
                raise RemoteFailure(f"{where}: belongs to chain {entry['chain']!r}")
            if entry["seq"] != expected_seq:
                raise RemoteFailure(f"{where}: sequence number {entry['seq']}, expected {expected_seq}")
            if entry["prev_hash"] != prev:
                raise RemoteFailure(f"{where}: does not link to the entry before it")
            claimed = entry.pop("hash")
            if hashlib.sha256(_canonical(entry).encode("utf-8")).hexdigest() != claimed:
                raise RemoteFailure(f"{where}: content does not match its hash (altered)")
            if signatures is not None:
                signatures.add(entry)
            expected_seq, prev = expected_seq + 1, claimed
        if progress is not None:
            progress.update(end - start)
    if frontier.root() != checkpoint.root_hash:
        raise RemoteFailure(f"{chain}: the leaves do not make the signed root (the server shows other entries than it signed)")
    return checkpoint.size


def verify_remote(url: str, *, chains: list[str] | None = None, state_dir: Path | None = None, quiet: bool = False) -> int:
    server = Server(url)
    try:
        listing = server.json("/api/record/")
        state = State(state_dir or default_state(), url)
        key = state.server_key(listing["vkey"])
        names = [c["name"] for c in listing["chains"]]
        wanted = chains or names
        if chains:
            # The members' key registrations are on their own chains: they come too, to judge the signatures.
            wanted = [*chains, *(n for n in names if n.startswith("member/") and n not in chains)]
        missing = [c for c in wanted if c not in names]
        if missing:
            raise RemoteFailure(f"the server lists no chain {missing[0]!r}")
        checked = []
        for chain in wanted:
            signed, checkpoint = check_checkpoint(server, state, key, chain)
            checked.append((chain, signed, checkpoint))
        total = sum(c.size for _, _, c in checked)
        progress = None
        if not quiet:
            from tqdm import tqdm

            progress = tqdm(total=total, unit="entry", desc="verifying", file=sys.stderr, disable=None)
        entries = 0
        signatures = SignatureCheck(server_key=key.public_key)
        for chain, signed, checkpoint in checked:
            entries += check_leaves(server, chain, checkpoint, progress, signatures)
        problems = signatures.finish()
        if problems:
            where, reason = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise RemoteFailure(f"{where}: {reason}{more}")
        for chain, signed, checkpoint in checked:
            state.keep_checkpoint(chain, signed)
        if progress is not None:
            progress.close()
    except RemoteFailure as exc:
        print(f"BROKEN: {exc}", file=sys.stderr)
        return 1
    print(f"OK: {len(checked)} chains, {entries} entries, {signatures.signed} members' signatures, {signatures.rules} "
          "server-signed acts of the rules: every checkpoint "
          f"signed by {key.name}, every leaf in its tree, every entry linked, every member's act signed by a key the "
          "record registered to them, every chain consistent with what this verifier saw before.")
    return 0


# ----- witness -----------------------------------------------------------------------------------------


def witness_key(state_dir: Path, name: str | None) -> note.SignerKey:
    path = state_dir / "witness_key"
    if path.exists():
        return note.SignerKey.parse(path.read_text().strip())
    signer = note.SignerKey.generate(name or "councils-witness", alg=note.ALG_COSIGNATURE_V1)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(signer.encode() + "\n")
    return signer


def witness_once(urls: list[str], state_dir: Path, signer: note.SignerKey, now: int | None = None) -> int:
    """Check each server's every chain against what this witness cosigned before, then cosign and send it back."""
    failures = 0
    for url in urls:
        server = Server(url)
        try:
            listing = server.json("/api/record/")
            state = State(state_dir, url)
            key = state.server_key(listing["vkey"])
            for entry in listing["chains"]:
                chain = entry["name"]
                signed, checkpoint = check_checkpoint(server, state, key, chain)
                cosignature = note.cosign(note.parse_note(signed).text, signer, int(now if now is not None else time.time()))
                server.post(f"/api/record/{chain}/cosignatures",
                            {"note": note.add_signatures(signed, [cosignature]), "vkey": str(signer.verifier())})
                state.keep_checkpoint(chain, signed)
                print(f"cosigned {checkpoint.origin} at {checkpoint.size} entries")
        except RemoteFailure as exc:
            failures += 1
            print(f"REFUSED {url}: {exc}", file=sys.stderr)
    return 1 if failures else 0


def witness_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="councils witness", description=(
        "Follow Councils servers' checkpoints: check each new one is consistent with the last this witness cosigned "
        "(a rewritten or forked history is refused and reported), cosign it (C2SP tlog-cosignature) and send the "
        "cosignature back."))
    parser.add_argument("urls", nargs="+", metavar="URL")
    parser.add_argument("--state", type=Path, default=None, help="where the witness keeps its key and what it saw")
    parser.add_argument("--name", default=None, help="the witness's key name, when its key is made (first run)")
    parser.add_argument("--once", action="store_true", help="one round, then exit (non-zero if any server failed)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between rounds (default 60)")
    args = parser.parse_args(argv)
    state_dir = args.state or default_state() / "witness"
    signer = witness_key(state_dir, args.name)
    print(f"witness key: {signer.verifier()}")
    while True:
        status = witness_once(args.urls, state_dir, signer)
        if args.once:
            return status
        time.sleep(args.interval)
