"""PrefLib (.soc, .soi, .toc, .toi) and BLT ballot files.

Readers refuse anything malformed with a ``BallotFileError`` naming the line;
they never guess. ``parse_*`` take the text, ``read_*`` a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from councils.tally.profile import Profile, ProfileError

PREFLIB_TYPES = ("soc", "soi", "toc", "toi")
# Bounds that keep a hostile file from asking for unbounded memory or time.
MAX_ALTERNATIVES = 10_000
MAX_CELLS = 200_000_000  # distinct rankings x alternatives held in memory at once (1.6 GB of int64)
MAX_TOTAL = 2**53  # ballots (or total weight) counted exactly in float64 and int64


class BallotFileError(ValueError):
    """A ballot file that cannot be read: ``line`` and ``column`` (1-based) say where, when known."""

    def __init__(self, line: int | None, message: str, source: str = "", column: int | None = None):
        self.line = line
        self.column = column if line is not None else None
        where = f"{source}:" if source else ""
        if line is not None:
            where += f"line {line}, column {column}: " if column is not None else f"line {line}: "
        super().__init__(where + message)


# ------------------------------------------------------------------ PrefLib
#
# A PrefLib file is '# KEY: value' metadata lines, then one line per distinct ballot:
# 'count: 1,{2,3},4'. Counts and alternatives are written in the ASCII digits 0-9 only:
# Python's int() would also take '+2', '1_0' and full-width digits, which no PrefLib
# writer produces and which a hostile file could use to look like one thing and count
# as another. Lines end at '\n' (a '\r' before it is ignored).
#
# Two readers share that grammar. The fast one works on the whole ballot block at once
# with numpy (a million-ballot file in a fraction of a second); it accepts only what it
# has checked completely and answers None for anything else, unusual or wrong. The line
# reader then reads the block one line at a time: it accepts the unusual (comments among
# the ballots) and names the line and column of anything wrong. So every error message
# comes from one place, and the fast reader cannot accept what the line reader refuses.

_META = re.compile(r"^#\s*([A-Z][A-Z ]*[A-Z])\s*(?:([0-9]+)\s*)?:\s?(.*)$")
_DIGITS = frozenset("0123456789")
_BLANK = " \t"
# Tokens longer than this are refused by the line reader (no count or alternative is that large).
_MAX_DIGITS = 18


def parse_preflib(text: str | bytes, data_type: str | None = None, source: str = "") -> Profile:
    """A PrefLib file in the current (2022) format: '# KEY: value' metadata, then 'count: 1,{2,3},4'."""
    if data_type is not None and data_type not in PREFLIB_TYPES:
        raise BallotFileError(None, f"unknown PrefLib data type {data_type!r}; expected one of {PREFLIB_TYPES}", source)
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    start, header = _preflib_header(data, source)
    first_line = len(header) + 1
    meta: dict[str, str] = {}
    names: dict[int, str] = {}
    for number, line in enumerate(header, start=1):
        match = _META.match(line)
        if not match:
            continue  # a comment
        key, idx, value = match.groups()
        if key == "ALTERNATIVE NAME":
            if idx is None:
                raise BallotFileError(number, "ALTERNATIVE NAME needs a number", source)
            if len(idx) > 6:
                raise BallotFileError(number, f"alternative number {idx} is too large", source)
            names[int(idx)] = value.strip()
        else:
            meta[key] = value.strip()
    kind = data_type or meta.get("DATA TYPE")
    if kind is None:
        raise BallotFileError(None, "no '# DATA TYPE:' line before the ballots and no data type given", source)
    if kind not in PREFLIB_TYPES:
        raise BallotFileError(None, f"unsupported PrefLib data type {kind!r}; expected one of {PREFLIB_TYPES}", source)
    if "NUMBER ALTERNATIVES" not in meta:
        raise BallotFileError(None, "missing '# NUMBER ALTERNATIVES:' line before the ballots", source)
    declared = meta["NUMBER ALTERNATIVES"]
    if not (declared and set(declared) <= _DIGITS and len(declared) <= 9):
        raise BallotFileError(None, f"NUMBER ALTERNATIVES {declared!r} is not a whole number (digits 0-9)", source)
    m = int(declared)
    if not 1 <= m <= MAX_ALTERNATIVES:
        raise BallotFileError(None, f"NUMBER ALTERNATIVES must be between 1 and {MAX_ALTERNATIVES}, got {m}", source)
    if set(names) - set(range(1, m + 1)):
        raise BallotFileError(None, f"alternative numbers must run from 1 to {m}", source)
    options = tuple(names.get(i, str(i)) for i in range(1, m + 1))
    if len(set(options)) != m:
        raise BallotFileError(None, "alternative names must be distinct", source)

    block = data[start:]
    strict = kind in ("soc", "soi")
    read = _preflib_block_fast(block, kind, m, source)
    if read is None:
        read = _preflib_block_lines(block, kind, m, first_line, source)
    counts, table = read
    total = int(counts.sum()) if len(counts) else 0
    if total > MAX_TOTAL:
        raise BallotFileError(None, f"the counts add up to {total}, more than can be counted exactly ({MAX_TOTAL})", source)
    voters = meta.get("NUMBER VOTERS", "")
    if voters and set(voters) <= _DIGITS and int(voters) != total:
        raise BallotFileError(None, f"NUMBER VOTERS says {voters} but the counts add up to {total}", source)
    weights = counts.astype(np.float64)
    try:
        if strict:
            return Profile.from_orders(options, table, weights)
        return Profile.from_ranks(options, table, weights)
    except ProfileError:
        # The fast reader leaves repeated alternatives to the profile; the line reader names the line.
        _preflib_block_lines(block, kind, m, first_line, source)
        raise


def _preflib_header(data: bytes, source: str) -> tuple[int, list[str]]:
    """Byte offset of the first ballot line, and the lines before it (metadata, comments, blanks) as text."""
    header = []
    pos = 0
    while pos < len(data):
        end = data.find(b"\n", pos)
        end = len(data) if end < 0 else end
        raw = data[pos:end]
        stripped = raw.strip()
        if stripped and not stripped.startswith(b"#"):
            break
        header.append(_decode(raw, len(header) + 1, source).strip())
        pos = end + 1
    return pos, header


def _decode(raw: bytes, number: int, source: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", errors="replace")) + 1
        raise BallotFileError(number, "the file is not UTF-8 text", source, column) from None


def _decode_text(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        _decode(data[line_start : exc.end], number, source)
        raise  # not reached: _decode names the place


# Character classes of the fast reader; 0 is anything it does not read (it then leaves the block to the line reader).
_DIGIT, _SPACE, _COLON, _COMMA, _OPEN, _CLOSE, _NEWLINE = range(1, 8)
_CLASS = np.zeros(256, dtype=np.int8)
_CLASS[ord("0") : ord("9") + 1] = _DIGIT
_CLASS[[ord(" "), ord("\t")]] = _SPACE
for _char, _cls in ((":", _COLON), (",", _COMMA), ("{", _OPEN), ("}", _CLOSE), ("\n", _NEWLINE)):
    _CLASS[ord(_char)] = _cls
# _FOLLOWS[a, b]: symbol b may follow symbol a, where a run of digits is one symbol (_DIGIT)
# and blanks are gone. The rest of the grammar (one ':' right after each line's count,
# braces one deep and closed on their line) is checked separately.
_FOLLOWS = np.zeros((8, 8), dtype=bool)
for _a, _bs in ((_NEWLINE, (_DIGIT, _NEWLINE)), (_DIGIT, (_COLON, _COMMA, _CLOSE, _NEWLINE)),
                (_COLON, (_DIGIT, _OPEN)), (_COMMA, (_DIGIT, _OPEN)), (_OPEN, (_DIGIT,)), (_CLOSE, (_COMMA, _NEWLINE))):
    _FOLLOWS[_a, list(_bs)] = True


# Ballot lines are read in chunks of about this many bytes: every working array of a
# chunk is small enough to stay in the processor's cache and to be reused from one
# chunk to the next, where arrays over the whole file would be fresh memory each time
# (on a small virtual machine, faulting in fresh pages costs more than the parsing).
_CHUNK = 1 << 20


def _preflib_strict_chunk(chunk: bytes, complete: bool, m: int):
    """The fast reader for the commonest lines, strict rankings written plainly ('3: 1,2,3').

    Checks the grammar with bytes methods (each one pass in C over the chunk) and reads
    the numbers with numpy; (counts, orders) or None for anything else.
    """
    if b"\r" in chunk or b"\t" in chunk or b"{" in chunk:
        return None
    if b" " in chunk:
        chunk = chunk.replace(b": ", b":")
        if b" " in chunk:
            return None  # blanks elsewhere than after the colon
    if chunk.translate(None, b"0123456789:,\n") or chunk[:1] in (b":", b","):
        return None
    seps = chunk.translate(None, b"0123456789")  # the separators alone, in order: one after each number
    n = seps.count(b"\n")
    # Each line is a count, ':', then alternatives separated by ',': one ':' per line, first.
    if seps.count(b":") != n or (b"\n" + seps).count(b"\n:") != n:
        return None
    digits = np.frombuffer(chunk, dtype=np.uint8) - np.uint8(48)  # separators wrap round to values above 9
    ends = np.flatnonzero(digits > 9)  # the separator after each number
    length = np.empty_like(ends)
    length[0] = ends[0]
    np.subtract(ends[1:], ends[:-1], out=length[1:])
    length[1:] -= 1
    if length.min() < 1 or length.max() >= _MAX_DIGITS:
        return None  # a number missing (or a blank line), or one too long
    values = digits[ends - 1].astype(np.int64)
    longer = np.flatnonzero(length > 1)
    scale, k = 10, 2
    while len(longer):
        values[longer] += scale * digits[ends[longer] - k]
        longer = longer[length[longer] > k]
        scale, k = scale * 10, k + 1
    is_count = np.frombuffer(seps, dtype=np.uint8) == ord(":")
    counts = values[is_count]
    alts = values[~is_count]
    if alts.min() < 1 or alts.max() > m:
        return None
    alts -= 1
    if seps == (b":" + b"," * (m - 1) + b"\n") * n:
        return counts, alts.astype(np.int16).reshape(n, m)  # every line ranks all m
    if complete:
        return None
    per_row = np.diff(np.flatnonzero(is_count), append=len(values)) - 1
    width = int(per_row.max())
    if width > m:
        return None  # an alternative named twice: the line reader says where
    orders = np.full((n, width), -1, dtype=np.int16)
    row = np.repeat(np.arange(n), per_row)
    orders[row, np.arange(len(alts)) - (np.cumsum(per_row) - per_row)[row]] = alts
    return counts, orders


def _preflib_block_fast(block: bytes, kind: str, m: int, source: str):
    """(counts, table) for a ballot block in the plain form, or None to leave it to the line reader.

    ``table`` is the orders (n x width, -1 padded) for strict rankings, else the ranks (n x m, -1 unranked).
    """
    if b"\r" in block:
        block = block.replace(b"\r\n", b"\n")
        if b"\r" in block:
            return None
    if not block.endswith(b"\n"):
        block += b"\n"
    strict = kind in ("soc", "soi")
    complete = kind in ("soc", "toc")
    raw = np.frombuffer(block, dtype=np.uint8)
    parts = []
    rows = cells = 0
    start = 0
    while start < len(block):
        end = block.find(b"\n", min(start + _CHUNK, len(block) - 1)) + 1
        while end < len(block) and block[end] == 10:  # a chunk never starts with a blank line
            end += 1
        part = _preflib_strict_chunk(block[start:end], complete, m) if strict else None
        if part is None:
            part = _preflib_chunk(raw[start:end], strict, complete, m)
        if part is None:
            return None
        rows += len(part[0])
        cells += part[1].size
        if cells > MAX_CELLS:
            raise BallotFileError(None, _too_many(rows, m), source)
        parts.append(part)
        start = end
    if not parts:
        return np.zeros(0, dtype=np.int64), np.full((0, 1 if strict else m), -1, dtype=np.int16)
    counts = np.concatenate([c for c, _ in parts])
    width = max(t.shape[1] for _, t in parts)
    table = np.full((len(counts), width), -1, dtype=np.int16)
    row = 0
    for c, t in parts:
        table[row : row + len(c), : t.shape[1]] = t
        row += len(c)
    return counts, table


def _preflib_chunk(raw: np.ndarray, strict: bool, complete: bool, m: int):
    """The fast reader on whole lines (``raw`` ends with a newline): (counts, table as int16) or None."""
    cls = _CLASS[raw]
    if not cls.all():
        return None
    is_digit = cls == _DIGIT
    runs = np.count_nonzero(is_digit[1:] & ~is_digit[:-1]) + int(is_digit[0])
    solid = cls != _SPACE
    if not solid.all():
        raw, cls = raw[solid], cls[solid]
        is_digit = cls == _DIGIT
        # Blanks between two digits would join two numbers into one: fewer runs than before.
        if np.count_nonzero(is_digit[1:] & ~is_digit[:-1]) + int(is_digit[0]) != runs:
            return None
    # One symbol per run of digits: drop every digit that continues a run.
    first = is_digit.copy()
    first[1:] &= ~is_digit[:-1]
    sym = cls[~is_digit | first]
    prev = np.empty_like(sym)
    prev[0] = _NEWLINE
    prev[1:] = sym[:-1]
    if not _FOLLOWS.ravel()[prev * 8 + sym].all():
        return None
    is_number = sym == _DIGIT
    line_start = is_number & (prev == _NEWLINE)  # each ballot line's count
    colon = sym == _COLON
    # The count is followed by ':' and every ':' follows a count: one per line, in the right place.
    if colon[0] or not np.array_equal(colon[1:], line_start[:-1]):
        return None
    opens = sym == _OPEN
    if opens.any():
        if strict:
            return None  # a group in a strict file: the line reader says whether it is a tie
        depth = np.cumsum(opens, dtype=np.int32)
        depth -= np.cumsum(sym == _CLOSE, dtype=np.int32)
        if depth.min() < 0 or depth.max() > 1 or depth[sym == _NEWLINE].any():
            return None
        top_comma = (sym == _COMMA) & (depth == 0)
    else:
        top_comma = sym == _COMMA

    # The numbers' values, one digit position at a time; only numbers still going are carried on.
    starts = np.flatnonzero(first)
    last = is_digit.copy()
    last[:-1] &= ~is_digit[1:]
    length = np.flatnonzero(last)
    length -= starts
    if not len(starts):
        return np.zeros(0, dtype=np.int64), np.zeros((0, 1 if strict else m), dtype=np.int16)
    if length.max() >= _MAX_DIGITS:
        return None
    digits = raw - 48
    values = digits[starts].astype(np.int64)
    longer = np.flatnonzero(length)
    k = 1
    while len(longer):
        values[longer] = values[longer] * 10 + digits[starts[longer] + k]
        longer = longer[length[longer] > k]
        k += 1

    is_count = line_start[is_number]
    counts = values[is_count]
    alts = values[~is_count]
    n = len(counts)
    count_at = np.flatnonzero(is_count)
    per_row = np.diff(np.append(count_at, len(values))) - 1
    if alts.min() < 1 or alts.max() > m or (complete and not (per_row == m).all()):
        return None
    if strict:
        width = int(per_row.max())
        if width > m:  # an alternative named twice: the line reader says where
            return None
        alts -= 1
        if (per_row == width).all():
            return counts, alts.astype(np.int16).reshape(n, width)
        orders = np.full((n, width), -1, dtype=np.int16)
        row = np.repeat(np.arange(n), per_row)
        orders[row, np.arange(len(alts)) - (count_at - np.arange(n))[row]] = alts
        return counts, orders
    # With ties, an alternative's position is the number of top-level commas before it on its line.
    commas = np.cumsum(top_comma, dtype=np.int32)[is_number]
    row = np.repeat(np.arange(n), per_row)
    pos = commas[~is_count] - commas[is_count][row]
    ranks = np.full((n, m), -1, dtype=np.int16)
    ranks.ravel()[row * m + alts - 1] = pos
    if np.count_nonzero(ranks != -1) != len(alts):  # an alternative named twice on a line
        return None
    return counts, ranks


def _preflib_block_lines(block: bytes, kind: str, m: int, first_line: int, source: str):
    """The line reader: (counts, table) as the fast reader gives them, or a BallotFileError naming line and column."""
    strict = kind in ("soc", "soi")
    complete = kind in ("soc", "toc")
    counts: list[int] = []
    rows: list[list[int]] = []  # strict: alternatives best first; with ties: position of each alternative
    cells = 0
    lines = block.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, raw in enumerate(lines, start=first_line):
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        line = _decode(raw, number, source)
        body = line.strip(_BLANK)
        if not body or body.startswith("#"):
            continue  # blank lines and comments among the ballots
        count, groups = _preflib_line(line, number, m, source)
        ranked = sum(len(g) for g, _ in groups)
        if strict:
            for group, col in groups:
                if len(group) > 1:
                    raise BallotFileError(number, f"ties are not allowed in a .{kind} file", source, col)
        if complete and ranked != m:
            raise BallotFileError(number, f"a .{kind} ranking must rank all {m} alternatives, this one ranks {ranked}",
                                  source)
        cells += ranked if strict else m
        if cells > MAX_CELLS:
            raise BallotFileError(number, _too_many(len(rows) + 1, m), source)
        counts.append(count)
        if strict:
            rows.append([g[0] - 1 for g, _ in groups])
        else:
            cells = [-1] * m
            for pos, (group, _) in enumerate(groups):
                for alt in group:
                    cells[alt - 1] = pos
            rows.append(cells)
    n = len(rows)
    width = m if not strict else max((len(r) for r in rows), default=1)
    table = np.full((n, width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        table[i, : len(r)] = r
    return np.array(counts, dtype=np.int64), table


def _too_many(n: int, m: int) -> str:
    return f"{n} rankings of up to {m} alternatives are more than this reader holds ({MAX_CELLS:,} places)"


def _preflib_line(line: str, number: int, m: int, source: str):
    """(count, [(group of alternatives, column)]) of one ballot line; refusals name the column (1-based)."""

    def fail(message, at):
        raise BallotFileError(number, message, source, at + 1)

    def blanks(i):
        while i < len(line) and line[i] in _BLANK:
            i += 1
        return i

    def number_at(i, what):
        j = i
        while j < len(line) and line[j] in _DIGITS:
            j += 1
        if j == i:
            got = repr(line[i]) if i < len(line) else "the end of the line"
            fail(f"{what} must be a number written in the digits 0-9, found {got}", i)
        if j < len(line) and line[j] not in _BLANK + ",:{}":
            fail(f"{what} must be a number written in the digits 0-9, found {line[i:j + 1]!r}", j)
        return line[i:j], j

    colon = line.find(":")
    if colon < 0:
        fail(f"expected 'count: ranking', got {line.strip()!r}", blanks(0))
    i = blanks(0)
    count_text = line[i:colon].rstrip(_BLANK)
    if count_text.startswith("-") and count_text[1:] and set(count_text[1:]) <= _DIGITS:
        fail(f"count must not be negative, got {count_text}", i)
    bad = next((k for k, ch in enumerate(count_text) if ch not in _DIGITS), None)
    if bad is not None or not count_text:
        fail(f"count {count_text!r} is not a whole number written in the digits 0-9", i + (bad or 0))
    if len(count_text) > _MAX_DIGITS:
        fail(f"count {count_text} is larger than can be counted exactly ({MAX_TOTAL})", i)
    count = int(count_text)
    groups: list[tuple[list[int], int]] = []
    seen: set[int] = set()
    i = blanks(colon + 1)
    if i == len(line):
        fail("the ranking is empty: a ballot line must rank at least one alternative", i)
    while True:
        group_at = i
        if line[i] == "{":
            group = []
            i = blanks(i + 1)
            while True:
                if i < len(line) and line[i] == "{":
                    fail("'{' inside a group: groups of tied alternatives do not nest", i)
                alt_at = i
                text, i = number_at(i, "an alternative")
                group.append(_alternative(text, alt_at, seen, m, fail))
                i = blanks(i)
                if i == len(line):
                    fail("unclosed '{'", group_at)
                if line[i] == "}":
                    i = blanks(i + 1)
                    break
                if line[i] != ",":
                    fail(f"expected ',' or '}}' in a group, found {line[i]!r}", i)
                i = blanks(i + 1)
        else:
            text, i = number_at(i, "an alternative")
            group = [_alternative(text, group_at, seen, m, fail)]
            i = blanks(i)
        groups.append((group, group_at + 1))
        if i == len(line):
            return count, groups
        if line[i] != ",":
            fail(f"expected ',' between alternatives, found {line[i]!r}", i)
        i = blanks(i + 1)
        if i == len(line):
            fail("the ranking ends with ','", i - 1)


def _alternative(text: str, at: int, seen: set, m: int, fail) -> int:
    alt = int(text) if len(text) <= 9 else m + 1
    if not 1 <= alt <= m:
        fail(f"alternative {text} is not between 1 and {m}", at)
    if alt in seen:
        fail(f"alternative {alt} appears twice", at)
    seen.add(alt)
    return alt


def read_preflib(path, data_type: str | None = None) -> Profile:
    path = Path(path)
    kind = data_type or (path.suffix[1:] if path.suffix[1:] in PREFLIB_TYPES else None)
    return parse_preflib(path.read_bytes(), kind, source=str(path))


def write_preflib(profile: Profile, title: str = "", data_type: str | None = None) -> str:
    """The profile as PrefLib text; the data type is the narrowest that fits unless given."""
    rankings = profile.rankings()
    ties = any(len(g) > 1 for groups, _ in rankings for g in groups)
    complete = all(sum(len(g) for g in groups) == profile.n_options for groups, _ in rankings)
    kind = data_type or ("to" if ties else "so") + ("c" if complete else "i")
    index = {name: i + 1 for i, name in enumerate(profile.options)}
    lines = [
        f"# TITLE: {title}",
        f"# DATA TYPE: {kind}",
        f"# NUMBER ALTERNATIVES: {profile.n_options}",
        f"# NUMBER VOTERS: {int(profile.n_ballots)}",
        f"# NUMBER UNIQUE ORDERS: {len(rankings)}",
    ]
    lines += [f"# ALTERNATIVE NAME {i + 1}: {name}" for i, name in enumerate(profile.options)]
    for groups, count in sorted(rankings, key=lambda rc: -rc[1]):
        parts = [str(index[g[0]]) if len(g) == 1 else "{" + ",".join(str(index[x]) for x in g) + "}" for g in groups]
        lines.append(f"{int(count)}: {','.join(parts)}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ BLT


@dataclass
class BltElection:
    profile: Profile  # withdrawn candidates already removed from the ballots
    seats: int
    title: str = ""
    withdrawn: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # all, withdrawn included, in file order


def parse_blt(text: str, source: str = "") -> BltElection:
    """The BLT format (OpenSTV, ERS): 'candidates seats', optional '-k' withdrawn lines,
    ballots 'weight pref pref ... 0', a closing '0', candidate names, title."""
    if isinstance(text, bytes):
        text = _decode_text(text, source)
    lines = text.splitlines()
    pos = 0

    def next_line():
        nonlocal pos
        while pos < len(lines):
            pos += 1
            content = lines[pos - 1].split("#", 1)[0].strip()
            if content:
                return pos, content
        return None, None

    number, header = next_line()
    if header is None:
        raise BallotFileError(None, "empty file", source)
    parts = header.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise BallotFileError(number, f"first line must be 'candidates seats', got {header!r}", source)
    m, seats = int(parts[0]), int(parts[1])
    if m < 1:
        raise BallotFileError(number, "there must be at least one candidate", source)
    if not 1 <= seats <= m:
        raise BallotFileError(number, f"seats must be between 1 and the {m} candidates, got {seats}", source)

    withdrawn_idx: list[int] = []
    body_start = pos
    number, content = next_line()
    while content is not None and content.startswith("-"):
        for tok in content.split():
            if not re.fullmatch(r"-\d+", tok) or not 1 <= -int(tok) <= m:
                raise BallotFileError(number, f"withdrawn candidate {tok!r} must be -1 .. -{m}", source)
            withdrawn_idx.append(-int(tok) - 1)
        body_start = pos
        number, content = next_line()
    pos = body_start

    orders, weights, end = _blt_ballots_fast(lines, body_start, m)
    if orders is None:
        orders, weights, end = _blt_ballots_slow(lines, body_start, m, source)
    pos = end
    with np.errstate(over="ignore"):
        total = float(np.sum(weights))
    if not total <= MAX_TOTAL:  # also catches weights that add up to infinity
        raise BallotFileError(None, f"the ballot weights add up to more than can be counted exactly ({MAX_TOTAL})", source)
    names = []
    for _ in range(m + 1):
        number, content = next_line()
        if content is None:
            raise BallotFileError(None, f"expected {m} candidate names and a title after the ballots, "
                                  f"found {len(names)} lines", source)
        if not (len(content) >= 2 and content[0] == '"' and content[-1] == '"'):
            raise BallotFileError(number, f"names and title must be in double quotes, got {content!r}", source)
        names.append(content[1:-1])
    number, content = next_line()
    if content is not None:
        raise BallotFileError(number, f"unexpected text after the title: {content!r}", source)
    candidates, title = names[:m], names[m]
    if len(set(candidates)) != m:
        raise BallotFileError(None, "candidate names must be distinct", source)
    try:
        profile = Profile.from_orders(candidates, orders, weights)
    except ProfileError as exc:
        # The fast path checks repeats only on distinct ballots; find the line the slow way.
        _blt_ballots_slow(lines, body_start, m, source)
        raise BallotFileError(None, str(exc), source) from None
    withdrawn = [candidates[i] for i in sorted(set(withdrawn_idx))]
    if len(candidates) - len(withdrawn) < seats:
        raise BallotFileError(None, f"{seats} seats but only {len(candidates) - len(withdrawn)} candidates stand", source)
    if withdrawn:
        profile = profile.without(withdrawn)
    return BltElection(profile, seats, title, withdrawn, candidates)


def _blt_ballots_fast(lines, start, m):
    """Whole-block tokenising with numpy: a million-ballot file in well under a second.

    Only for plain files (one ballot per line, whole weights, no comments, ids or
    equal preferences); anything else, and any error, goes to the line-by-line
    reader, which names the offending line.
    """
    text = "\n".join(lines[start:])
    end = re.search(r"(?m)^[ \t]*0[ \t]*$", text)
    if end is None:
        return None, None, None
    block = text[: end.start()]
    if re.search(r"[^0-9 \t\n]", block):
        return None, None, None
    # Every ballot line must end in a separate 0 and not weigh 0; then the zeros are exactly the line ends.
    if re.search(r"(?m)^[ \t]*\S(?:.*\S)?(?<!\s0)[ \t]*$", block) or re.search(r"(?m)^[ \t]*0\s", block):
        return None, None, None
    n = len(re.findall(r"(?m)^[ \t]*\S", block))
    try:
        tokens = np.array(block.split(), dtype=np.int64)
    except OverflowError:  # a number beyond int64: the line-by-line reader names it
        return None, None, None
    zeros = np.flatnonzero(tokens == 0)
    if len(zeros) != n or (n and tokens.max() > m):
        return None, None, None
    starts = np.concatenate([[0], zeros[:-1] + 1])[:n]
    length = zeros - starts - 1
    width = int(length.max()) if n else 0
    orders = np.full((n, max(width, 1)), -1, dtype=np.int64)
    col = np.arange(width)
    mask = col[None, :] < length[:, None]
    orders[mask] = tokens[(starts[:, None] + 1 + col[None, :])[mask]] - 1
    weights = tokens[starts].astype(np.float64)
    return orders, weights, start + text[: end.end()].count("\n") + 1


def _blt_ballots_slow(lines, start, m, source):
    rows, weights = [], []
    pos = start
    while True:
        if pos >= len(lines):
            raise BallotFileError(None, "the ballots must end with a line holding a single 0", source)
        pos += 1
        number, content = pos, lines[pos - 1].split("#", 1)[0].strip()
        if not content:
            continue
        toks = content.split()
        if toks == ["0"]:
            break
        toks = toks[1:] if toks[0].startswith("(") and toks[0].endswith(")") else toks  # optional ballot id
        try:
            weight = float(toks[0])
        except ValueError:
            raise BallotFileError(number, f"ballot weight {toks[0]!r} is not a number", source) from None
        if weight < 0:
            raise BallotFileError(number, f"ballot weight must not be negative, got {toks[0]}", source)
        if toks[-1] != "0":
            raise BallotFileError(number, "a ballot line must end with 0", source)
        prefs = []
        for tok in toks[1:-1]:
            if "=" in tok:
                raise BallotFileError(number, f"equal preferences ({tok}) are not allowed in STV ballots", source)
            if not tok.isdigit() or not 1 <= int(tok) <= m:
                raise BallotFileError(number, f"preference {tok!r} is not a candidate number 1..{m}", source)
            if int(tok) - 1 in prefs:
                raise BallotFileError(number, f"candidate {tok} appears twice", source)
            prefs.append(int(tok) - 1)
        rows.append(prefs)
        weights.append(weight)
    width = max((len(r) for r in rows), default=1) or 1
    orders = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        orders[i, : len(r)] = r
    return orders, np.array(weights), pos


def read_blt(path) -> BltElection:
    path = Path(path)
    return parse_blt(path.read_text(encoding="utf-8"), source=str(path))


def write_blt(profile: Profile, seats: int, title: str = "", withdrawn=()) -> str:
    """BLT text for a strict profile, one line per distinct ballot with its count as weight."""
    orders = profile.orders()
    lines = [f"{profile.n_options} {seats}"]
    index = {name: i + 1 for i, name in enumerate(profile.options)}
    if withdrawn:
        lines.append(" ".join(f"-{index[w]}" for w in withdrawn))
    for row, count in zip(orders, profile.counts):
        prefs = " ".join(str(int(x) + 1) for x in row if x >= 0)
        weight = int(count) if float(count).is_integer() else count
        lines.append(f"{weight} {prefs} 0" if prefs else f"{weight} 0")
    lines.append("0")
    lines += [f'"{name}"' for name in profile.options]
    lines.append(f'"{title}"')
    return "\n".join(lines) + "\n"


def read_profile(path, data_type: str | None = None) -> tuple[Profile, int | None]:
    """Any supported file by its extension: (profile, seats from the file or None)."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "blt" or data_type == "blt":
        election = read_blt(path)
        return election.profile, election.seats
    if suffix in PREFLIB_TYPES or data_type in PREFLIB_TYPES:
        return read_preflib(path, data_type), None
    raise BallotFileError(None, f"unknown file type {path.suffix!r}: expected .blt, .soc, .soi, .toc or .toi", str(path))
