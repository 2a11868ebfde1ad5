"""Result objects: everything a page needs to explain a count, JSON-ready through ``to_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np


@dataclass
class Round:
    """One stage of a round-based count, as the count sheet shows it."""

    number: int
    tallies: dict[str, float]  # votes of every option still in the count (and the elected, at quota)
    elected: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    transferred_from: str | None = None
    transfers: dict[str, float] = field(default_factory=dict)  # recipient -> votes received
    non_transferable: float = 0.0  # votes that left the count in this stage
    exhausted: float = 0.0  # running total of votes no longer with any option
    note: str = ""  # why this stage happened, and how any tie was broken

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "tallies": {k: _num(v) for k, v in self.tallies.items()},
            "elected": list(self.elected),
            "excluded": list(self.excluded),
            "transferred_from": self.transferred_from,
            "transfers": {k: _num(v) for k, v in self.transfers.items()},
            "non_transferable": _num(self.non_transferable),
            "exhausted": _num(self.exhausted),
            "note": self.note,
        }


@dataclass
class TallyResult:
    """The outcome of one count.

    ``winners`` are in order of election (or the single winner); ``ranking`` is
    the full order where the method gives one, as groups of tied options;
    ``lots`` lists every tie the rule settled by lot, drawn from ``seed``.
    """

    method: str
    options: list[str]
    winners: list[str]
    seats: int = 1
    ranking: list[list[str]] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    rounds: list[Round] = field(default_factory=list)
    quota: float | None = None
    pairwise: list[list[float]] | None = None
    ballots: float = 0.0
    seed: int | None = None
    lots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def winner(self) -> str | None:
        return self.winners[0] if self.winners else None

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "options": list(self.options),
            "seats": self.seats,
            "winners": list(self.winners),
            "ranking": [list(g) for g in self.ranking],
            "totals": {k: _num(v) for k, v in self.totals.items()},
            "rounds": [r.to_dict() for r in self.rounds],
            "quota": _num(self.quota) if self.quota is not None else None,
            "pairwise": [[_num(x) for x in row] for row in self.pairwise] if self.pairwise is not None else None,
            "ballots": _num(self.ballots),
            "seed": self.seed,
            "lots": list(self.lots),
            "notes": list(self.notes),
            "extra": _plain(self.extra),
        }


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.integer, np.floating, float)):
        return _num(value)
    return value


class Lots:
    """Draws lots from a recorded seed, so that anyone can re-run the count and see the same draw.

    There is no lot without a known seed: either the caller gives one, or ``derive`` makes
    it from the ballots themselves (``councils.tally.seeds``), which nobody can know before
    the vote closes. Deriving costs a digest of the ballots, so it is done only when a lot
    is actually drawn. A tie-breaking ``order`` (names, most favoured first), where a file
    or a rule gives one, settles ties instead of a lot.
    """

    def __init__(self, seed: int | None, derive: Callable[[], int] | None = None,
                 order: Sequence[str] | None = None):
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValueError(f"a seed must be a whole number, 0 or more, got {seed!r}")
            seed = int(seed)
        elif derive is None:
            raise ValueError("a lot needs a seed: give one, or a way to derive it from the ballots")
        self._seed = seed
        self._derive = derive
        self._rng = None
        self.order = {name: i for i, name in enumerate(order)} if order is not None else None
        self.log: list[str] = []

    @property
    def seed(self) -> int | None:
        """The seed lots are drawn from: given, or derived once a lot was drawn (None if none was needed)."""
        return self._seed

    def _generator(self) -> np.random.Generator:
        if self._rng is None:
            if self._seed is None:
                self._seed = int(self._derive())
            self._rng = np.random.default_rng(self._seed)
        return self._rng

    def choose(self, names: list[str], why: str, *, least: bool = False) -> int:
        """Index into ``names`` of the one the lot picks (or, with a tie-breaking order, the most favoured
        of them, or the least favoured when ``least``: the one a tie for exclusion puts out)."""
        if self.order is not None and all(n in self.order for n in names):
            ranked = sorted(range(len(names)), key=lambda i: self.order[names[i]])
            pick = ranked[-1] if least else ranked[0]
            self.log.append(f"{why}: the tie-breaking order among {', '.join(names)} picked {names[pick]}")
            return pick
        pick = int(self._generator().integers(len(names)))
        self.log.append(f"{why}: lot among {', '.join(names)} picked {names[pick]}")
        return pick

    def permutation(self, names: Sequence[str]) -> tuple[np.ndarray, str]:
        """A tie-breaking ranking of all options (indices, most favoured first) and how it was made."""
        if self.order is not None and all(n in self.order for n in names):
            return np.array(sorted(range(len(names)), key=lambda i: self.order[names[i]]), dtype=int), "given"
        return self._generator().permutation(len(names)), "drawn by lot"
