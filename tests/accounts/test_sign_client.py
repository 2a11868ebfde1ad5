"""`councils keys new` and `councils act`: a member's own key, registered, signing a ballot through the 428 flow."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from councils.accounts import signing
from councils.accounts.services import create_token
from councils.cli import main

pytestmark = pytest.mark.django_db(transaction=True)


def test_keys_new_registers_and_act_casts_a_signed_ballot(live_server, clock, make_council, make_proposal, members_of, tmp_path,
                                                          capsys):
    clock.set(datetime.now(timezone.utc))  # the client signs with its own clock: the server's must agree
    council = make_council(members=1)
    proposal = make_proposal(council, deliberation=timedelta(0))
    voter = members_of(council)[1]
    previous = signing.install_keyring(None)  # the voter's own key only; real time (the server's clock)
    try:
        token = create_token(voter, "cli")[1]
        key_file = tmp_path / "me.key"
        assert main(["keys", "new", str(key_file), "--server", live_server.url, "--token", token, "--label", "cli"]) == 0
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        capsys.readouterr()
        status = main(["act", "PUT", f"/api/proposals/{proposal.pk}/ballot", '{"choice": "no"}',
                       "--server", live_server.url, "--key", str(key_file), "--token", token])
        out = capsys.readouterr().out
        assert status == 0, out
        assert json.loads(out)["choice"] == "no"
        assert proposal.ballots.get(voter=voter).choice == "no"
        # A key file of someone else's making: the server refuses, and the client says so.
        other = tmp_path / "other.key"
        assert main(["keys", "new", str(other)]) == 0
        capsys.readouterr()
        status = main(["act", "PUT", f"/api/proposals/{proposal.pk}/ballot", '{"choice": "yes"}',
                       "--server", live_server.url, "--key", str(other), "--token", token])
        assert status == 1
        assert proposal.ballots.get(voter=voter).choice == "no"
    finally:
        signing.install_keyring(previous)
