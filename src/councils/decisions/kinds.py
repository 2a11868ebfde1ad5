"""The registry of proposal kinds: what each kind of vote is, filled by the apps that own them.

``decisions`` runs every vote (proposals, ballots, counting, the decision) and knows no kind but its own
(motions, elections of officers, amendments, appeals, admission and removal of members). Every other kind is a
plug-in registered from its owner's ``AppConfig.ready()``: federation registers affiliation, delegate elections,
mandates, recalls, demands and referendums; the economy its catalogue, needs and planning votes. A kind says how
to validate what its author sent, which method it is decided by, who votes, and what adopting it does.

A kind may be registered twice under one name when two owners answer for different councils: "admission" admits a
person to a base council (decisions) and a council to a federation (federation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

ANY, BASE, FEDERATION = "any", "base", "federation"


@dataclass(frozen=True)
class Draft:
    """What an author sent for a new proposal, as the kind's ``clean`` sees it. ``clean`` may refuse it (raise
    ``Invalid``) and returns the extra model fields to store (e.g. ``{"federation": ...}``)."""

    council: Any
    author: Any
    seats: int
    federation: Any = None
    petition: Any = None
    subject_member: Any = None
    office: str = ""
    candidates: list = field(default_factory=list)  # cleaned options, for elections (each with its ``member``)
    payload: Any = None  # what a kind's vote is about besides its text (a charter change: the fields and new values)
    # The vote's own deadlines, checked against the charter (a postponement must close before the vote it moves opens).
    deliberation_ends: datetime | None = None
    voting_ends: datetime | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    # Which councils this answer is for: any, base councils (of persons) or federations (of councils).
    councils: str = ANY
    # A member may put it before their own council; the rest are opened by the rules or by other apps' services.
    proposable: bool = False
    # Validate a member's draft (proposable kinds); returns extra fields for the proposal.
    clean: Callable[[Draft], dict] | None = None
    # A federation's decision, put to its member councils' mandates (its free-mandate delegates vote on it directly).
    mandated: bool = False
    # The fields of the proposal form and API this kind takes besides the common ones ("federation", "petition",
    # "subject_member", "office"): the others are refused, so nothing is silently ignored.
    takes: frozenset = frozenset()
    # "yes_no": the charter's yes/no method (or majority); "election": instant-runoff for one seat, STV for several;
    # "charter_change": the charter's own method for changing the charter (a supermajority by default);
    # None: the author chooses among the methods the charter allows.
    method: str | None = None
    # Seats fixed by the kind (delegate elections: the federation's charter); None: the author says.
    seats: Callable[[Draft], int | None] | None = None
    # Who may stand, for elections: ``eligible(user, council, at)``; None: the council's members.
    eligible: Callable[[Any, Any, datetime | None], bool] | None = None
    # Who may vote, as a set of user ids at an instant; None: the council's members at that instant.
    electorate: Callable[[Any, datetime], set[int]] | None = None
    # What adopting (or, with ``apply_always``, any outcome of) the vote does, inside the decision's transaction.
    apply: Callable[[Any], Any] | None = None
    apply_always: bool = False
    # What overruling an adopted decision of this kind by referendum undoes, inside the referendum's transaction:
    # ``undo(decision, referendum_decision)`` returns a sentence saying what was undone (shown and recorded).
    # None: the kind defines no undoing (the decision is marked overruled, and the docs say why nothing more happens).
    undo: Callable[[Any, Any], str] | None = None
    # The deadlines follow from the kind's rules: no author or officer moves them.
    fixed_schedule: bool = False
    # Opened by a procedure that needs its result: the author cannot withdraw it.
    withdrawable: bool = True


@dataclass(frozen=True)
class Counting:
    """How the votes of a council whose members are councils are counted (one owner: federation, by mandates).

    ``prepare`` settles what must be decided before the count (the mandates below), ``rows`` are the ballots as the
    digest covers them, ``count`` returns the decision's fields, with ``members``."""

    prepare: Callable[[Any], None]
    rows: Callable[[Any], list[dict]]
    count: Callable[[Any, datetime], dict]


_KINDS: dict[tuple[str, str], Kind] = {}
_COUNTING: list[Counting] = []


def register(kind: Kind) -> None:
    key = (kind.name, kind.councils)
    if key in _KINDS and _KINDS[key] != kind:
        raise RuntimeError(f"proposal kind {kind.name!r} is already registered for {kind.councils} councils")
    _KINDS[key] = kind


def get(name: str, council) -> Kind | None:
    scope = FEDERATION if council.is_federation else BASE
    return _KINDS.get((name, scope)) or _KINDS.get((name, ANY))


def kind_of(proposal) -> Kind:
    kind = get(proposal.kind, proposal.council)
    if kind is None:
        raise LookupError(f"no app registered the proposal kind {proposal.kind!r}")
    return kind


def proposable(council) -> list[Kind]:
    """The kinds a member may put before ``council``, in the order they were registered."""
    scope = FEDERATION if council.is_federation else BASE
    return [k for k in _KINDS.values() if k.proposable and k.councils in (scope, ANY)]


def proposable_names() -> list[str]:
    """The kinds a member may put before a base council, in the order they were registered."""
    return [k.name for k in _KINDS.values() if k.proposable and k.councils in (BASE, ANY)]


def names(**where) -> list[str]:
    """Names of the registered kinds whose attributes equal ``where`` (e.g. ``names(fixed_schedule=True)``)."""
    return sorted({k.name for k in _KINDS.values() if all(getattr(k, a) == v for a, v in where.items())})


def choices() -> list[tuple[str, str]]:
    """(name, label) of every kind, for the proposal model's field."""
    seen: dict[str, str] = {}
    for kind in _KINDS.values():
        seen.setdefault(kind.name, kind.label)
    return sorted(seen.items())


def set_counting(counting: Counting) -> None:
    _COUNTING[:] = [counting]


def counting() -> Counting | None:
    return _COUNTING[0] if _COUNTING else None


# ----- what the apps above show on decisions' pages and forms ------------------------------------------------------

_PAGE_PARTS: list[Callable[[Any, Any, datetime], dict]] = []
_FIELD_CHOICES: dict[str, Callable[[Any], list[tuple[Any, str]]]] = {}


def register_page_part(part: Callable[[Any, Any, datetime], dict]) -> None:
    """``part(proposal, user, now)`` returns what a proposal's page shows of the registering app."""
    if part not in _PAGE_PARTS:
        _PAGE_PARTS.append(part)


def page_parts(proposal, user, now) -> dict:
    context: dict = {}
    for part in _PAGE_PARTS:
        context.update(part(proposal, user, now))
    return context


def register_field_choices(field_name: str, choices_for: Callable[[Any], list[tuple[Any, str]]]) -> None:
    """The choices of a proposal form's field that another app owns (``petition``: the federation's open petitions)."""
    _FIELD_CHOICES[field_name] = choices_for


def field_choices(field_name: str, council) -> list[tuple[Any, str]]:
    choices_for = _FIELD_CHOICES.get(field_name)
    return choices_for(council) if choices_for is not None else []
