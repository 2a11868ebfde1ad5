"""A member's own key in the browser: made, backed up, restored on a second device, signing a ballot that the record
keeps and the browser check verifies; a tampered signature fails that check; without a key the page says where to
make one. The keys page passes axe-core and fits a 390 px phone."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.db import transaction

from councils import clock as app_clock

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long enough passphrase"
PASSPHRASE = "correct horse battery staple"


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page (as tests/browser/test_tour_audit.py audits)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def sideways(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def log_in(context, username):
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


def make_key(page, label="laptop"):
    page.goto("/profile/keys/")
    page.get_by_label("Name of this key").fill(label)
    page.get_by_label("Passphrase for the backup").fill(PASSPHRASE)
    page.get_by_label("The passphrase again").fill(PASSPHRASE)
    with page.expect_download() as download:
        page.get_by_role("button", name="Make a key and download its backup").click()
    page.locator("[data-browser-key-status]").filter(has_text="is made").wait_for()
    return download.value


def member(make_user, name):
    """A user whose suite-held key is registered before their first act (registered lazily, inside the first act,
    its registration would be stamped after that act, and the record's checks refuse an act signed before its key
    was registered)."""
    from councils.accounts.signing import _register_held_key, keyring

    user = make_user(name, password=PASSWORD)
    with transaction.atomic():
        _register_held_key(user, keyring().private_key_for(user), app_clock.now())
    return user


def open_vote(council, author, title="Paint the door green?"):
    from councils.decisions.services import create_proposal

    now = app_clock.now()
    return create_proposal(author, council, title=title, deliberation_ends=now, voting_ends=now + timedelta(hours=1))


def vote(page, proposal, choice):
    page.goto(proposal.get_absolute_url())
    page.get_by_role("radio", name=choice, exact=True).check()
    page.get_by_role("button", name=re.compile("vote", re.IGNORECASE)).first.click()
    page.get_by_text("Your vote is recorded").wait_for()
    assert "must be signed" not in page.locator("main").inner_text()  # the prepare request left no message behind


def ballot_entries(council):
    from councils.record.models import RecordEntry

    rows = RecordEntry.objects.filter(chain=council.record_chain, kind__startswith="ballot").order_by("seq")
    return [json.loads(r.data_json) for r in rows]


def browser_check(page, council) -> str:
    page.goto(f"/c/{council.slug}/record/")
    page.get_by_role("button", name="Verify in this browser").click()
    result = page.locator("#browser-check-result")
    result.filter(has_text="erified").wait_for(timeout=60_000)
    return result.inner_text()


def test_a_browser_key_signs_a_ballot_and_its_backup_restores_it_in_another_browser(browser, live_server, make_user,
                                                                                     make_council, tmp_path):
    from councils.accounts.models import MemberKey

    kim = member(make_user, "kim")
    council = make_council(kim, members=2)
    proposal = open_vote(council, kim)

    laptop = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = log_in(laptop, "kim")
    download = make_key(page)
    backup_path = tmp_path / download.suggested_filename
    download.save_as(backup_path)
    backup = json.loads(backup_path.read_text())
    assert backup["type"] == "councils.key-backup/v1" and backup["user"] == "kim"
    assert backup["kdf"]["name"] == "PBKDF2" and backup["kdf"]["iterations"] >= 600_000
    assert backup["cipher"]["name"] == "AES-GCM" and "private" not in json.dumps(backup).lower()
    key = MemberKey.objects.get(key_id=backup["key_id"])
    page.locator('section[aria-labelledby="keys-h"] tr', has_text=backup["key_id"][:16]).wait_for()  # the list shows it
    assert key.user == kim and key.public_key == backup["public_key"] and not key.held_by_server
    # The key the browser keeps cannot be read back, by this page or any other.
    extractable = page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("councils-keys");
        open.onsuccess = () => {
          const get = open.result.transaction("keys").objectStore("keys").get("kim");
          get.onsuccess = () => resolve([get.result.privateKey.extractable, get.result.privateKey.type]);
        };
        open.onerror = reject;
      })""")
    assert extractable == [False, "private"]

    vote(page, proposal, "Yes")
    signed = ballot_entries(council)[-1]["signed"]
    statement = json.loads(signed["statement"])
    assert statement["key"] == backup["key_id"] and statement["act"].startswith("ballot")
    page.goto(f"/c/{council.slug}/record/")  # the record shows the entry with its statement and signature
    assert signed["signature"] in page.content()
    laptop.close()

    # A second device: no key until the backup is restored, with its passphrase.
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = log_in(phone, "kim")
    page.goto("/profile/keys/")
    page.get_by_text("This browser holds no key of yours").wait_for()
    page.get_by_label("Backup file").set_input_files(str(backup_path))
    page.get_by_label("Its passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Restore the key in this browser").click()
    page.locator("[data-browser-key-status]").filter(has_text="does not open").wait_for()
    page.get_by_label("Backup file").set_input_files(str(backup_path))
    page.get_by_label("Its passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Restore the key in this browser").click()
    page.locator("[data-browser-key-status]").filter(has_text="is restored").wait_for()
    assert backup["key_id"] in page.locator("[data-browser-key-state]").inner_text()

    vote(page, proposal, "No")  # a changed ballot, signed with the restored key
    signed = ballot_entries(council)[-1]["signed"]
    assert json.loads(signed["statement"])["key"] == backup["key_id"]

    said = browser_check(page, council)
    assert said.startswith("Verified in this browser"), said
    assert re.search(r"\d+ member signatures? checked", said), said
    phone.close()


def test_a_signature_changed_in_the_database_fails_the_browser_check(browser, live_server, make_user, make_council):
    from councils.record.models import Chain, Checkpoint, RecordEntry, TreeNode
    from councils.record.statement import canonical_json

    ana = member(make_user, "ana")
    council = make_council(ana, members=1)
    proposal = open_vote(council, ana)
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = log_in(context, "ana")
    make_key(page)
    vote(page, proposal, "Yes")
    said = browser_check(page, council)
    assert said.startswith("Verified in this browser") and "member signature" in said, said
    # An operator rewrites the ballot's signature and, to hide it, the whole tree and its checkpoint.
    chain = council.record_chain
    with transaction.atomic():
        row = RecordEntry.objects.filter(chain=chain, kind__startswith="ballot").order_by("-seq").first()
        data = json.loads(row.data_json)
        signature = data["signed"]["signature"]
        data["signed"]["signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
        row.data_json = canonical_json(data).decode("utf-8")
        row.save(update_fields=["data_json"])
        TreeNode.objects.filter(chain=chain).delete()
        Checkpoint.objects.filter(chain=chain).delete()
        Chain.objects.filter(name=chain).update(tree_size=0)
    context.close()
    fresh = browser.new_context(base_url=live_server.url)  # a browser that never saw the chain before
    page = fresh.new_page()
    said = browser_check(page, council)
    assert said.startswith("Not verified") and f"entry #{row.seq}" in said and "signature does not verify" in said, said
    fresh.close()


def test_without_a_key_in_this_browser_the_page_says_where_to_make_one(browser, live_server, make_user, make_council):
    from councils.accounts.signing import install_keyring, keys_of, revoke_key

    lea = member(make_user, "lea")
    council = make_council(lea, members=1)
    proposal = open_vote(council, lea)
    previous = install_keyring(None)  # no key held by the server: lea must sign herself
    for key in keys_of(lea):
        revoke_key(lea, key.key_id)  # the suite's key, which signed the set-up
    try:
        context = browser.new_context(base_url=live_server.url)
        page = log_in(context, "lea")
        page.goto(proposal.get_absolute_url())
        notice = page.locator("[data-councils-no-key]")
        notice.wait_for()
        assert "holds none of yours" in notice.inner_text()
        assert notice.get_by_role("link", name="Your keys").get_attribute("href") == "/profile/keys/"
        page.get_by_role("radio", name="Yes", exact=True).check()
        page.get_by_role("button", name=re.compile("vote", re.IGNORECASE)).first.click()
        page.wait_for_load_state()
        assert not any("signed" in e for e in ballot_entries(council))  # refused: nothing written
        context.close()
    finally:
        install_keyring(previous)


def test_a_demo_member_without_a_browser_key_acts_with_the_key_the_server_holds(browser, live_server, make_user,
                                                                                make_council):
    ana = member(make_user, "ana")
    council = make_council(ana, members=1)
    proposal = open_vote(council, ana)
    context = browser.new_context(base_url=live_server.url)
    page = log_in(context, "ana")
    vote(page, proposal, "Yes")  # the test keyring stands for the demo's: the server signs
    assert ballot_entries(council)[-1]["signed"]["signature"]
    page.goto(proposal.get_absolute_url())
    assert "Demo: this server signs your acts" in page.locator("[data-councils-no-key]").inner_text()
    context.close()


def test_the_keys_page_is_accessible_and_fits_a_phone(browser, live_server, make_user, tmp_path):
    make_user("kim", password=PASSWORD)
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, accept_downloads=True)
        page = log_in(context, "kim")
        page.goto("/profile/keys/")
        page.get_by_text("This browser holds no key of yours").wait_for()
        assert serious_violations(page) == []
        assert sideways(page) == 0
        if viewport["width"] == 390:
            make_key(page, label="phone")
            assert serious_violations(page) == [] and sideways(page) == 0
            page.screenshot(path=str(tmp_path / "390px-keys.png"), full_page=True)
            print(f"screenshot: {tmp_path / '390px-keys.png'}")
        context.close()


def test_the_demos_record_verifies_in_the_browser_member_signatures_included(browser, live_server):
    from councils.assemblies.models import Council
    from councils.demo import load_demo

    load_demo()
    bakery = Council.objects.get(name__startswith="Riverside")
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    started = time.perf_counter()
    said = browser_check(page, bakery)
    print(f"browser check of the bakery's chain in {time.perf_counter() - started:.1f} s: {said}")
    assert said.startswith("Verified in this browser"), said
    assert re.search(r"\d+ member signatures checked", said) and "demo members" in said, said
    context.close()
