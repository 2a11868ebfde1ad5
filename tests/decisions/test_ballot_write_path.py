"""Issue 18: the ballot's write path runs statements written once (adapters.sql) instead of ORM queries; it must
write exactly what the ORM path wrote: the ballot row, one record entry per change (none for a repeat), the chain's
tree grown by one leaf per entry, and nothing `councils verify` could tell apart."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from councils.decisions.models import Ballot
from councils.decisions.services import cast_ballot, proposal_with_council
from councils.record import log, tree
from councils.record.models import Chain, RecordEntry
from councils.record.services import plain, verify_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def ranked(clock, make_council, make_proposal):
    council = make_council(members=3)
    proposal = make_proposal(council, decision_method="schulze", options=["North", "South", "East"])
    clock.set(proposal.deliberation_ends)
    return council, proposal


def entries_of(ballot):
    return list(RecordEntry.objects.filter(subject=ballot.subject).order_by("seq"))


def test_a_ballot_cast_changed_and_repeated_is_stored_and_recorded_as_the_orm_wrote_it(ranked, members_of):
    council, proposal = ranked
    voter = members_of(council)[1]
    north, south, east = proposal.options.order_by("position").values_list("pk", flat=True)

    cast = cast_ballot(voter, proposal, {"ranking": [south, [north, east]]})
    stored = Ballot.objects.get(pk=cast.pk)
    assert (stored.proposal_id, stored.voter_id, stored.choice, stored.content, stored.cast_at, stored.changed_at) == (
        proposal.pk, voter.pk, "", [[south], sorted([north, east])],
        cast.cast_at, cast.changed_at)
    assert [e.kind for e in entries_of(stored)] == ["ballot.cast"]
    assert json.loads(entries_of(stored)[0].data_json)["state"] == plain(stored.record_state())

    changed = cast_ballot(voter, proposal, {"ranking": [east, north, south]})
    stored = Ballot.objects.get(pk=cast.pk)
    assert changed.pk == stored.pk and stored.content == [[east], [north], [south]] and stored.cast_at == cast.cast_at
    assert [e.kind for e in entries_of(stored)] == ["ballot.cast", "ballot.changed"]
    assert json.loads(entries_of(stored)[-1].data_json)["state"] == plain(stored.record_state())

    before = RecordEntry.objects.count()
    cast_ballot(voter, proposal, {"ranking": [east, north, south]})  # the same ballot again: nothing to record
    assert RecordEntry.objects.count() == before

    # The chain's tree holds every entry as a leaf, and its root is the one recomputed from the leaves.
    chain = council.record_chain
    rows = list(RecordEntry.objects.filter(chain=chain).order_by("seq"))
    assert Chain.objects.get(name=chain).tree_size == len(rows)
    assert log.root(chain, len(rows)) == tree.root_of_leaf_hashes([tree.leaf_hash(log.leaf_bytes(r)) for r in rows])
    assert verify_all().ok


def test_the_ballots_answer_names_the_voter_without_another_query(ranked, members_of):
    council, proposal = ranked
    voter = members_of(council)[2]
    proposal = proposal_with_council(proposal.pk)
    ballot = cast_ballot(voter, proposal, {"ranking": list(proposal.options.values_list("pk", flat=True))})
    with CaptureQueriesContext(connection) as queries:
        assert ballot.voter.username == voter.username and ballot.proposal.council.pk == council.pk
    assert len(queries.captured_queries) == 0


def test_proposal_with_council_reads_what_the_orm_reads(ranked):
    council, proposal = ranked
    read = proposal_with_council(proposal.pk)
    assert read == proposal and read.council == council
    assert {f.attname: getattr(read, f.attname) for f in proposal._meta.concrete_fields} == {
        f.attname: getattr(proposal.__class__.objects.get(pk=proposal.pk), f.attname) for f in proposal._meta.concrete_fields}
    assert proposal_with_council(proposal.pk + 1000) is None
