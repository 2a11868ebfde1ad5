"""Yes / no / abstain questions: simple majority, supermajority, quorum, consensus with blocks.

Abstentions count towards the quorum (the member took part) but not towards the
majority of votes cast, as in most councils' standing orders: an abstention is a
refusal to weigh in, not a half "no".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

SIMPLE_MAJORITY = Fraction(1, 2)

BASES = ("cast", "members")


@dataclass(frozen=True)
class MajorityResult:
    """Everything needed to explain a yes/no decision."""

    method: str  # "majority", "supermajority" or "consensus"
    yes: float
    no: float
    abstain: float
    blocks: float
    members: int
    threshold: Fraction
    base: str  # the share is of votes cast (yes + no) or of all members
    quorum: Fraction
    turnout: float  # (yes + no + abstain + blocks) / members
    quorum_met: bool
    yes_share: float  # yes over the base
    adopted: bool
    outcome: str  # "adopted", "rejected" or "no_quorum"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["threshold"] = str(self.threshold)
        data["quorum"] = str(self.quorum)
        return data


def _fraction(value, name: str) -> Fraction:
    try:
        frac = Fraction(value).limit_denominator(10_000) if isinstance(value, float) else Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}") from exc
    if not 0 <= frac <= 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return frac


def tally_majority(
    yes: float,
    no: float,
    abstain: float = 0,
    *,
    members: int,
    threshold=SIMPLE_MAJORITY,
    base: str = "cast",
    quorum=0,
) -> MajorityResult:
    """Decide a yes/no question.

    ``threshold`` 1/2 means a simple majority: strictly more yes than half of the
    base. Any other threshold (a supermajority such as 2/3) is met when the yes
    share reaches it. ``base`` is ``"cast"`` (yes + no) or ``"members"`` (every
    member, so silence counts against). ``quorum`` is the share of members who
    must take part, abstentions included.
    """
    for name, value in (("yes", yes), ("no", no), ("abstain", abstain)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value!r}")
    if members < 0:
        raise ValueError(f"members must not be negative, got {members!r}")
    if base not in BASES:
        raise ValueError(f"base must be one of {BASES}, got {base!r}")
    threshold = _fraction(threshold, "threshold")
    quorum = _fraction(quorum, "quorum")
    return _decide(
        "majority" if threshold == SIMPLE_MAJORITY else "supermajority",
        yes, no, abstain, 0, members, threshold, base, quorum,
    )


def tally_consensus(
    agree: float,
    stand_aside: float,
    blocks: float,
    *,
    members: int,
    quorum=0,
    fallback_threshold=None,
    fallback_round: bool = False,
) -> MajorityResult:
    """Consensus: adopted only if nobody blocks.

    A charter may allow a fallback: on a second round (``fallback_round``), after
    consensus failed, the proposal passes with ``fallback_threshold`` of votes
    cast, blocks counting as "no".
    """
    for name, value in (("agree", agree), ("stand_aside", stand_aside), ("blocks", blocks)):
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value!r}")
    quorum = _fraction(quorum, "quorum")
    if fallback_round:
        if fallback_threshold is None:
            raise ValueError("this charter allows no fallback vote after a failed consensus")
        threshold = _fraction(fallback_threshold, "fallback_threshold")
        result = _decide("supermajority", agree, blocks, stand_aside, 0, members, threshold, "cast", quorum)
        return MajorityResult(**{**result.__dict__, "blocks": blocks, "no": 0.0 + blocks})
    result = _decide("consensus", agree, 0, stand_aside, blocks, members, Fraction(1), "cast", quorum)
    return result


def _decide(method, yes, no, abstain, blocks, members, threshold, base, quorum) -> MajorityResult:
    taking_part = yes + no + abstain + blocks
    turnout = taking_part / members if members else 0.0
    # Compare exactly: 1/3 of 30 members is 10 ballots, not 9.999999.
    quorum_met = quorum == 0 or (members > 0 and _exact(taking_part) >= quorum * members)
    if method == "consensus":
        denominator = yes + blocks
        share = yes / denominator if denominator else 0.0
        passed = blocks == 0 and yes > 0
    else:
        denominator = (yes + no) if base == "cast" else members
        share = yes / denominator if denominator else 0.0
        if denominator == 0:
            passed = False
        elif threshold == SIMPLE_MAJORITY:
            passed = _exact(yes) > threshold * _exact(denominator)
        else:
            passed = _exact(yes) >= threshold * _exact(denominator)
    if not quorum_met:
        outcome, adopted = "no_quorum", False
    else:
        outcome, adopted = ("adopted", True) if passed else ("rejected", False)
    return MajorityResult(
        method=method, yes=float(yes), no=float(no), abstain=float(abstain), blocks=float(blocks),
        members=int(members), threshold=threshold, base=base, quorum=quorum,
        turnout=float(turnout), quorum_met=bool(quorum_met), yes_share=float(share),
        adopted=adopted, outcome=outcome,
    )


def _exact(value) -> Fraction:
    return Fraction(value).limit_denominator(10**9)
