"""The README's API example, run as written with curl against a server holding the demo."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from councils.accounts.services import create_token
from councils.decisions.models import Ballot, Proposal
from councils.demo import load_demo

README = Path(__file__).resolve().parents[2] / "README.md"


def api_example() -> str:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), re.S)
    (block,) = [b for b in blocks if "councils act" in b]
    return "\n".join(line.strip() for line in block.splitlines())


@pytest.mark.skipif(not os.path.exists("/usr/bin/curl"), reason="curl is not installed")
def test_readme_signed_example_votes_against_the_demo(transactional_db, live_server, tmp_path):
    load_demo()
    ana = get_user_model().objects.get(username="ana")
    _, raw = create_token(ana, "readme")
    # ``councils`` as this checkout's command line.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "councils"
    src = Path(__file__).resolve().parents[2] / "src"
    shim.write_text(f"#!/bin/sh\nPYTHONPATH={src} exec {sys.executable} -m councils.cli \"$@\"\n")
    shim.chmod(0o755)
    script = "set -e\n" + api_example().replace("http://127.0.0.1:8000", live_server.url)
    env = {**os.environ, "TOKEN": raw, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"choice": "yes"' in done.stdout.replace('":"', '": "') or '"yes"' in done.stdout, done.stdout
    proposal = Proposal.objects.get(title="Elect a second delivery coordinator")
    ballot = Ballot.objects.get(proposal=proposal, voter=ana)
    from councils.record.models import RecordEntry

    entry = RecordEntry.objects.filter(subject=ballot.subject).order_by("-pk").first()
    import json

    key_id = json.loads((tmp_path / "ana.key").read_text())["key_id"]
    assert key_id in entry.data["signed"]["statement"]  # signed with the key the example made, not a held one


def test_a_missing_or_wrong_token_is_told_to_authenticate(transactional_db, live_server):
    load_demo()
    proposal = Proposal.objects.get(title="Elect a second delivery coordinator")
    url = f"{live_server.url}/api/proposals/{proposal.pk}/ballot"
    for headers in ([], ["-H", "Authorization: Bearer cnc_not-a-token"]):
        done = subprocess.run(["curl", "-s", "-i", "-X", "PUT", "-H", "Content-Type: application/json", *headers,
                               "-d", '{"choice": "yes"}', url], capture_output=True, text=True, timeout=60)
        head = done.stdout.split("\r\n\r\n")[0]
        assert head.startswith("HTTP/1.1 401"), head
        assert re.search(r"(?im)^WWW-Authenticate: Bearer", head), head
    # A good token of a member who may not vote there: 403.
    outsider = get_user_model().objects.create_user("outsider", password="x" * 12)
    _, raw = create_token(outsider, "t")
    done = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-H", "Content-Type: application/json",
                           "-H", f"Authorization: Bearer {raw}", "-d", '{"choice": "yes"}', url], capture_output=True, text=True, timeout=60)
    assert done.stdout == "403"
