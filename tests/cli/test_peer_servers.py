"""Two real servers on 127.0.0.1 (two data folders, two ports, real HTTP): each operator adds the other as a peer,
a signed message goes across and is accepted; an unsigned one and one from a server that is not a peer are refused."""

import os
import subprocess

import httpx

from tests.cli.test_serve import councils_command, free_port, stop, wait_until_up


def _env(data, port):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(COUNCILS_DATA=str(data), COUNCILS_SITE_URL=f"http://127.0.0.1:{port}",
               COUNCILS_SERVER_NAME=f"{data.name}.test")
    return env


def _serve(data, port):
    return subprocess.Popen([*councils_command(), "serve", "--port", str(port), "--workers", "1", "--no-worker"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(data, port),
                            start_new_session=True)


def _peer(data, port, *args):
    return subprocess.run([*councils_command(), "peer", *args], capture_output=True, text=True, env=_env(data, port), check=False,
                          timeout=120)


def test_two_servers_pin_each_others_keys_and_exchange_a_signed_message(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    pa, pb, pc = free_port(), free_port(), free_port()
    server_a, server_b = _serve(a, pa), _serve(b, pb)
    try:
        wait_until_up(server_a, f"http://127.0.0.1:{pa}/", timeout=120)
        wait_until_up(server_b, f"http://127.0.0.1:{pb}/", timeout=120)
        document = httpx.get(f"http://127.0.0.1:{pb}/.well-known/councils-server").json()
        assert document["name"] == "b.test" and document["vkey"].startswith("b.test+")

        added = _peer(a, pa, "add", f"http://127.0.0.1:{pb}")
        assert added.returncode == 0 and document["vkey"] in added.stdout and "Trust on first use" in added.stdout
        assert _peer(b, pb, "add", f"http://127.0.0.1:{pa}").returncode == 0

        ping = _peer(a, pa, "ping", "b.test")
        assert ping.returncode == 0 and ping.stdout.startswith("delivered"), ping.stdout + ping.stderr

        unsigned = httpx.post(f"http://127.0.0.1:{pb}/api/federation/inbox", content=b"{}",
                              headers={"Content-Type": "application/json"})
        assert unsigned.status_code == 401 and unsigned.json()["code"] == "unsigned"

        # C pins B's key, but B's operator never added C: B refuses, C keeps the message and will retry.
        assert _peer(c, pc, "add", f"http://127.0.0.1:{pb}").returncode == 0
        stranger = _peer(c, pc, "ping", "b.test")
        assert stranger.returncode == 1 and "403" in stranger.stdout and "not a server this one knows" in stranger.stdout

        wrong = _peer(a, pa, "add", "http://127.0.0.1:1")  # nobody there: a clear message, not a traceback
        assert wrong.returncode == 2 and "could not read" in wrong.stderr and "Traceback" not in wrong.stderr
        assert "b.test" in httpx.get(f"http://127.0.0.1:{pa}/servers/").text
    finally:
        stop(server_a)
        stop(server_b)
