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
        read = _preflib_block_lines(block, kind, m, first_line, source) + (False,)
    counts, table, checked = read
    total = int(counts.sum()) if len(counts) else 0
    if total > MAX_TOTAL:
        raise BallotFileError(None, f"the counts add up to {total}, more than can be counted exactly ({MAX_TOTAL})", source)
    voters = meta.get("NUMBER VOTERS", "")
    if voters and set(voters) <= _DIGITS and int(voters) != total:
        raise BallotFileError(None, f"NUMBER VOTERS says {voters} but the counts add up to {total}", source)
    weights = counts.astype(np.float64)
    try:
        if strict:
            # Rankings the fast reader has checked (alternatives in range, none twice, no gaps) skip the
            # profile's own checks.
            if checked:
                return Profile._from_checked_orders(options, table, weights)
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
    the numbers with numpy; (counts, orders, checked) or None for anything else. ``checked``:
    no ranking names an alternative twice (known where numpy can count bits).
    """
    if b"\r" in chunk or b"\t" in chunk or b"{" in chunk:
        return None
    if b" " in chunk:
        chunk = chunk.replace(b": ", b":")
        if b" " in chunk:
            return None  # blanks elsewhere than after the colon
    if chunk.translate(None, b"0123456789:,\n"):
        return None
    seps = chunk.translate(None, b"0123456789")  # the separators alone, in order: one after each number
    n = seps.count(b"\n")
    # Each line is a count, ':', then alternatives separated by ',': one ':' per line, first.
    if seps.count(b":") != n or (b"\n" + seps).count(b"\n:") != n:
        return None
    digits = np.frombuffer(chunk, dtype=np.uint8) - np.uint8(48)  # separators wrap round to values above 9
    ends = np.flatnonzero(digits > 9)  # the separator after each number
    # A number's last digit is just before its separator; a separator there means a number is missing.
    # Going back digit by digit, the byte before a number's first digit is a separator (index -1 wraps
    # round to the chunk's final newline, a separator too).
    at = ends - 1
    values = digits[at].astype(np.int64)
    if not len(values) or values.max() > 9:
        return None
    going = np.flatnonzero(digits[at - 1] <= 9)
    scale = 10
    for _ in range(_MAX_DIGITS):
        if not len(going):
            break
        at_going = at[going] - (len(str(scale)) - 1)
        values[going] += digits[at_going].astype(np.int64) * scale
        going = going[digits[at_going - 1] <= 9]
        scale *= 10
    else:
        return None  # a number too long to be a count or an alternative
    if seps == (b":" + b"," * (m - 1) + b"\n") * n:
        table = values.reshape(n, m + 1)  # every line ranks all m: no need to find where lines start
        counts, alts = table[:, 0], table[:, 1:]
        if alts.min() < 1 or alts.max() > m:
            return None
        orders = (alts - 1).astype(np.int16)
        per_row = None
    else:
        if complete:
            return None
        is_count = np.frombuffer(seps, dtype=np.uint8) == ord(":")
        counts = values[is_count]
        alts = values[~is_count]
        if alts.min() < 1 or alts.max() > m:
            return None
        per_row = np.diff(np.flatnonzero(is_count), append=len(values)) - 1
        width = int(per_row.max())
        if width > m:
            return None  # an alternative named twice: the line reader says where
        orders = np.full((n, width), -1, dtype=np.int16)
        row = np.repeat(np.arange(n), per_row)
        orders[row, np.arange(len(alts)) - (np.cumsum(per_row) - per_row)[row]] = alts - 1
    return counts, orders, _no_repeats(orders, per_row, m)


def _no_repeats(orders: np.ndarray, per_row, m: int) -> bool:
    """True if no row names an option twice, checked while the chunk is in cache; False if not checked
    here (the profile then checks); None if some row does (the line reader says where)."""
    if m > 63 or not hasattr(np, "bitwise_count"):
        return False
    bits = np.left_shift(np.uint64(1), np.where(orders >= 0, orders, 0).astype(np.uint64))
    if per_row is not None:
        bits[orders < 0] = 0
    seen = np.bitwise_count(np.bitwise_or.reduce(bits, axis=1))
    length = orders.shape[1] if per_row is None else per_row
    return True if np.array_equal(seen, np.broadcast_to(length, seen.shape)) else None


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
    checked = True
    while start < len(block):
        end = block.find(b"\n", min(start + _CHUNK, len(block) - 1)) + 1
        while end < len(block) and block[end] == 10:  # a chunk never starts with a blank line
            end += 1
        part = _preflib_strict_chunk(block[start:end], complete, m) if strict else None
        if part is not None and part[2] is None:
            return None  # an alternative named twice
        if part is None:
            part = _preflib_chunk(raw[start:end], strict, complete, m)
            if part is None:
                return None
            part = part + (False,)
        checked = checked and part[2]
        rows += len(part[0])
        cells += part[1].size
        if cells > MAX_CELLS:
            raise BallotFileError(None, _too_many(rows, m), source)
        parts.append(part)
        start = end
    if not parts:
        return np.zeros(0, dtype=np.int64), np.full((0, 1 if strict else m), -1, dtype=np.int16), False
    counts = np.concatenate([c for c, _, _ in parts])
    width = max(t.shape[1] for _, t, _ in parts)
    if all(t.shape[1] == width for _, t, _ in parts):
        table = np.concatenate([t for _, t, _ in parts])
    else:
        table = np.full((len(counts), width), -1, dtype=np.int16)
        row = 0
        for c, t, _ in parts:
            table[row : row + len(c), : t.shape[1]] = t
            row += len(c)
    return counts, table, checked and strict


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
            row_ranks = [-1] * m
            for pos, (group, _) in enumerate(groups):
                for alt in group:
                    row_ranks[alt - 1] = pos
            rows.append(row_ranks)
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
#
# The BLT format as OpenSTV, ERS and droop write it:
#
#   4 2                       candidates, seats
#   -2                        optional: withdrawn candidates as negative numbers
#   [withdrawn 3]             optional droop options, one or more per line, before the ballots:
#   [nick a b c d]              a nickname per candidate (ballots and options may use them)
#   [tie d c b a]               the tie-breaking order, most favoured first
#   (id) 3 1 2 0              ballots: optional id, weight, preferences, 0
#   0                         end of ballots
#   "Adam" ...                a quoted name per candidate, then the title,
#   "extra"                   then any further quoted lines (kept as notes)
#
# '#' starts a comment anywhere outside quotes. Numbers are ASCII digits (a weight may
# have a decimal part). As for PrefLib, a fast reader takes the plain ballot block at
# once and the line reader names the line and column of anything wrong.


@dataclass
class BltElection:
    profile: Profile  # withdrawn candidates already removed from the ballots
    seats: int
    title: str = ""
    withdrawn: list[str] = field(default_factory=list)
    candidates: list[str] = field(default_factory=list)  # all, withdrawn included, in file order
    tie_order: list[str] | None = None  # [tie ...]: standing candidates, most favoured first
    nicknames: dict[str, str] = field(default_factory=dict)  # nickname -> candidate name
    notes: list[str] = field(default_factory=list)  # quoted lines after the title


_NUMBER = re.compile(r"[0-9]+")
_WEIGHT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_TOKEN = re.compile(r"[^\s#\[\]]+")


def parse_blt(text: str | bytes, source: str = "") -> BltElection:
    """A BLT file: see the format above. Withdrawn candidates are removed from the ballots."""
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    reader = _BltLines(data, source)

    number, col, header = reader.next_content()
    if header is None:
        raise BallotFileError(None, "empty file", source)
    parts = header.split()
    if len(parts) != 2 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise BallotFileError(number, f"first line must be 'candidates seats', got {header!r}", source, col)
    if any(len(p) > 6 for p in parts):
        raise BallotFileError(number, f"at most {MAX_ALTERNATIVES} candidates, got {parts[0]}", source, col)
    m, seats = int(parts[0]), int(parts[1])
    if not 1 <= m <= MAX_ALTERNATIVES:
        raise BallotFileError(number, f"there must be between 1 and {MAX_ALTERNATIVES} candidates, got {m}", source, col)
    if not 1 <= seats <= m:
        raise BallotFileError(number, f"seats must be between 1 and the {m} candidates, got {seats}", source, col)

    withdrawn_refs: list[tuple[str, int, int]] = []  # (candidate as written, line, column)
    options: dict[str, tuple[list[tuple[str, int]], int]] = {}  # name -> ([(value, column)], line)
    while True:
        mark = reader.pos
        number, col, content = reader.next_content()
        if content is None or not content.startswith(("-", "[")):
            reader.pos = mark
            break
        if content.startswith("-"):
            line = reader.line_text(number)
            for match in _TOKEN.finditer(line.split("#", 1)[0]):
                tok = match.group()
                if not re.fullmatch(r"-[0-9]{1,6}", tok) or not 1 <= -int(tok) <= m:
                    raise BallotFileError(number, f"withdrawn candidate {tok!r} must be -1 .. -{m}", source,
                                          match.start() + 1)
                withdrawn_refs.append((str(-int(tok)), number, match.start() + 1))
            continue
        for name, values, opt_col in _bracket_options(reader.line_text(number), number, source):
            if name in options:
                raise BallotFileError(number, f"[{name}] is given twice", source, opt_col)
            if name not in ("nick", "withdrawn", "tie"):
                raise BallotFileError(number, f"unknown option [{name} ...]; expected [nick], [withdrawn] or [tie]",
                                      source, opt_col)
            options[name] = (values, number)
            if name == "withdrawn":
                withdrawn_refs += [(v, number, c) for v, c in values]

    nick_index: dict[str, int] = {}
    if "nick" in options:
        values, number = options["nick"]
        if len(values) != m:
            raise BallotFileError(number, f"[nick] must give one nickname to each of the {m} candidates, "
                                  f"got {len(values)}", source)
        for i, (nick, c) in enumerate(values):
            if _NUMBER.fullmatch(nick):
                raise BallotFileError(number, f"nickname {nick!r} is a number: it would be read as a candidate number",
                                      source, c)
            if nick in nick_index:
                raise BallotFileError(number, f"nickname {nick!r} is given twice", source, c)
            nick_index[nick] = i

    def candidate(ref: str, number: int, col: int) -> int:
        if ref in nick_index:
            return nick_index[ref]
        if _NUMBER.fullmatch(ref) and len(ref) <= 6 and 1 <= int(ref) <= m:
            return int(ref) - 1
        raise BallotFileError(number, f"{ref!r} is not a candidate number 1..{m}"
                              + (" or nickname" if nick_index else ""), source, col)

    withdrawn_idx = sorted({candidate(ref, n, c) for ref, n, c in withdrawn_refs})
    tie_idx = None
    if "tie" in options:
        values, number = options["tie"]
        tie_idx = []
        for ref, c in values:
            i = candidate(ref, number, c)
            if i in tie_idx:
                raise BallotFileError(number, f"candidate {ref!r} is named twice in [tie]", source, c)
            tie_idx.append(i)

    body_start = reader.pos
    read = None if nick_index else _blt_ballots_fast(data, body_start, m, reader.offset_of_line(body_start))
    if read is not None:
        orders, weights, end_line = read
    else:
        orders, weights, end_line = _blt_ballots_lines(reader, body_start, m, nick_index, source)
    reader.pos = end_line
    with np.errstate(over="ignore"):
        total = float(np.sum(weights))
    if not total <= MAX_TOTAL:  # also catches weights that add up to infinity
        raise BallotFileError(None, f"the ballot weights add up to more than can be counted exactly ({MAX_TOTAL})", source)

    quoted = reader.quoted_tail()
    if len(quoted) < m + 1:
        raise BallotFileError(None, f"expected {m} candidate names and a title after the ballots, "
                              f"found {len(quoted)} quoted lines", source)
    candidates = [q for q, _, _ in quoted[:m]]
    title = quoted[m][0]
    notes = [q for q, _, _ in quoted[m + 1 :]]
    if len(set(candidates)) != m:
        twice = next(q for q in quoted[:m] if candidates.count(q[0]) > 1)
        raise BallotFileError(twice[1], f"candidate name {twice[0]!r} is given twice: names must be distinct",
                              source, twice[2])
    try:
        profile = Profile.from_orders(candidates, orders, weights)
    except ProfileError as exc:
        # The fast reader leaves repeated candidates to the profile; the line reader names the line.
        _blt_ballots_lines(reader, body_start, m, nick_index, source)
        raise BallotFileError(None, str(exc), source) from None
    withdrawn = [candidates[i] for i in withdrawn_idx]
    if len(candidates) - len(withdrawn) < seats:
        raise BallotFileError(None, f"{seats} seats but only {len(candidates) - len(withdrawn)} candidates stand", source)
    if withdrawn:
        profile = profile.without(withdrawn)
    tie_order = None
    if tie_idx is not None:
        # Candidates the order leaves out follow the ones it names, in file order.
        named = [candidates[i] for i in tie_idx]
        tie_order = [c for c in named + [c for c in candidates if c not in named] if c not in withdrawn]
    nicknames = {nick: candidates[i] for nick, i in nick_index.items()}
    return BltElection(profile, seats, title, withdrawn, candidates, tie_order, nicknames, notes)


class _BltLines:
    """The file's lines (split at '\\n', a '\\r' before it dropped), read on demand, with their byte offsets."""

    def __init__(self, data: bytes, source: str):
        self.data = data
        self.source = source
        self.pos = 0  # lines consumed
        self._starts = [0]  # byte offset of each line seen so far

    def offset_of_line(self, index: int) -> int:
        while len(self._starts) <= index:
            nl = self.data.find(b"\n", self._starts[-1])
            self._starts.append(len(self.data) + 1 if nl < 0 else nl + 1)
        return min(self._starts[index], len(self.data))

    def line_text(self, number: int) -> str:
        start, end = self.offset_of_line(number - 1), self.offset_of_line(number)
        raw = self.data[start:end].rstrip(b"\n")
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        return _decode(raw, number, self.source)

    def at_end(self, index: int) -> bool:
        return self.offset_of_line(index) >= len(self.data)

    def next_content(self):
        """(line number, column, text without comment and blanks) of the next line with content, or (None,)*3."""
        while not self.at_end(self.pos):
            self.pos += 1
            line = self.line_text(self.pos)
            content = line.split("#", 1)[0]
            stripped = content.strip()
            if stripped:
                return self.pos, len(content) - len(content.lstrip()) + 1, stripped
        return None, None, None

    def quoted_tail(self) -> list[tuple[str, int, int]]:
        """Every quoted string after the ballots, with its line and column; anything else is refused."""
        out = []
        while not self.at_end(self.pos):
            self.pos += 1
            number, line = self.pos, self.line_text(self.pos)
            i = 0
            while i < len(line):
                ch = line[i]
                if ch in " \t":
                    i += 1
                elif ch == "#":
                    break
                elif ch == '"':
                    end = line.find('"', i + 1)
                    if end < 0:
                        raise BallotFileError(number, "a quoted name has no closing '\"'", self.source, i + 1)
                    out.append((line[i + 1 : end], number, i + 1))
                    i = end + 1
                else:
                    raise BallotFileError(number, f"names and title must be in double quotes, got {line.strip()!r}",
                                          self.source, i + 1)
        return out


def _bracket_options(line: str, number: int, source: str):
    """[(name, [(value, column)], column)] of the '[name value ...]' options on a line."""
    out = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch in " \t":
            i += 1
        elif ch == "#":
            break
        elif ch == "[":
            end = line.find("]", i)
            if end < 0:
                raise BallotFileError(number, "an option '[' has no closing ']'", source, i + 1)
            tokens = [(mt.group(), i + 2 + mt.start()) for mt in re.finditer(r"\S+", line[i + 1 : end])]
            if not tokens:
                raise BallotFileError(number, "an empty option '[]'", source, i + 1)
            out.append((tokens[0][0], tokens[1:], i + 1))
            i = end + 1
        else:
            raise BallotFileError(number, f"expected an option in square brackets, found {line[i:].strip()!r}",
                                  source, i + 1)
    return out


def _blt_ballots_fast(data: bytes, body_start: int, m: int, start: int):
    """(orders, weights, lines read up to the end marker) for a plain ballot block at byte ``start``, or None.

    Plain: one ballot per line, 'weight pref ... 0' with single spaces, whole weights, no
    comments, ids, nicknames or equal preferences, and a line holding just '0' at the end.
    """
    end = data.find(b"\n0\n", start)
    if end < 0 or data.startswith(b"0\n", start):
        return None  # no plain end marker, or no ballots: the line reader says what it makes of it
    block = data[start : end + 1]
    parts = []
    pos = 0
    while pos < len(block):
        stop = block.find(b"\n", min(pos + _CHUNK, len(block) - 1)) + 1
        part = _blt_chunk(block[pos:stop], m)
        if part is None:
            return None
        parts.append(part)
        pos = stop
    weights = np.concatenate([w for w, _ in parts]).astype(np.float64)
    width = max(max(o.shape[1] for _, o in parts), 1)
    orders = np.full((len(weights), width), -1, dtype=np.int16)
    row = 0
    for w, o in parts:
        orders[row : row + len(w), : o.shape[1]] = o
        row += len(w)
    return orders, weights, body_start + block.count(b"\n") + 1


def _blt_chunk(chunk: bytes, m: int):
    """Plain ballot lines (ending with a newline) to (weights, orders), or None."""
    if chunk.translate(None, b"0123456789 \n") or chunk[:1] in (b" ", b"\n"):
        return None
    if b"  " in chunk or b"\n " in chunk or b" \n" in chunk or b"\n\n" in chunk:
        return None
    seps = chunk.translate(None, b"0123456789")  # the separator after each number
    digits = np.frombuffer(chunk, dtype=np.uint8) - np.uint8(48)
    ends = np.flatnonzero(digits > 9)
    length = np.empty_like(ends)
    length[0] = ends[0]
    np.subtract(ends[1:], ends[:-1], out=length[1:])
    length[1:] -= 1
    if length.min() < 1 or length.max() >= _MAX_DIGITS:
        return None
    values = digits[ends - 1].astype(np.int64)
    longer = np.flatnonzero(length > 1)
    scale, k = 10, 2
    while len(longer):
        values[longer] += digits[ends[longer] - k].astype(np.int64) * scale
        longer = longer[length[longer] > k]
        scale, k = scale * 10, k + 1
    last = np.frombuffer(seps, dtype=np.uint8) == 10
    first = np.empty_like(last)
    first[0] = True
    first[1:] = last[:-1]
    if (first & last).any() or values[last].any():
        return None  # a line of one number, or one not ending in 0
    middle = ~(first | last)
    prefs = values[middle]
    if len(prefs) and (prefs.min() < 1 or prefs.max() > m):
        return None
    weights = values[first]
    n = len(weights)
    per_row = np.diff(np.flatnonzero(first), append=len(values)) - 2
    width = int(per_row.max()) if n else 0
    if width > m:
        return None  # a candidate named twice: the line reader says where
    orders = np.full((n, width), -1, dtype=np.int16)
    row = np.repeat(np.arange(n), per_row)
    orders[row, np.arange(len(prefs)) - (np.cumsum(per_row) - per_row)[row]] = prefs - 1
    return weights, orders


def _blt_ballots_lines(reader: _BltLines, start: int, m: int, nick_index: dict, source: str):
    """The line reader for ballots: (orders, weights, line index after the end marker), or an error naming the place."""
    rows, weights = [], []
    reader.pos = start
    cells = 0
    while True:
        if reader.at_end(reader.pos):
            raise BallotFileError(None, "the ballots must end with a line holding a single 0", source)
        reader.pos += 1
        number = reader.pos
        line = reader.line_text(number).split("#", 1)[0]
        toks = [(mt.group(), mt.start() + 1) for mt in re.finditer(r"[^ \t]+", line)]
        if not toks:
            continue
        if [t for t, _ in toks] == ["0"]:
            break
        if toks[0][0].startswith("(") and toks[0][0].endswith(")"):
            toks = toks[1:]  # an optional ballot id
            if not toks:
                raise BallotFileError(number, "a ballot id with no ballot after it", source, len(line))
        text, col = toks[0]
        if text.startswith("-") and _WEIGHT.fullmatch(text[1:]):
            raise BallotFileError(number, f"ballot weight must not be negative, got {text}", source, col)
        if not _WEIGHT.fullmatch(text) or len(text) > 40:
            raise BallotFileError(number, f"ballot weight {text!r} is not a number written in the digits 0-9 "
                                  "(with an optional decimal part)", source, col)
        if toks[-1][0] != "0" or len(toks) < 2:
            raise BallotFileError(number, "a ballot line must end with 0", source, toks[-1][1] + len(toks[-1][0]))
        prefs: list[int] = []
        for tok, col in toks[1:-1]:
            if "=" in tok:
                raise BallotFileError(number, f"equal preferences ({tok}) are not allowed in STV ballots", source, col)
            if tok in nick_index:
                pref = nick_index[tok]
            elif _NUMBER.fullmatch(tok) and len(tok) <= 6 and 1 <= int(tok) <= m:
                pref = int(tok) - 1
            else:
                raise BallotFileError(number, f"preference {tok!r} is not a candidate number 1..{m}"
                                      + (" or nickname" if nick_index else ""), source, col)
            if pref in prefs:
                raise BallotFileError(number, f"candidate {tok} appears twice", source, col)
            prefs.append(pref)
        cells += max(len(prefs), 1)
        if cells > MAX_CELLS:
            raise BallotFileError(number, _too_many(len(rows) + 1, m), source)
        rows.append(prefs)
        weights.append(float(text))
    width = max((len(r) for r in rows), default=1) or 1
    orders = np.full((len(rows), width), -1, dtype=np.int16)
    for i, r in enumerate(rows):
        orders[i, : len(r)] = r
    return orders, np.array(weights, dtype=np.float64), reader.pos


def read_blt(path) -> BltElection:
    path = Path(path)
    return parse_blt(path.read_bytes(), source=str(path))


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
