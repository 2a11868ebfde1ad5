"""Issue 13, item 2: any postponement beyond the charter's limit needs the council's vote.

A postponement is a proposal (kind ``postponement``) naming a proposal in deliberation and its new deadlines; the
members decide it yes/no, and adopting it moves the deadlines (beyond the limit), tells every member, and records
it so that ``councils verify`` still finds nothing wrong."""

from datetime import timedelta, timezone as tz, datetime

import pytest

from councils.accounts.models import NotificationKind
from councils.assemblies.services import create_council, join_council
from councils.decisions.models import Outcome, ProposalKind
from councils.decisions.notifications import due_notices
from councils.decisions.services import cast_ballot, create_proposal, reschedule, settle_due, withdraw_proposal
from councils.errors import Invalid, NotAllowed
from councils.record.models import RecordEntry
from councils.record.services import verify_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(clock, make_user):
    """A council with the default charter: postponements by the author or an officer up to 30 days in all."""
    founder = make_user()
    founder.email = f"{founder.username}@example.org"
    founder.save()
    council = create_council(founder, name="Bakery", kind="workplace")
    for _ in range(2):
        member = make_user()
        member.email = f"{member.username}@example.org"
        member.save()
        join_council(member, council)
    return council


def members(council):
    return [m.member for m in council.memberships.filter(left_at__isnull=True).select_related("member").order_by("pk")]


@pytest.fixture
def proposal(clock, council):
    """Proposal 89 of the tester's report, its deliberation lengthened by its author within the limit (20 days), so
    that the council has time to decide a longer postponement."""
    proposal = create_proposal(members(council)[0], council, title="Buy a van")
    return reschedule(proposal.author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=20),
                      voting_ends=proposal.voting_ends + timedelta(days=20))


def postpone(council, proposal, days: int, **kwargs):
    return create_proposal(members(council)[1], council, title=f"Postpone “{proposal.title}” by {days} days",
                           kind=ProposalKind.POSTPONEMENT, payload={
                               "proposal": proposal.pk,
                               "deliberation_ends": proposal.deliberation_ends + timedelta(days=days),
                               "voting_ends": proposal.voting_ends + timedelta(days=days)}, **kwargs)


def test_the_refusal_beyond_the_limit_points_to_a_postponement(clock, proposal):
    with pytest.raises(NotAllowed, match="Postponement of a proposal") as refused:
        reschedule(proposal.author, proposal, deliberation_ends=proposal.deliberation_ends + timedelta(days=200),
                   voting_ends=proposal.voting_ends + timedelta(days=200))
    assert "30 days" in str(refused.value)


def test_an_adopted_postponement_moves_the_proposal_beyond_the_limit_and_tells_every_member(clock, council, proposal):
    before = (proposal.deliberation_ends, proposal.voting_ends)
    vote = postpone(council, proposal, 200)
    assert vote.decision_method == "majority" and vote.payload["proposal"] == proposal.pk
    clock.set(vote.deliberation_ends)
    for member in members(council):
        cast_ballot(member, vote, "yes")
    clock.set(vote.voting_ends)
    [decision] = settle_due(council)
    assert decision.outcome == Outcome.ADOPTED
    proposal.refresh_from_db()
    assert (proposal.deliberation_ends, proposal.voting_ends) == (before[0] + timedelta(days=200), before[1] + timedelta(days=200))
    entry = RecordEntry.objects.filter(subject=proposal.subject, kind="proposal.rescheduled").order_by("-seq").first()
    assert entry.data["decision"] == decision.pk
    moved = [n for n in due_notices(clock.now()) if n.kind == NotificationKind.MOVED and n.proposal.pk == proposal.pk]
    assert len(moved) == 3
    assert verify_all().ok, [str(p) for p in verify_all().problems]


def test_a_rejected_postponement_moves_nothing(clock, council, proposal):
    before = (proposal.deliberation_ends, proposal.voting_ends)
    vote = postpone(council, proposal, 200)
    clock.set(vote.deliberation_ends)
    for member in members(council):
        cast_ballot(member, vote, "no")
    clock.set(vote.voting_ends)
    [decision] = settle_due(council)
    assert decision.outcome == Outcome.REJECTED
    proposal.refresh_from_db()
    assert (proposal.deliberation_ends, proposal.voting_ends) == before
    assert verify_all().ok


def test_a_postponement_that_finds_the_proposal_withdrawn_lapses_and_says_why(clock, council, proposal):
    vote = postpone(council, proposal, 100)
    clock.set(vote.deliberation_ends)
    for member in members(council):
        cast_ballot(member, vote, "yes")
    withdraw_proposal(proposal.author, proposal)
    clock.set(vote.voting_ends)
    settle_due(council)
    lapsed = RecordEntry.objects.get(kind="postponement.lapsed")
    assert lapsed.data["proposal"] == proposal.pk and "no longer in deliberation" in lapsed.data["reason"]
    assert verify_all().ok


def test_the_vote_must_close_before_voting_on_the_proposal_opens(clock, council):
    fresh = create_proposal(members(council)[0], council, title="Paint the door")
    # The charter's floors (two days' deliberation, a day's voting) close the council's vote after the fresh
    # proposal's vote opens: refused, naming the way (postpone it within the limit first).
    with pytest.raises(Invalid, match="within the charter's limit") as refused:
        postpone(council, fresh, 100)
    assert refused.value.field == "voting_ends"


@pytest.mark.parametrize("change, words", [
    ({"deliberation_ends": -timedelta(hours=1), "voting_ends": timedelta(days=10)}, "never shorten"),
    ({"deliberation_ends": timedelta(days=10), "voting_ends": timedelta(days=9)}, "never shorten"),
    ({"deliberation_ends": timedelta(days=10), "voting_ends": timedelta(days=110)}, "at most 90 days of voting"),
])
def test_a_postponement_only_lengthens(clock, council, proposal, change, words):
    with pytest.raises(Invalid, match=words):
        create_proposal(members(council)[1], council, title="Postpone", kind=ProposalKind.POSTPONEMENT, payload={
            "proposal": proposal.pk, "deliberation_ends": proposal.deliberation_ends + change["deliberation_ends"],
            "voting_ends": proposal.voting_ends + change["voting_ends"]})


def test_a_postponement_names_a_proposal_of_its_council_in_deliberation(clock, council, proposal, make_user):
    other = create_council(make_user(), name="Elsewhere", kind="workplace")
    theirs = create_proposal(other.memberships.first().member, other, title="Theirs")
    for target, words in ((theirs.pk, "has no proposal"), ("89", "has no proposal"), (None, "names the proposal")):
        with pytest.raises(Invalid, match=words) as refused:
            create_proposal(members(council)[1], council, title="Postpone", kind=ProposalKind.POSTPONEMENT,
                            payload={"proposal": target, "deliberation_ends": proposal.deliberation_ends,
                                     "voting_ends": proposal.voting_ends})
        assert refused.value.field == "postponement"
    clock.set(proposal.deliberation_ends)
    with pytest.raises(Invalid, match="only a proposal in deliberation"):
        postpone(council, proposal, 10)


def test_the_new_deadlines_need_a_time_zone(clock, council, proposal):
    naive = datetime(2031, 1, 1, 12, 0)
    with pytest.raises(Invalid, match="time zone"):
        create_proposal(members(council)[1], council, title="Postpone", kind=ProposalKind.POSTPONEMENT,
                        payload={"proposal": proposal.pk, "deliberation_ends": naive, "voting_ends": "not a time"})


def test_deadlines_given_with_an_offset_are_recorded_in_utc_and_verify(clock, council, proposal):
    berlin = tz(timedelta(hours=1))
    vote = create_proposal(members(council)[1], council, title="Postpone", kind=ProposalKind.POSTPONEMENT, payload={
        "proposal": proposal.pk, "deliberation_ends": (proposal.deliberation_ends + timedelta(days=50)).astimezone(berlin),
        "voting_ends": (proposal.voting_ends + timedelta(days=50)).astimezone(berlin)})
    assert vote.payload["deliberation_ends"].endswith("+00:00")
    assert verify_all().ok


def test_a_member_proposes_a_postponement_from_the_proposals_page(clock, council, proposal):
    import re

    from django.test import Client
    from django.urls import reverse

    from councils.decisions.models import Proposal

    client = Client()
    client.force_login(members(council)[2])
    page = client.get(proposal.get_absolute_url()).content.decode()
    link = reverse("proposal-create", args=[council.slug]) + f"?kind=postponement&amp;postponement={proposal.pk}"
    assert link in page and "30 days" in page
    form = client.get(link.replace("&amp;", "&")).content.decode()
    assert f'<option value="{proposal.pk}" selected>' in form
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(reverse("proposal-create", args=[council.slug]), {
        "csrfmiddlewaretoken": token, "kind": "postponement", "title": "Postpone the van", "body": "",
        "deliberation_ends": "2030-03-04T10:00", "voting_ends": "2030-03-05T11:00",
        "postponement": proposal.pk, "postponement_deliberation_ends": "2030-09-01T09:00",
        "postponement_voting_ends": "2030-09-20T09:00"})
    assert response.status_code == 302, response.context["form"].errors
    vote = Proposal.objects.get(title="Postpone the van")
    assert vote.kind == "postponement" and vote.payload["proposal"] == proposal.pk
    page = client.get(vote.get_absolute_url()).content.decode()
    assert "What this vote postpones" in page and proposal.title in page
    # Refused: new deadlines that shorten, shown on the form, nothing written.
    response = client.post(reverse("proposal-create", args=[council.slug]), {
        "csrfmiddlewaretoken": token, "kind": "postponement", "title": "Shorten the van", "body": "",
        "deliberation_ends": "2030-03-04T10:00", "voting_ends": "2030-03-05T11:00",
        "postponement": proposal.pk, "postponement_deliberation_ends": "2030-03-10T09:00",
        "postponement_voting_ends": "2030-03-12T09:00"})
    assert response.status_code == 200 and "never shorten" in response.content.decode()
    assert not Proposal.objects.filter(title="Shorten the van").exists()


def test_the_api_takes_a_postponement_and_says_what_is_wrong(clock, council, proposal):
    import json

    from django.test import Client

    from councils.accounts.services import create_token

    _, raw = create_token(members(council)[1], "tests")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    url = f"/api/councils/{council.slug}/proposals"
    new = {"proposal": proposal.pk, "deliberation_ends": (proposal.deliberation_ends + timedelta(days=90)).isoformat(),
           "voting_ends": (proposal.voting_ends + timedelta(days=90)).isoformat()}
    response = client.post(url, json.dumps({"title": "Postpone", "kind": "postponement", "postponement": new}),
                           content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["postponement"]["proposal"] == proposal.pk
    shorter = {**new, "deliberation_ends": proposal.created_at.isoformat()}
    response = client.post(url, json.dumps({"title": "Postpone", "kind": "postponement", "postponement": shorter}),
                           content_type="application/json")
    assert response.status_code == 422 and "never shorten" in response.content.decode()
    response = client.post(url, json.dumps({"title": "Postpone", "kind": "postponement"}), content_type="application/json")
    assert response.status_code == 422 and "names the proposal" in response.content.decode()
    assert verify_all().ok


def test_a_draft_postponement_is_checked_again_when_published(clock, council, proposal):
    from councils.decisions.services import publish_draft

    draft = postpone(council, proposal, 60, draft=True)
    clock.set(proposal.deliberation_ends - timedelta(hours=1))
    with pytest.raises(Invalid, match="would close after voting"):
        publish_draft(draft.author, draft)
