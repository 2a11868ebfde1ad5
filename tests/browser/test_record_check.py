"""The record page's check runs in the reader's browser: signature, tree and history, without the server's word."""

from __future__ import annotations

import pytest
from django.db import transaction

from councils import clock as app_clock
from councils.decisions.services import add_comment
from councils.record.services import append

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def check(page, council) -> str:
    page.goto(f"/c/{council.slug}/record/")
    page.get_by_role("button", name="Verify in this browser").click()
    result = page.locator("#browser-check-result")
    result.filter(has_text="erified").wait_for()
    return result.inner_text()


def test_the_browser_verifies_the_record_then_catches_a_rewritten_history(page, clock, make_council, members_of,
                                                                          make_proposal, drop_last_entry):
    council = make_council(members=2)
    proposal = make_proposal(council)
    add_comment(members_of(council)[0], proposal, "first")
    said = check(page, council)
    assert said.startswith("Verified in this browser") and "had not seen this chain before" in said
    add_comment(members_of(council)[1], proposal, "second")
    said = check(page, council)
    assert said.startswith("Verified in this browser") and "extends the" in said
    drop_last_entry(council)
    with transaction.atomic():
        append(council, kind="comment.added", subject="comment:forged", state={"body": "never said"}, at=app_clock.now())
    said = check(page, council)
    assert said.startswith("Not verified") and "fork" in said
