"""The browser scripts of members' keys and the record check: every word they show comes translated from their
template, and the browser judges signatures by the same list of member acts as the server's verifiers."""

from __future__ import annotations

import re
from pathlib import Path

from councils.record.signatures import MEMBER_ACTS

ROOT = Path(__file__).resolve().parents[2] / "src" / "councils"
SCRIPTS = {
    "web/static/councils/keys.js": "web/templates/web/keys_config.html",
    "web/static/councils/verify.js": "record/templates/record/browser_check.html",
}


def _words(script: str) -> set[str]:
    """The names a script passes to t(...), plain or in a conditional."""
    text = (ROOT / script).read_text()
    calls = re.findall(r"\bt\(([^()]*?)(?:,|\))", text)
    return {name for call in calls for name in re.findall(r'"([A-Z][A-Za-z]*)"', call)}


def test_every_word_the_key_and_check_scripts_show_is_in_their_template_translated():
    for script, template in SCRIPTS.items():
        html = (ROOT / template).read_text()
        words = _words(script)
        assert len(words) > 10
        for name in words:
            attribute = "data-t-" + re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()
            assert re.search(attribute + r'="\{% translate "', html), f"{script}: {name} has no {attribute} in {template}"


def test_the_browser_check_knows_the_same_member_acts_as_the_servers_verifiers():
    text = (ROOT / "web/static/councils/verify.js").read_text()
    listed = re.search(r"const MEMBER_ACTS = new Set\(\[(.*?)\]\);", text, re.DOTALL).group(1)
    assert set(re.findall(r'"([a-z_.]+)"', listed)) == set(MEMBER_ACTS)
