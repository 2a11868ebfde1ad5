"""The README's first command: ``councils serve --demo`` on a fresh data folder, twice."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def councils_command() -> list[str]:
    script = Path(sys.executable).with_name("councils")
    return [str(script)] if script.exists() else [sys.executable, "-m", "councils.cli"]


def serve(data, port):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["COUNCILS_DATA"] = str(data)
    return subprocess.Popen(
        [*councils_command(), "serve", "--demo", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )


def wait_until_up(proc, url, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read()}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    pytest.fail("server did not answer in time")


def stop(proc) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out


def test_serve_demo_answers_and_demo_logins_work_and_restart_keeps_data(tmp_path):
    data = tmp_path / "councils-data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(data, port)
    try:
        home = wait_until_up(proc, base + "/")
        assert home.status_code == 200 and "Demo Federation" in home.text
        assert (data / "councils.sqlite3").exists() and (data / "secret_key").exists()
        with httpx.Client(base_url=base) as client:
            form = client.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
            response = client.post("/login/", data={"csrfmiddlewaretoken": token, "username": "ana", "password": "solidarity-demo"},
                                   headers={"Referer": base + "/login/"}, follow_redirects=True)
            assert "Welcome, ana" in response.text
            assert "Elect a second delivery coordinator" in response.text  # an open vote waiting for her
            css = client.get(re.search(r'href="(/static/[^"]+\.css)"', response.text).group(1))
            assert css.status_code == 200
            assert client.get("/api/councils").json()[0]["name"] == "Demo Federation"
    finally:
        first_output = stop(proc)
    assert "Demo log-ins" in first_output and "ana" in first_output
    with open(data / "councils.sqlite3", "rb") as db:
        assert db.read(100)[18:20] == b"\x02\x02"  # WAL mode, from the SQLite header

    proc = serve(data, port)
    try:
        wait_until_up(proc, base + "/")
        councils = httpx.get(base + "/api/councils").json()
        assert [c["name"] for c in councils].count("Demo Federation") == 1
    finally:
        second_output = stop(proc)
    assert "already present" in second_output
    verify = subprocess.run([*councils_command(), "--data", str(data), "verify"], capture_output=True, text=True,
                            env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    assert verify.returncode == 0, verify.stderr
