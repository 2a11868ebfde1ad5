"""Issue 14, moderation that is real and still cannot silence: members report, an officer hides with a reason (recorded),
the author or any member appeals, the council's vote decides; hidden text leaves every public view while the record
still verifies, and the council's members read it during the appeal."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from councils.accounts.services import create_token
from councils.decisions.models import Report
from councils.decisions.services import (
    add_comment,
    appeal_hidden_comment,
    appeal_hidden_text,
    cast_ballot,
    create_proposal,
    get_decision,
    hidden_text_for,
    hide_comment,
    hide_proposal_text,
    move_amendment,
    report_content,
    settle_due,
)
from councils.errors import Invalid, NotAllowed
from councils.record.models import Content, RecordEntry
from councils.record.services import content_hash, verify_all

pytestmark = pytest.mark.django_db

RUDE = "You are all idiots, call my neighbour at 555-0199."


@pytest.fixture
def moderated(clock, make_council, members_of):
    """A council of four whose second member is its elected facilitator, and an open proposal."""
    council = make_council(members=3)
    members = members_of(council)
    now = clock.now()
    election = create_proposal(members[0], council, title="Facilitator", kind="election", office="facilitator",
                               options=[{"member": members[1].username}], deliberation_ends=now,
                               voting_ends=now + timedelta(hours=1))
    for member in members:
        cast_ballot(member, election, {"ranking": [election.options.get().pk]})
    clock.advance(hours=2)
    get_decision(election)
    proposal = create_proposal(members[0], council, title="Oven", body="Buy a wood oven for the bakery.",
                               deliberation_ends=clock.now() + timedelta(days=1),
                               voting_ends=clock.now() + timedelta(days=3))
    return council, members, proposal


def public_views(council, proposal) -> str:
    """Everything an outsider can fetch about the council's proposal: pages, API, record pages, record API."""
    anonymous = Client()
    parts = [anonymous.get(proposal.get_absolute_url()).content.decode(),
             anonymous.get(f"/api/proposals/{proposal.pk}").content.decode(),
             anonymous.get(f"/api/proposals/{proposal.pk}/comments").content.decode(),
             anonymous.get(f"/c/{council.slug}/record/").content.decode(),
             anonymous.get(f"/api/councils/{council.slug}/record?limit=5000").content.decode(),
             anonymous.get(f"/api/councils/{council.slug}/proposals").content.decode()]
    for appeal in proposal.council.proposals.filter(kind="appeal"):
        parts.append(anonymous.get(appeal.get_absolute_url()).content.decode())
        parts.append(anonymous.get(f"/api/proposals/{appeal.pk}").content.decode())
    for row in Content.objects.all():
        parts.append(anonymous.get(f"/api/record/content/{row.sha256}").content.decode())
    return "\n".join(parts)


def test_a_hidden_comment_leaves_every_public_view_and_the_record_still_verifies(clock, moderated):
    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, RUDE)
    assert RUDE in public_views(council, proposal)  # published while shown ...
    report = report_content(other, comment=comment, reason="A phone number of someone else")
    assert Report.objects.get() == report
    hide_comment(officer, comment, "Personal data of a third person")
    assert RUDE not in public_views(council, proposal)  # ... and nowhere once hidden
    hidden = RecordEntry.objects.get(kind="comment.hidden")
    assert json.loads(hidden.data_json)["state"]["hidden_reason"] == "Personal data of a third person"
    assert hidden.actor == officer.username
    assert verify_all().ok
    # The entry keeps a hash; the text lives beside the chain and still matches it.
    ref = json.loads(RecordEntry.objects.get(kind="comment.added").data_json)["state"]["body"]
    row = Content.objects.get(sha256=ref["sha256"])
    assert content_hash(row.nonce, row.text) == ref["sha256"] and row.text == RUDE
    assert Client().get(f"/api/record/content/{row.sha256}").json() == {
        "sha256": row.sha256, "subject": comment.subject, "hidden": True, "nonce": None, "text": None}


def test_the_appeal_does_not_republish_the_text_members_read_it_and_the_vote_decides(clock, moderated):
    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, RUDE)
    hide_comment(officer, comment, "Personal data")
    assert hidden_text_for(other, comment) is None  # no appeal open: hidden from members too
    assert hidden_text_for(writer, comment) == RUDE  # the author always reads their own
    appeal = appeal_hidden_comment(writer, comment)  # the author appeals
    assert RUDE not in appeal.body
    assert hidden_text_for(other, comment) == RUDE  # members read it while the appeal is open
    member_page = Client()
    member_page.force_login(other)
    assert RUDE in member_page.get(proposal.get_absolute_url()).content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(other, 'tests')[1]}")
    assert api.get(f"/api/comments/{comment.pk}/hidden-text").json() == {"text": RUDE}
    assert RUDE not in public_views(council, proposal)
    for member in (author, officer, other):
        cast_ballot(member, appeal, "no")
    cast_ballot(writer, appeal, "yes")
    clock.advance(days=10)
    settle_due(council)
    comment.refresh_from_db()
    assert comment.hidden_at is not None  # the council upheld the hiding
    assert hidden_text_for(other, comment) is None and RUDE not in public_views(council, proposal)
    assert verify_all().ok


def test_an_adopted_appeal_shows_the_comment_again(clock, moderated):
    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, "A sharp but fair point.")
    hide_comment(officer, comment, "Too sharp")
    appeal = appeal_hidden_comment(other, comment)
    for member in (author, writer, other):
        cast_ballot(member, appeal, "yes")
    clock.advance(days=10)
    settle_due(council)
    assert "A sharp but fair point." in public_views(council, proposal)
    assert verify_all().ok


def test_an_officer_hides_a_proposals_and_an_amendments_text_and_an_appeal_restores_it(clock, moderated):
    council, (author, officer, writer, other), proposal = moderated
    amendment = move_amendment(writer, proposal, passage="wood oven", replacement=RUDE)
    report_content(other, proposal=amendment, reason="Not an amendment")
    hide_proposal_text(officer, amendment, "Abuse, not an amendment")
    assert RUDE not in public_views(council, amendment)
    assert RUDE not in Client().get(proposal.get_absolute_url()).content.decode()  # nor in the main proposal's page
    assert verify_all().ok
    appeal = appeal_hidden_text(writer, amendment)
    assert RUDE not in appeal.body
    assert RUDE in hidden_text_for(other, amendment)
    for member in (author, officer, writer, other):
        cast_ballot(member, appeal, "yes")
    clock.advance(days=5)
    settle_due(council)
    amendment.refresh_from_db()
    assert amendment.hidden_at is None
    assert RecordEntry.objects.filter(kind="proposal.restored", subject=amendment.subject).exists()
    assert verify_all().ok


def test_only_officers_hide_only_members_report_and_appeal(clock, moderated, make_user):
    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, RUDE)
    stranger = make_user()
    with pytest.raises(NotAllowed):
        hide_comment(other, comment, "I dislike it")
    with pytest.raises(NotAllowed):
        hide_proposal_text(author, proposal, "My own, but I am no officer")
    with pytest.raises(NotAllowed):
        report_content(stranger, comment=comment, reason="Spam")
    with pytest.raises(Invalid):
        report_content(other, comment=comment, reason=" ")
    with pytest.raises(Invalid):
        hide_proposal_text(officer, proposal, "")
    hide_comment(officer, comment, "Personal data")
    with pytest.raises(NotAllowed):
        appeal_hidden_comment(stranger, comment)
    for path in (f"/api/comments/{comment.pk}/hidden-text",):
        api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(stranger, 'tests')[1]}")
        assert api.get(path).status_code == 403


def test_moderation_by_the_pages_and_the_api(clock, moderated):
    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, RUDE)
    member = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(other, 'tests')[1]}")
    assert member.post(f"/api/comments/{comment.pk}/report", {"reason": "Personal data"},
                       content_type="application/json").status_code == 201
    page = Client()
    page.force_login(other)
    page.post(f"/c/{council.slug}/p/{proposal.pk}/report/", {"reason": "Off topic"})
    assert Report.objects.count() == 2
    officer_page = Client()
    officer_page.force_login(officer)
    assert "Personal data" in officer_page.get(proposal.get_absolute_url()).content.decode()  # officers see the reports
    officer_page.post(f"/c/{council.slug}/comments/{comment.pk}/hide/", {"reason": "Personal data"})
    comment.refresh_from_db()
    assert comment.hidden_at is not None
    officer_api = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(officer, 'tests')[1]}")
    answer = officer_api.post(f"/api/proposals/{proposal.pk}/hide", {"reason": "Testing"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["hidden"] and answer.json()["body"] == ""
    answer = member.post(f"/api/proposals/{proposal.pk}/appeal", content_type="application/json")
    assert answer.status_code == 201 and answer.json()["kind"] == "appeal"
    assert member.get(f"/api/proposals/{proposal.pk}/hidden-text").json()["text"] == "Buy a wood oven for the bakery."


def test_verify_finds_a_text_edited_behind_the_applications_back(clock, moderated):
    from councils.decisions.models import Comment

    council, (author, officer, writer, other), proposal = moderated
    comment = add_comment(writer, proposal, "What I said.")
    assert verify_all().ok
    Comment.objects.filter(pk=comment.pk).update(body="What I never said.")
    assert not verify_all().ok
    Comment.objects.filter(pk=comment.pk).update(body="What I said.")
    assert verify_all().ok
    Content.objects.filter(subject=comment.subject).update(text="What I never said.")
    problems = verify_all().problems
    assert any("no longer matches its hash" in p.reason for p in problems)
