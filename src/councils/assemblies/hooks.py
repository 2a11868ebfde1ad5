"""Where the apps above assemblies plug into a council's life, so that assemblies never imports them.

A base council knows nothing of votes, federations or the economy; those apps register here, from their
``AppConfig.ready()``, what a council's own acts must set off in them:

- ``settlers``: bring a council's time-bound state up to date (votes closed, congresses due) before it is read or
  changed, whoever reads first (decisions registers the settling of closed votes);
- ``member_leaving``: a signal sent inside the transaction of a member's leaving (by their own act or by a removal
  decision), before the membership ends (decisions withdraws their open ballots, federation ends their delegations);
- the vote that admits an applicant where the charter admits by vote (one owner: decisions);
- what founding a council of a given kind needs besides its charter (federation: the federation's charter);
- what a council's page and its API answer show of the apps above (proposals, officers, federations);
- ``council_moved``: a signal sent when a council's decision to move to another server is adopted;
- which of their models a council is made of, for its free-exit file (``assemblies.exit.register_part``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from django.dispatch import Signal

# kwargs: member, council, at, decision (the removal decision, or None when the member leaves by their own act)
member_leaving = Signal()
# kwargs: council, destination (the new server's address), at, decision: sent inside the transaction of a council's
# adopted decision to move to another server, before its chain's final entry (federation tells its federations).
council_moved = Signal()

_settlers: list[Callable[[Any, Any], Any]] = []
_admission_vote: list[Callable] = []
_page_parts: list[Callable[[Any, Any, Any], dict]] = []
_api_facts: list[Callable[[Any], dict]] = []


@dataclass(frozen=True)
class Founding:
    """What founding a council of ``kind`` needs besides its charter: ``clean`` checks the extra terms before anything
    is written, ``found`` writes them inside the founding's transaction."""

    kind: str
    clean: Callable[[dict | None], dict]
    found: Callable[[Any, dict | None, Any, Any], Any]


_foundings: dict[str, Founding] = {}


def _add(registry: list, item) -> None:
    if item not in registry:
        registry.append(item)


def register_settler(settle: Callable[[Any, Any], Any]) -> None:
    _add(_settlers, settle)


def settle(council, now) -> None:
    for settler in _settlers:
        settler(council, now)


def register_admission_vote(open_vote: Callable) -> None:
    if _admission_vote and _admission_vote[0] is not open_vote:
        raise RuntimeError("the admission vote is already registered")
    _add(_admission_vote, open_vote)


def open_admission_vote(applicant, council, now, signed=None):
    if not _admission_vote:
        raise RuntimeError("no app registered the admission vote (is councils.decisions installed?)")
    return _admission_vote[0](applicant, council, now, signed=signed)


def register_founding(founding: Founding) -> None:
    _foundings[founding.kind] = founding


def founding_of(kind: str) -> Founding | None:
    return _foundings.get(kind)


def register_page_part(part: Callable[[Any, Any, Any], dict]) -> None:
    """``part(council, user, now)`` returns what the council's page shows of the registering app."""
    _add(_page_parts, part)


def page_parts(council, user, now) -> dict:
    context: dict = {}
    for part in _page_parts:
        context.update(part(council, user, now))
    return context


def register_api_facts(facts: Callable[[Any], dict]) -> None:
    """``facts(council)`` returns fields of the council's API answer that the registering app owns."""
    _add(_api_facts, facts)


def api_facts(council) -> dict:
    found: dict = {}
    for facts in _api_facts:
        found.update(facts(council))
    return found
