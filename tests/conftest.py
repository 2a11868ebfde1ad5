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
        council = create_council(founder, name=name or f"Council {next(_serial)}", kind=kind, charter=charter or None)
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

