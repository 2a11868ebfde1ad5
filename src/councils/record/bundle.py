"""The free-exit file: a council's whole self in one zip of JSON files, readable without Councils.

Pure engine (no Django): writing and reading the zip, its manifest (format name and version, each file's SHA-256),
and checking a chain's leaves against a checkpoint the origin server signed (RFC 9162 tree over the leaves, C2SP
signed note with the origin's vkey). docs/free-exit.md describes the format file by file.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from councils.record import note, tree
from councils.record.chain import Entry, canonical_json, verify_chain

FORMAT = "councils-exit"
VERSION = 1
MANIFEST = "manifest.json"
# What one file may hold once unpacked, and all of them together: a zip bomb is refused before it fills memory.
MAX_FILE_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30


class BundleError(ValueError):
    """The file is not a free-exit file as exported, or it fails a check; the message names what failed."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(value) -> bytes:
    """JSON as the files hold it: sorted keys, UTF-8, one line per top-level list item for readable diffs."""
    if isinstance(value, list):
        return ("[\n" + ",\n".join(json.dumps(item, sort_keys=True, ensure_ascii=False) for item in value) + "\n]\n").encode()
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode()


def write(files: dict[str, bytes], header: dict) -> bytes:
    """The zip of ``files`` with a manifest: ``header`` plus the format, version and every file's SHA-256."""
    manifest = {**header, "format": FORMAT, "version": VERSION,
                "files": {name: sha256_hex(data) for name, data in sorted(files.items())}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr(MANIFEST, dumps(manifest))
        for name, data in sorted(files.items()):
            archive.writestr(name, data)
    return out.getvalue()


def read(data: bytes) -> tuple[dict, dict[str, bytes]]:
    """The manifest and the files of a free-exit zip, every file checked against the manifest's SHA-256; refuses a
    file that is missing, extra, altered, too large, or a manifest of another format or version."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BundleError(f"not a zip file ({exc})") from None
    total = 0
    for info in infos:
        if info.file_size > MAX_FILE_BYTES:
            raise BundleError(f"{info.filename}: larger than {MAX_FILE_BYTES} bytes unpacked")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BundleError(f"the files hold more than {MAX_TOTAL_BYTES} bytes unpacked")
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise BundleError("the zip holds two files of the same name")
    if MANIFEST not in names:
        raise BundleError("manifest.json is missing")
    try:
        files = {name: archive.read(name) for name in names}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise BundleError(f"the zip is damaged ({exc})") from None
    manifest = _json(files.pop(MANIFEST), MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"manifest.json: not a {FORMAT} file")
    if manifest.get("version") != VERSION:
        raise BundleError(f"manifest.json: version {manifest.get('version')!r}, this server reads version {VERSION}")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise BundleError("manifest.json: no list of files")
    for name in sorted(set(listed) - set(files)):
        raise BundleError(f"{name}: listed in the manifest, missing from the zip")
    for name in sorted(set(files) - set(listed)):
        raise BundleError(f"{name}: in the zip, not listed in the manifest")
    for name, digest in sorted(listed.items()):
        if sha256_hex(files[name]) != digest:
            raise BundleError(f"{name}: SHA-256 differs from the manifest's (the file was altered)")
    return manifest, files


def load(files: dict[str, bytes], name: str):
    if name not in files:
        raise BundleError(f"{name} is missing")
    return _json(files[name], name)


def _json(data: bytes, name: str):
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{name}: not valid JSON ({exc})") from None


def leaves_file(leaves: list[bytes]) -> bytes:
    """A chain's leaves, one per line: each an entry's canonical JSON, which never holds a raw line break."""
    return b"".join(leaf + b"\n" for leaf in leaves)


def read_leaves(data: bytes, name: str) -> list[bytes]:
    if data and not data.endswith(b"\n"):
        raise BundleError(f"{name}: the last leaf is cut short (no final line break)")
    return data.split(b"\n")[:-1] if data else []


@dataclass(frozen=True)
class VerifiedLog:
    """A chain's leaves checked against its origin's signed checkpoint."""

    checkpoint: note.Checkpoint
    vkey: note.VerifierKey
    entries: list[Entry]
    root_hash: bytes


def verify_log(leaves: list[bytes], signed_checkpoint: str, vkey: str, *, name: str = "record") -> VerifiedLog:
    """Check that ``leaves`` are exactly the chain the origin server signed: the checkpoint's signature by ``vkey``,
    its size, the RFC 9162 root of the leaves, and every entry's hash and link. Raises BundleError naming the first
    thing that fails."""
    try:
        key = note.VerifierKey.parse(vkey.strip())
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{name}: the server's vkey cannot be read ({exc})") from None
    try:
        opened = note.open_checkpoint(signed_checkpoint, key)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{name}: the checkpoint's signature does not verify with the origin's vkey ({exc})") from None
    checkpoint = opened.checkpoint
    if checkpoint.size != len(leaves):
        raise BundleError(f"{name}: the signed checkpoint covers {checkpoint.size} entries, the file holds {len(leaves)} "
                          "(an entry is missing or added)")
    root = tree.root_of_leaf_hashes(tree.leaf_hashes(leaves))
    if root != checkpoint.root_hash:
        raise BundleError(f"{name}: the Merkle tree of the leaves does not match the signed checkpoint's root hash "
                          "(an entry was altered, removed or reordered)")
    entries = []
    for seq, leaf in enumerate(leaves):
        try:
            body = json.loads(leaf.decode("utf-8"))
            entries.append(Entry(**body))
        except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
            raise BundleError(f"{name}: leaf {seq} is not a record entry ({exc})") from None
        if canonical_json(body) != leaf:
            raise BundleError(f"{name}: leaf {seq} is not in canonical JSON")
    chain = entries[0].chain if entries else ""
    result = verify_chain(chain, entries)
    if not result.ok:
        brk = result.first_break
        raise BundleError(f"{name}: entry #{brk.seq}: {brk.reason}")
    if not checkpoint.origin.endswith("/" + chain):
        raise BundleError(f"{name}: the checkpoint is for {checkpoint.origin!r}, the leaves are of chain {chain!r}")
    return VerifiedLog(checkpoint=checkpoint, vkey=key, entries=entries, root_hash=root)
