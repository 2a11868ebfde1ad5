"""Shared machinery of round-based counts: current preferences and the stage-history tie-break."""

from __future__ import annotations

import numpy as np

from councils.tally.profile import UNRANKED
from councils.tally.results import Lots

EXHAUSTED = -1


def current_choice(ranks: np.ndarray, continuing: np.ndarray) -> np.ndarray:
    """For each row, the continuing option ranked highest, or EXHAUSTED.

    ``ranks`` is strict here, so the masked argmin is unique.
    """
    masked = np.where(continuing, ranks, UNRANKED)
    choice = masked.argmin(axis=1)
    best = np.take_along_axis(masked, choice[:, None], axis=1)[:, 0]
    return np.where(best == UNRANKED, EXHAUSTED, choice)


def break_tie(tied: list[int], history: list[np.ndarray], *, lowest: bool, names, lots: Lots, why: str) -> tuple[int, str]:
    """Settle a tie the way the Scottish rules do (rules 49 and 51): look back to the most
    recent earlier stage at which the tied options had unequal votes and take the one
    lowest (or highest) there; if they were equal at every stage, draw a lot."""
    tied = list(tied)
    for stage in reversed(history):
        values = stage[tied]
        target = values.min() if lowest else values.max()
        narrowed = [c for c, v in zip(tied, values) if v == target]
        if len(narrowed) < len(tied):
            tied = narrowed
            if len(tied) == 1:
                return tied[0], "settled by earlier stages"
    pick = lots.choose([names[c] for c in tied], why)
    return tied[pick], "settled by lot"
