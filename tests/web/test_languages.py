"""Every language: the catalogues are complete and compiled, pages follow the browser's language and the switcher,
and dates, numbers, refusals and API error bodies come in the reader's language."""

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

import councils

LOCALE = Path(councils.__file__).parent / "locale"
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]
DOMAINS = ["django"]  # pages, forms, messages, and the words of the site's scripts (data-t-* attributes)
CATALOGUES = [(language, domain) for language in TRANSLATED for domain in DOMAINS]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def entries(po: Path) -> list[dict]:
    """The entries of a .po file (after its header): msgid, msgid_plural, msgstr(s) and flags."""
    found = []
    for block in po.read_text(encoding="utf-8").strip().split("\n\n")[1:]:
        entry, key = {"flags": "", "msgstr": {}}, None
        for line in block.split("\n"):
            if line.startswith("#,"):
                entry["flags"] += line
            elif line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("msgid_plural "):
                key = "msgid_plural"
                entry[key] = ast.literal_eval(line[13:])
            elif line.startswith("msgid "):
                key = "msgid"
                entry[key] = ast.literal_eval(line[6:])
            elif line.startswith("msgstr"):
                index = int(line[7]) if line.startswith("msgstr[") else 0
                key = ("msgstr", index)
                entry["msgstr"][index] = ast.literal_eval(line.split(" ", 1)[1])
            elif line.startswith('"') and key:
                if isinstance(key, tuple):
                    entry["msgstr"][key[1]] += ast.literal_eval(line)
                else:
                    entry[key] += ast.literal_eval(line)
        found.append(entry)
    return found


@pytest.mark.parametrize("language, domain", CATALOGUES)
def test_every_catalogue_is_complete_with_no_fuzzy_entry(language, domain):
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    header = po.read_text(encoding="utf-8").split("\n\n")[0]
    assert "#, fuzzy" not in header
    untranslated, fuzzy, broken = [], [], []
    for entry in entries(po):
        if entry.get("obsolete"):
            continue
        if "fuzzy" in entry["flags"]:
            fuzzy.append(entry["msgid"])
        if not entry["msgstr"] or any(not text.strip() for text in entry["msgstr"].values()):
            untranslated.append(entry["msgid"])
        wanted = set(PLACEHOLDER.findall(entry["msgid"] + entry.get("msgid_plural", "")))
        for text in entry["msgstr"].values():
            if text and set(PLACEHOLDER.findall(text)) != wanted:
                broken.append(f"{entry['msgid']!r} -> {text!r}")
    assert not untranslated, f"{language}: {len(untranslated)} untranslated, e.g. {untranslated[:5]}"
    assert not fuzzy, f"{language}: {len(fuzzy)} fuzzy, e.g. {fuzzy[:5]}"
    assert not broken, f"{language}: placeholders differ: {broken[:5]}"
    assert len(entries(po)) > (1000 if domain == "django" else 10)  # the whole interface, not a sample


@pytest.mark.parametrize("language, domain", CATALOGUES)
def test_every_compiled_catalogue_matches_its_po_file(language, domain):
    """The .mo the server reads says exactly what the .po says (run compilemessages after editing a .po)."""
    folder = LOCALE / language / "LC_MESSAGES"
    with open(folder / f"{domain}.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog = {key: value for key, value in compiled._catalog.items() if key != ""}
    expected = {}
    for entry in entries(folder / f"{domain}.po"):
        if entry.get("obsolete"):
            continue
        if "msgid_plural" in entry:
            for index, text in entry["msgstr"].items():
                expected[(entry["msgid"], index)] = text
        else:
            expected[entry["msgid"]] = entry["msgstr"][0]
    assert catalog == expected


def test_the_catalogues_hold_every_marked_string(tmp_path):
    """Every string marked for translation in the code and templates is in the catalogues: a string added without
    refreshing them (see docs/translations.md) fails here, before it reaches a reader untranslated."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        if os.environ.get("CI"):
            pytest.fail("GNU gettext is not installed (CI must run this test: .ci/run installs it)")
        pytest.skip("GNU gettext is not installed (apt-get install -y gettext)")
    source = Path(councils.__file__).parent
    copy = tmp_path / "councils"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    for domain in DOMAINS:
        command = [sys.executable, "-m", "django", "makemessages", "-d", domain, "-l", "de", "--no-location", "--no-wrap",
                   "--no-obsolete", "--ignore", "tally/*", "--ignore", "planning/*", "--ignore", "*/migrations/*",
                   "--ignore", "demo.py"]
        subprocess.run(command, cwd=copy, check=True, capture_output=True,
                       env={**os.environ, "DJANGO_SETTINGS_MODULE": "councils.settings_test",
                            "PYTHONPATH": str(tmp_path) + ":" + str(source.parent)})
        po = f"locale/de/LC_MESSAGES/{domain}.po"
        now = {e["msgid"] for e in entries(copy / po) if not e.get("obsolete")}
        kept = {e["msgid"] for e in entries(source / po) if not e.get("obsolete")}
        assert not now - kept, f"{domain}: not in the catalogues yet: {sorted(now - kept)[:10]}"


@pytest.mark.django_db
@pytest.mark.parametrize("language, words", [
    ("en", "All councils"), ("es", "Todos los consejos"), ("fr", "Tous les conseils"), ("de", "Alle Räte"),
])
def test_pages_follow_the_browsers_language(language, words):
    page = Client().get("/councils/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'<html lang="{language}">' in html
    assert words in html
    assert page["Vary"] and "Accept-Language" in page["Vary"]


@pytest.mark.django_db
def test_an_unknown_language_falls_back_to_english():
    html = Client().get("/councils/", HTTP_ACCEPT_LANGUAGE="tlh").content.decode()
    assert '<html lang="en">' in html and "All councils" in html


@pytest.mark.django_db
@pytest.mark.parametrize("language, words", [("es", "Iniciar sesión"), ("fr", "Se connecter"), ("de", "Anmelden")])
def test_the_switcher_overrides_the_browsers_language(language, words):
    client = Client(enforce_csrf_checks=True)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The switcher is a plain form in the footer: a labelled list and a button, no script.
    switcher = re.search(r'<form method="post" action="/language/" class="language">.*?</form>', home, re.DOTALL).group(0)
    assert '<label for="id_language">Language</label>' in switcher and "<script" not in switcher
    assert all(f'value="{code}"' in switcher for code, _ in settings.LANGUAGES)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', switcher).group(1)
    answer = client.post("/language/", {"language": language, "next": "/councils/", "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer["Location"] == "/councils/"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert words in html and f'<html lang="{language}">' in html
    assert f'<option value="{language}" lang="{language}" selected>' in html


@pytest.mark.django_db
def test_a_date_and_a_number_in_german(clock, make_council, make_proposal):
    council = make_council(members=2, name="Mühle")
    make_proposal(council, title="Neue Öfen")  # deliberation until 2030-03-02 10:00 UTC
    german = Client().get(council.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    english = Client().get(council.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "in Beratung bis 02.03.2030 10:00 UTC" in german
    assert "in deliberation until 2030-03-02 10:00 UTC" in english
    from django.utils import translation

    from councils.adapters import words

    with translation.override("de"):
        assert words.percent(0.125, 1) == "12,5%"
        assert words.quantity(20000.25, "kg") == "20\u202f000,25 kg"
        assert words.duration(90061) == "1 Tag und 1 Stunde"
    with translation.override("fr"):
        assert words.share_of(0.25) == "25% des membres"


@pytest.mark.django_db
def test_a_refusal_reaches_the_page_in_the_readers_language(clock, make_council, make_user):
    council = make_council(members=1, name="Tram Depot")
    outsider = make_user()
    client = Client()
    client.force_login(outsider)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(f"/c/{council.slug}/proposals/new/", follow=True)
    assert "Seuls les membres de Tram Depot peuvent faire des propositions." in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language, detail", [
    ("en", "Authentication required"), ("fr", "Authentification requise"), ("de", "Anmeldung erforderlich"),
    ("es", "Se necesita autenticación"),
])
def test_api_error_bodies_are_in_the_readers_language(language, detail):
    answer = Client().post("/api/councils", "{}", content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 401
    assert answer.json()["detail"].startswith(detail)


@pytest.mark.django_db
def test_the_scripts_words_come_in_the_readers_language(make_council):
    """The record check's script reads its words from the page (data-t-* attributes), translated with the page."""
    council = make_council(members=1)
    page = Client().get(f"/c/{council.slug}/record/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'data-t-checking="Vérification' in page, "the browser check's words are not in French"