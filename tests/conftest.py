"""Factories and the controllable clock, shared by the whole suite."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

START = datetime(2030, 3, 2, 9, 0, tzinfo=timezone.utc)
_serial = count(1)


@pytest.fixture
def clock():
    """The application's clock, stopped at START; ``clock.advance(hours=1)`` moves it."""
    from councils import clock as app_clock

    with app_clock.frozen(START) as fake:
        yield fake


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    def make(username: str | None = None, password: str = "correct horse battery"):
        username = username or f"member{next(_serial)}"
        return get_user_model().objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def make_council(db, make_user):
    from councils.assemblies.services import create_council

    def make(founder=None, *, members: int = 0, kind: str = "workplace", name: str | None = None, **charter):
        founder = founder or make_user()
        # The suite's councils have explicit charters without floors, so tests can run votes of an hour; the default
        # charter's floors (two days' deliberation, a day's voting) are tested in tests/decisions/test_schedule_floors.py.
        charter = {"min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0), **charter}
        council = create_council(founder, name=name or f"Council {next(_serial)}", kind=kind, charter=charter)
        if kind != "federation":
            for _ in range(members):
                _join_directly(council, make_user())
        return council

    return make


def _join_directly(council, user):
    """Admit a member whatever the charter says (tests' set-up only: it goes through the record like any admission)."""
    from django.db import transaction

    from councils import clock as app_clock
    from councils.assemblies.services import _admit

    with transaction.atomic():
        _admit(council, user, app_clock.now(), actor=user, how="test set-up")
    return user


@pytest.fixture
def add_member(db):
    return _join_directly


@pytest.fixture
def members_of():
    def members(council):
        return [m.member for m in council.memberships.filter(left_at__isnull=True).select_related("member").order_by("pk")]

    return members


@pytest.fixture
def make_proposal(db, clock):
    from councils.decisions.services import create_proposal

    def make(council, author=None, *, title="A motion", body="", deliberation=timedelta(hours=1),
             voting=timedelta(hours=2), **kwargs):
        author = author or council.memberships.filter(left_at__isnull=True).first().member
        now = clock.now()
        return create_proposal(
            author, council, title=title, body=body, deliberation_ends=now + deliberation,
            voting_ends=now + deliberation + voting, **kwargs,
        )

    return make



# ----- federations: shared by the federation, economy and reliability tests -----

@pytest.fixture
def decide(clock):
    """Every member of ``council`` votes ``choice`` on ``proposal`` and the vote runs to its close."""
    from councils.decisions.services import cast_ballot, get_decision

    def run(proposal, choices, *, close=True):
        council = proposal.council
        voters = [m.member for m in council.memberships.filter(left_at__isnull=True).order_by("pk")]
        if not isinstance(choices, list):
            choices = [choices] * len(voters)
        if proposal.deliberation_ends > clock.now():
            clock.set(proposal.deliberation_ends)
        for voter, choice in zip(voters, choices):
            if choice is not None:
                cast_ballot(voter, proposal, choice)
        if not close:
            return None
        clock.set(max(clock.now(), proposal.voting_ends) + timedelta(seconds=1))
        return get_decision(proposal)

    return run


@pytest.fixture
def join_federation(clock, decide):
    from councils.decisions.services import create_proposal

    def join(council, federation):
        author = council.memberships.filter(left_at__isnull=True).first().member
        now = clock.now()
        proposal = create_proposal(author, council, kind="affiliation", federation=federation, title=f"Join {federation.name}",
                                   deliberation_ends=now, voting_ends=now + timedelta(hours=1))
        decision = decide(proposal, "yes")
        assert decision.outcome == "adopted"
        return decision

    return join


@pytest.fixture
def elect_delegates(clock, decide):
    from councils.decisions.services import create_proposal

    def elect(council, federation, candidates, ranking=None, seats=1):
        author = council.memberships.filter(left_at__isnull=True).first().member
        now = clock.now()
        election = create_proposal(author, council, kind="delegate_election", federation=federation, seats=seats,
                                   title=f"Delegates to {federation.name}", options=[{"member": c.username} for c in candidates],
                                   deliberation_ends=now, voting_ends=now + timedelta(hours=1))
        ids = {o.member_id: o.pk for o in election.options.all()}
        order = ranking or candidates
        decision = decide(election, {"ranking": [ids[c.pk] for c in order]})
        return election, decision

    return elect


@pytest.fixture
def federation_of(make_council, make_user, join_federation, elect_delegates, members_of):
    """A federation whose member councils (sizes given) each joined by vote and elected their first member as delegate."""

    def build(sizes, *, charter=None, federation=None, **fed_kwargs):
        from councils.assemblies.services import create_council

        federation = federation or create_council(make_user(), name=fed_kwargs.pop("name", "Valley Federation"), kind="federation",
                                                  federation_charter=charter or {"competences": ["bread", "transport"]})
        councils = []
        for size in sizes:
            council = make_council(members=size - 1, **fed_kwargs)
            join_federation(council, federation)
            elect_delegates(council, federation, [members_of(council)[0]])
            councils.append(council)
        return federation, councils

    return build


@pytest.fixture
def drop_last_entry(db):
    """What an operator with the database could do to a chain: delete its last entry, and the tree nodes and
    checkpoints that held it, so that the server can sign another history from there."""
    from django.db import transaction

    from councils.record.models import Chain, Checkpoint, RecordEntry, TreeNode

    def drop(council):
        chain = council.record_chain
        with transaction.atomic():
            last = RecordEntry.objects.filter(chain=chain).order_by("-seq").first()
            size = last.seq  # leaves 0 .. seq-1 stay
            last.delete()
            for node in TreeNode.objects.filter(chain=chain):
                if (node.index + 1) * 2 ** node.level > size:
                    node.delete()  # level and index are read from the node's key
            Chain.objects.filter(name=chain).update(tree_size=size)
            Checkpoint.objects.filter(chain=chain, size__gt=size).delete()

    return drop


# Every test user has a key the test suite holds (registered through the services on the user's first act), so tests
# that are not about signing act as before; tests of refusals use ``no_keyring`` and sign, or not, themselves.
def _install_test_keyring():
    from councils.accounts.signing import DerivedKeyring, install_keyring

    install_keyring(DerivedKeyring("councils-test-suite"))


_install_test_keyring()


@pytest.fixture
def no_keyring():
    """No key held by the server: every act needs its member's own signature."""
    from councils.accounts.signing import install_keyring

    previous = install_keyring(None)
    try:
        yield
    finally:
        install_keyring(previous)
