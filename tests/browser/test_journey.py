"""A whole journey in a real browser: sign up, found a council, propose, vote, wait for the close, read the result."""

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"


def test_sign_up_found_propose_vote_and_see_the_result(page, tmp_path):
    page.goto("/signup/")
    page.get_by_label("User name").fill("rosa")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_text("Welcome, rosa").first.wait_for()

    page.get_by_role("link", name="Found a council").click()
    page.get_by_label("Name").fill("Tram Depot Council")
    page.get_by_label("Kind").select_option("workplace")
    # A council that decides in seconds, by its own founding charter (the defaults are two days and one).
    page.get_by_label("Deliberation period (days)").fill("0")
    page.get_by_label("Shortest deliberation anyone may set (days)").fill("0")
    page.get_by_label("Shortest vote anyone may set (days)").fill("0")
    page.get_by_role("button", name="Found the council").click()
    page.get_by_text("Tram Depot Council is founded").wait_for()

    page.get_by_role("link", name="Make a proposal").click()
    page.get_by_label("Title").fill("Night buses on weekends")
    page.get_by_label("Text").fill("We run the **night line** on Fridays and Saturdays.")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    closes = now + timedelta(seconds=8)
    page.get_by_label("Deliberation ends (voting opens)").fill(now.strftime("%Y-%m-%dT%H:%M:%S"))
    # By its id: a postponement's "Its voting ends (new)" also holds the words "voting ends".
    page.locator("#id_voting_ends").fill(closes.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Put it before the council").click()
    page.get_by_text("Voting is open until").wait_for()
    assert page.locator("article.prose strong").inner_text() == "night line"

    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_text("Your vote is recorded").wait_for()
    page.get_by_role("radio", name="No", exact=True).check()
    page.get_by_role("button", name="Change my vote").click()
    page.get_by_text("Your vote is recorded").wait_for()
    assert page.get_by_role("radio", name="No", exact=True).is_checked()
    page.get_by_role("radio", name="Yes", exact=True).check()
    page.get_by_role("button", name="Change my vote").click()
    page.get_by_text("Your vote is recorded").wait_for()
    assert page.get_by_role("radio", name="Yes", exact=True).is_checked()

    time.sleep(max(0.0, (closes - datetime.now(timezone.utc)).total_seconds()) + 1.0)
    page.reload()
    page.get_by_text("Result:").wait_for()
    assert page.locator(".outcome").first.inner_text() == "Adopted"
    assert page.locator("svg.chart").get_attribute("aria-label").endswith("Yes: 1, No: 0, Abstain: 0")
    shot = tmp_path / "result.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")

    page.get_by_role("link", name=re.compile("Tram Depot Council")).click()
    page.get_by_role("link", name="Public record").click()
    page.get_by_role("link", name="verify this chain now").click()
    page.get_by_text("chain intact").wait_for()
