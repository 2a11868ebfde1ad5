"""Ranked ballots by keyboard alone, and an STV election read from its chart."""

from datetime import timedelta

import pytest

from councils import clock as app_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"


def log_in(page, username):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_text(f"Welcome, {username}").wait_for()


def test_ranked_ballot_by_keyboard_alone(page, make_council, make_user, members_of, tmp_path):
    from councils.decisions.services import create_proposal, ballot_of

    voter = make_user("kim", password=PASSWORD)
    council = make_council(voter, members=2)
    now = app_clock.now()
    proposal = create_proposal(voter, council, title="Which grain first?", decision_method="irv",
                               options=["Oats", "Rye", "Spelt"], deliberation_ends=now, voting_ends=now + timedelta(hours=1))
    log_in(page, "kim")
    page.goto(proposal.get_absolute_url())
    # Each option is a labelled control a screen reader announces; no dragging anywhere.
    first = page.get_by_role("combobox", name="Oats")
    first.focus()
    page.keyboard.press("2")
    page.keyboard.press("Tab")
    page.keyboard.press("1")
    page.keyboard.press("Tab")  # Spelt: left unranked
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text("Your vote is recorded").wait_for()
    ballot = ballot_of(voter, proposal)
    labels = {o.pk: o.label for o in proposal.options.all()}
    assert [[labels[i] for i in group] for group in ballot.content] == [["Rye"], ["Oats"]]
    # The form shows the ballot back, ready to change.
    assert page.get_by_role("combobox", name="Rye").input_value() == "1"
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.screenshot(path=str(tmp_path / "ranked-phone.png"), full_page=True)
    print(f"screenshot: {tmp_path / 'ranked-phone.png'}")


def test_stv_election_shows_its_rounds(page, make_council, make_user, members_of, tmp_path):
    from councils.decisions.services import cast_ballot, create_proposal

    start = app_clock.now().replace(microsecond=0)
    with app_clock.frozen(start) as clock:
        founder = make_user("lea", password=PASSWORD)
        council = make_council(founder, members=7)
        members = members_of(council)
        election = create_proposal(
            founder, council, title="Elect two secretaries", kind="election", office="secretary", seats=2,
            options=[{"member": m.username} for m in members[:4]], deliberation_ends=start,
            voting_ends=start + timedelta(hours=1),
        )
        ids = {o.label: o.pk for o in election.options.all()}
        names = [m.username for m in members[:4]]
        preferences = [[0, 1], [0, 2], [0, 1], [0], [1, 0], [2, 1], [3, 2], [1, 2]]
        for member, order in zip(members, preferences):
            cast_ballot(member, election, {"ranking": [ids[names[i]] for i in order]})
        clock.advance(hours=2)
        log_in(page, "lea")
        page.goto(election.get_absolute_url())
        heading = page.get_by_role("heading", name="Result")
        heading.wait_for()
        assert names[0] in heading.inner_text()
        chart = page.locator("svg[role=img]").first
        label = chart.get_attribute("aria-label")
        assert "Elected" in label and names[0] in label
        assert chart.locator("desc").count() == 1
        page.get_by_text("Officers").first.wait_for()
        page.screenshot(path=str(tmp_path / "stv-election.png"), full_page=True)
        print(f"screenshot: {tmp_path / 'stv-election.png'}")
        page.goto(council.get_absolute_url())
        assert f"Secretary: {names[0]}" in page.locator("#officers-h + ul").inner_text()
