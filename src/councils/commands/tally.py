"""`councils tally FILE --method ... --seats N`: count a ballot file and show how the count went."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from councils.tally import MULTI_SEAT_METHODS, RANKED_METHODS, BallotFileError, ProfileError
from councils.tally.formats import PREFLIB_TYPES, parse_blt, parse_preflib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="councils tally", description="Count a PrefLib or BLT ballot file.")
    parser.add_argument("file", help="a .soc, .soi, .toc, .toi or .blt file")
    parser.add_argument("--method", required=True, choices=sorted(RANKED_METHODS), help="counting method")
    parser.add_argument("--seats", type=int, default=None, help="seats to fill (STV; default: the BLT file's, else 1)")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed for any lot (default: derived from the ballots' digest); printed, so a draw can be re-run")
    parser.add_argument("--format", choices=("blt",) + PREFLIB_TYPES, default=None, help="file type if the extension does not say")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar while reading")
    args = parser.parse_args(argv)

    path = Path(args.file)
    kind = args.format or path.suffix.lower().lstrip(".")
    if kind not in ("blt",) + PREFLIB_TYPES:
        return _fail(f"{path}: unknown file type {path.suffix!r}; use --format blt|soc|soi|toc|toi")
    if args.method not in MULTI_SEAT_METHODS and args.seats not in (None, 1):
        return _fail(f"{args.method} fills one seat; use stv-scottish or stv-meek for {args.seats}")
    try:
        data = _read(path, progress=not args.no_progress and not args.json)
        if kind == "blt":
            election = parse_blt(data, source=str(path))
            profile, file_seats, tie_order = election.profile, election.seats, election.tie_order
        else:
            profile, file_seats, tie_order = parse_preflib(data, kind, source=str(path)), None, None
        method = RANKED_METHODS[args.method]
        if args.method in MULTI_SEAT_METHODS:
            seats = args.seats or file_seats or 1
            result = method(profile, seats, seed=args.seed, tie_order=tie_order)
        else:
            result = method(profile, seed=args.seed, tie_order=tie_order) if args.method != "condorcet" else method(profile)
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror or exc}")
    except (BallotFileError, ProfileError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        # One line, through json's C encoder (dumps, not dump, and no indent): its Python encoder takes
        # seconds on the count sheet of thousands of options.
        sys.stdout.write(json.dumps(result.to_dict()) + "\n")
    else:
        sys.stdout.write(render(result))
    return 0


def _fail(message: str) -> int:
    print(f"councils tally: error: {message}", file=sys.stderr)
    return 2


def _read(path: Path, progress: bool) -> bytes:
    """The file's bytes: the readers decode (and name the line of any bytes that are not UTF-8)."""
    size = path.stat().st_size
    if not progress or size < 8 << 20:
        return path.read_bytes()
    from tqdm import tqdm

    buf = io.BytesIO()
    with path.open("rb") as fh, tqdm(total=size, unit="B", unit_scale=True, desc="reading", file=sys.stderr) as bar:
        for chunk in iter(lambda: fh.read(4 << 20), b""):
            buf.write(chunk)
            bar.update(len(chunk))
    return buf.getvalue()


_TABLE_CELLS = 20_000  # options x stages shown as a table on the terminal


def render(result) -> str:
    """The count as a plain table: one column per stage, one row per option."""
    out = [f"method: {result.method}   ballots: {_fmt(result.ballots)}   seats: {result.seats}"]
    if result.quota is not None:
        out.append(f"quota: {_fmt(result.quota)}")
    if result.rounds and len(result.options) * len(result.rounds) > _TABLE_CELLS:
        # Thousands of options over hundreds of stages make a table nobody can read: the last stage and
        # the notes; --json keeps every stage.
        last = result.rounds[-1]
        out.append(f"{len(result.rounds)} stages over {len(result.options)} options: too many to show as a table "
                   "(--json gives every stage); the last stage:")
        width = max(len(n) for n in last.tallies) + 2 if last.tallies else 2
        for name, votes in sorted(last.tallies.items(), key=lambda kv: -kv[1]):
            out.append(name.ljust(width) + f"{_fmt(votes):>14}")
        out.append("exhausted".ljust(width) + f"{_fmt(last.exhausted):>14}")
    elif result.rounds:
        names = result.options
        width = max(len(n) for n in names + ["non-transferable"]) + 2
        head = "".ljust(width) + "".join(f"{'stage ' + str(r.number):>14}" for r in result.rounds)
        out.append(head)
        for name in names:
            cells = []
            for r in result.rounds:
                mark = "*" if name in r.elected else ("x" if name in r.excluded else " ")
                cells.append(f"{_fmt(r.tallies[name]) + mark:>14}" if name in r.tallies else f"{'-':>14}")
            out.append(name.ljust(width) + "".join(cells))
        out.append("exhausted".ljust(width) + "".join(f"{_fmt(r.exhausted):>14}" for r in result.rounds))
        out.append("(* elected, x excluded)")
        for r in result.rounds:
            if r.note:
                out.append(f"stage {r.number}: {r.note}")
    elif result.totals:
        width = max(len(n) for n in result.options) + 2
        for name in result.options:
            out.append(name.ljust(width) + f"{_fmt(result.totals[name]):>14}")
    if result.ranking and result.method not in ("stv_scottish", "stv_meek"):
        out.append("ranking: " + " > ".join(" = ".join(g) for g in result.ranking))
    for lot in result.lots:
        out.append(f"tie: {lot}")
    if result.seed is not None:
        out.append(f"seed: {result.seed} (re-run the draw with --seed {result.seed})")
    for note in result.notes:
        out.append(note)
    out.append(("winners: " if len(result.winners) != 1 else "winner: ") + (", ".join(result.winners) or "none"))
    return "\n".join(out) + "\n"


def _fmt(x) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.5f}".rstrip("0")
