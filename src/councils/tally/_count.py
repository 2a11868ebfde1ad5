"""Shared machinery of round-based counts: current preferences and the stage-history tie-break."""

from __future__ import annotations

import numpy as np

from councils.tally.results import Lots

EXHAUSTED = -1


def current_choice(by_position: np.ndarray, continuing: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """For each ranking (or each of ``rows``), its first option still continuing, or EXHAUSTED.

    ``by_position`` holds strict rankings transposed: row k is every ranking's
    option at position k, -1 once the ranking has ended (``Profile.orders().T``).
    Rankings are walked one position at a time, and only those still looking
    are carried on to the next position, so the work shrinks as choices are found.
    """
    look = np.arange(by_position.shape[1]) if rows is None else np.asarray(rows)
    choice = np.full(len(look), EXHAUSTED, dtype=np.intp)
    where = np.arange(len(look))  # slots in ``choice`` of the rankings still looking
    stops = np.append(continuing, True)  # option -1 (the ranking has ended) stops the walk too
    for k in range(by_position.shape[0]):
        if not len(look):
            break
        opt = by_position[k, look]
        found = stops[opt]
        # EXHAUSTED is -1, the padding value, so an ended ranking records itself as exhausted.
        choice[where[found]] = opt[found]
        keep = ~found
        look, where = look[keep], where[keep]
    return choice


def lots_for(profile, seed, tie_order) -> Lots:
    """The lots of a count: from ``seed``, else from the ballots' digest; a tie order given settles ties first."""
    from councils.tally.seeds import ballots_seed

    return Lots(seed, derive=lambda: ballots_seed(profile), order=tie_order)


class StageHistory(list):
    """Every stage's votes (one array per stage), remembering at which stages each option's votes changed,
    so that a tie-break need only look at the stages where one of the tied options changed."""

    def __init__(self):
        super().__init__()
        self.changed_at: dict[int, list[int]] = {}

    def append(self, votes: np.ndarray) -> None:
        votes = np.array(votes, copy=True)
        if len(self):
            for i in np.flatnonzero(votes != self[-1]).tolist():
                self.changed_at.setdefault(i, []).append(len(self))
        super().append(votes)

    def stages_for(self, tied: np.ndarray) -> list[int]:
        """Stages, latest first, at which the tied options' votes can differ: the stage before each change."""
        stages = set()
        for i in tied.tolist():
            stages.update(self.changed_at.get(i, ()))
        return [k - 1 for k in sorted(stages, reverse=True)]


def break_tie(tied, history: list[np.ndarray], *, lowest: bool, names, lots: Lots, why: str) -> tuple[int, str]:
    """Settle a tie the way the Scottish rules do (rules 49 and 51): look back to the most
    recent earlier stage at which the tied options had unequal votes and take the one
    lowest (or highest) there; if they were equal at every stage, the tie-breaking order
    when one was given, else a lot."""
    tied = np.asarray(tied)
    # Stages where no tied option changed hold the same values as the stage after: skip them.
    stages = history.stages_for(tied) if isinstance(history, StageHistory) else range(len(history) - 1, -1, -1)
    for k in stages:
        values = history[k][tied]
        keep = values == (values.min() if lowest else values.max())
        if not keep.all():
            tied = tied[keep]
            if len(tied) == 1:
                return int(tied[0]), "settled by earlier stages"
    pick = lots.choose([names[c] for c in tied], why, least=lowest)
    return int(tied[pick]), "settled by the tie-breaking order" if lots.order is not None else "settled by lot"
