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
    def __init__(self, line: int | None, message: str, source: str = ""):
        self.line = line
        where = f"{source}:" if source else ""
        where += f"line {line}: " if line is not None else ""
        super().__init__(where + message)


# ------------------------------------------------------------------ PrefLib

_META = re.compile(r"^#\s*([A-Z][A-Z ]*[A-Z])\s*(?:(\d+)\s*)?:\s?(.*)$")


def parse_preflib(text: str, data_type: str | None = None, source: str = "") -> Profile:
    """A PrefLib file in the current (2022) format: '# KEY: value' metadata, then 'count: 1,{2,3},4'."""
    if data_type is not None and data_type not in PREFLIB_TYPES:
        raise BallotFileError(None, f"unknown PrefLib data type {data_type!r}; expected one of {PREFLIB_TYPES}", source)
    names: dict[int, str] = {}
    meta: dict[str, str] = {}
    rankings, counts = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = _META.match(line)
            if match:
                key, idx, value = match.groups()
                if key == "ALTERNATIVE NAME":
                    if idx is None:
                        raise BallotFileError(number, "ALTERNATIVE NAME needs a number", source)
                    names[int(idx)] = value.strip()
                else:
                    meta[key] = value.strip()
            continue
        count_text, sep, body = line.partition(":")
        if not sep:
            raise BallotFileError(number, f"expected 'count: ranking', got {raw!r}", source)
        try:
            count = int(count_text)
        except ValueError:
            raise BallotFileError(number, f"count {count_text.strip()!r} is not a whole number", source) from None
        if count < 0:
            raise BallotFileError(number, f"count must not be negative, got {count}", source)
        rankings.append((number, _preflib_ranking(body, number, source)))
        counts.append(count)
    declared = meta.get("DATA TYPE")
    kind = data_type or declared
    if kind is None:
        raise BallotFileError(None, "no '# DATA TYPE:' line and no data type given", source)
    if kind not in PREFLIB_TYPES:
        raise BallotFileError(None, f"unsupported PrefLib data type {kind!r}; expected one of {PREFLIB_TYPES}", source)
    try:
        m = int(meta["NUMBER ALTERNATIVES"])
    except KeyError:
        raise BallotFileError(None, "missing '# NUMBER ALTERNATIVES:' line", source) from None
    except ValueError:
        raise BallotFileError(None, "NUMBER ALTERNATIVES is not a whole number", source) from None
    if not 1 <= m <= MAX_ALTERNATIVES:
        raise BallotFileError(None, f"NUMBER ALTERNATIVES must be between 1 and {MAX_ALTERNATIVES}, got {m}", source)
    if len(rankings) * m > MAX_CELLS:
        raise BallotFileError(None, f"{len(rankings)} rankings of {m} alternatives are more than this reader holds "
                              f"({MAX_CELLS:,} places)", source)
    options = tuple(names.get(i, str(i)) for i in range(1, m + 1))
    if set(names) - set(range(1, m + 1)):
        raise BallotFileError(None, f"alternative numbers must run from 1 to {m}", source)
    ranks = np.full((len(rankings), m), -1, dtype=np.int64)
    for row, (number, groups) in enumerate(rankings):
        seen = 0
        for pos, group in enumerate(groups):
            if len(group) > 1 and kind in ("soc", "soi"):
                raise BallotFileError(number, f"ties are not allowed in a .{kind} file", source)
            for alt in group:
                if not 1 <= alt <= m:
                    raise BallotFileError(number, f"alternative {alt} is not between 1 and {m}", source)
                if ranks[row, alt - 1] != -1:
                    raise BallotFileError(number, f"alternative {alt} appears twice", source)
                ranks[row, alt - 1] = pos
                seen += 1
        if kind in ("soc", "toc") and seen != m:
            raise BallotFileError(number, f"a .{kind} ranking must rank all {m} alternatives, this one ranks {seen}", source)
    if sum(counts) > MAX_TOTAL:
        raise BallotFileError(None, f"the counts add up to {sum(counts)}, more than can be counted exactly ({MAX_TOTAL})", source)
    if "NUMBER VOTERS" in meta and meta["NUMBER VOTERS"].isdigit() and int(meta["NUMBER VOTERS"]) != sum(counts):
        raise BallotFileError(None, f"NUMBER VOTERS says {meta['NUMBER VOTERS']} but the counts add up to {sum(counts)}", source)
    return Profile.from_ranks(options, ranks, np.array(counts, dtype=np.float64))


def _preflib_ranking(body: str, number: int, source: str) -> list[list[int]]:
    groups: list[list[int]] = []
    text = body.replace(" ", "")
    i = 0
    while i < len(text):
        if text[i] == "{":
            end = text.find("}", i)
            if end < 0:
                raise BallotFileError(number, "unclosed '{'", source)
            items = text[i + 1 : end].split(",")
            i = end + 1
        else:
            end = text.find(",", i)
            end = len(text) if end < 0 else end
            items = [text[i:end]]
            i = end
        try:
            group = [int(x) for x in items]
        except ValueError:
            raise BallotFileError(number, f"alternatives must be numbers, got {body.strip()!r}", source) from None
        groups.append(group)
        if i < len(text):
            if text[i] != ",":
                raise BallotFileError(number, f"expected ',' after a group in {body.strip()!r}", source)
            i += 1
            if i == len(text):
                raise BallotFileError(number, "ranking ends with ','", source)
    return groups


def read_preflib(path, data_type: str | None = None) -> Profile:
    path = Path(path)
    kind = data_type or (path.suffix[1:] if path.suffix[1:] in PREFLIB_TYPES else None)
    return parse_preflib(path.read_text(encoding="utf-8"), kind, source=str(path))


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
