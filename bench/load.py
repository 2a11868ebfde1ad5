"""Load benchmark: ballots per second through `councils serve`, with nothing lost and nothing doubled.

    python bench/load.py                       # PostgreSQL (a throw-away cluster of its own) and SQLite
    python bench/load.py --db postgres --members 1000 --clients 64 --seconds 30 --workers 4 --threads 8

For each database it starts `councils serve` (several gunicorn worker processes, as in production) on
a fresh data folder, creates a council of --members members with a personal API token each, opens a
yes/no vote and a ranked (Schulze) vote, and from this process drives --clients concurrent asyncio
clients (httpx) that cast, change and re-cast ballots for --seconds seconds. Each member has an Ed25519 key of
its own, made and registered at set-up (not timed); each ballot carries the member's signature on the statement
the server expects (Councils-Statement / Councils-Signature, built here as the server builds it: docs/api.md,
"Signed acts"), so the timed path includes the server's signature check. Every request carries an
Idempotency-Key; a request that fails (connection lost, 5xx) is retried with the same key until it is
acknowledged, and now and then an acknowledged request is sent again on purpose, as a client that lost
the answer would. Then it checks, in the database, that

  * every member's ballot is the one their last acknowledged request cast (0 lost),
  * every acknowledged request was applied exactly once: one stored key, and one record entry per
    change of ballot, no more (0 doubled),
  * `councils verify` passes (no half-written act, no edit behind the record's back),

and prints ballots per second, p50/p95/p99 latency, and the ratio to the database's own ceiling:
pgbench's simple-insert rate (one-row INSERT transactions, same client count) on the same machine
in the same run. For SQLite the ceiling is measured the same way with Python's sqlite3 module.

The same harness drives the fault tests (tests/reliability/test_faults.py): they kill the server, or
the database, in the middle of the load, restart it, and run the same checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

# --------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def councils_command() -> list[str]:
    script = Path(sys.executable).with_name("councils")
    return [str(script)] if script.exists() else [sys.executable, "-m", "councils.cli"]


def server_env(data: Path, database_url: str | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["COUNCILS_DATA"] = str(data)
    env["DJANGO_SETTINGS_MODULE"] = "councils.settings"
    if database_url:
        env["DATABASE_URL"] = database_url
    # The load is many members from one address: keep the throttles out of the measurement.
    env.setdefault("COUNCILS_API_RATE_MEMBER", "100000/min")
    env.setdefault("COUNCILS_API_RATE_ANONYMOUS", "100000/min")
    env.update(extra)
    return env


class Server:
    """`councils serve` as a subprocess in its own session, so that it and its workers can be killed at once."""

    def __init__(self, data: Path, port: int, env: dict, workers: int = 2, threads: int = 4):
        self.data, self.port, self.env, self.workers, self.threads = data, port, env, workers, threads
        self.proc: subprocess.Popen | None = None
        self.started: list[subprocess.Popen] = []  # every start, so that stop() leaves nothing behind
        self.log = data.parent / f"serve-{port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> None:
        import httpx

        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [*councils_command(), "serve", "--port", str(self.port), "--workers", str(self.workers),
                 "--threads", str(self.threads)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True,
            )
        self.started.append(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"councils serve exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/api/councils", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"councils serve did not answer in {timeout} s: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to the master and every worker: no graceful anything."""
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM to every server this object started (gunicorn stops its workers), then SIGKILL to
        whatever of their process groups is left: a worker outliving its master must not stay behind."""
        for proc in self.started:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if proc.poll() is None:
                proc.wait(10)


def session_cpu(session: int) -> float | None:
    """CPU seconds (user + system) used so far by the live processes of a session (the server and its workers), from
    /proc; None where there is no /proc."""
    if not Path("/proc/self/stat").exists():
        return None
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def postgres_bin() -> Path | None:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


class PostgresCluster:
    """A throw-away PostgreSQL cluster in a temporary folder, on its own port: never the machine's own."""

    def __init__(self, root: Path):
        self.bin = postgres_bin()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.user = None if os.geteuid() != 0 else "postgres"  # initdb refuses to run as root

    def _run(self, *args, check=True):
        command = [str(a) for a in args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(self.root, self.user)
            os.chmod(self.root, 0o755)
        self._run(self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\nmax_connections = 200\nshared_buffers = 256MB\nfsync = on\nsynchronous_commit = on\n")

    def start(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.root / "pg.log", "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1", "start")

    def crash(self) -> None:
        """Stop at once, as a power cut would: in-flight transactions are lost, committed ones recovered."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False)

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop", check=False)


# --------------------------------------------------------------------------------------------- set-up and checks
# Run in a subprocess with the server's environment (its database), so that this process needs no Django.

SETUP = r"""
import json, sys, hashlib, secrets
from datetime import timedelta
import django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from councils import clock
from councils.accounts import signing
from councils.accounts.models import ApiToken
from councils.assemblies.services import create_council, _admit
from councils.decisions.services import create_proposal
from councils.record import statement as st

n = int(sys.argv[1])
User = get_user_model()
now = clock.now()
tag = secrets.token_hex(3)
users = [User(username=f"load-{tag}-{i}") for i in range(n)]
for user in users:
    user.set_unusable_password()
User.objects.bulk_create(users)
users = list(User.objects.filter(username__startswith=f"load-{tag}-").order_by("pk"))
founder = users[0]
# Each member's own key, made as their client would make it and registered through the service with its proof of
# possession (the key.register statement signed by the key itself), as POST /api/members/me/keys does.
private = {u.pk: st.generate_private_key() for u in users}
key_ids = {}
for user in users:
    public = st.encode_public_key(st.public_key_of(private[user.pk]))
    signed = st.sign_statement(signing.registration_statement(public, "load", clock.now()), private[user.pk])
    key_ids[user.pk] = signing.register_key(user, public, "load", statement=signed.statement,
                                            signature=st.encode_signature(signed.signature)).key_id


class MembersOwnKeys(signing.Keyring):
    # The set-up's own acts (founding, admissions, the votes) are signed with the members' registered keys.
    def private_key_for(self, user):
        return private.get(user.pk)


signing.install_keyring(MembersOwnKeys())
# Votes open at once under load: the council's charter says so (the default charter asks for days of deliberation).
council = create_council(founder, name=f"Load council {tag}", kind="workplace",
                         charter={"min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0)})
with transaction.atomic():
    for user in users[1:]:
        _admit(council, user, now, actor=user, how="load set-up")
raw = {u.pk: "cnc_" + secrets.token_urlsafe(32) for u in users}
ApiToken.objects.bulk_create([ApiToken(user=u, name="load", prefix=raw[u.pk][:10], digest=ApiToken.digest_of(raw[u.pk]),
                                       created_at=now) for u in users])
now = clock.now()  # admitting a thousand members takes a while on a busy machine: the votes open from now
yes_no = create_proposal(founder, council, title="A yes/no vote under load", deliberation_ends=now,
                         voting_ends=now + timedelta(days=1))
ranked = create_proposal(founder, council, title="A ranked vote under load", deliberation_ends=now,
                         voting_ends=now + timedelta(days=1), decision_method="schulze",
                         options=["North", "South", "East", "West"])
print(json.dumps({"members": [[u.username, raw[u.pk], st.b64url(private[u.pk]), key_ids[u.pk]] for u in users],
                  "yes_no": yes_no.pk, "ranked": ranked.pk, "council": council.slug,
                  "options": list(ranked.options.order_by("pk").values_list("pk", flat=True))}))
"""

CHECK = r"""
import json, sys
from collections import Counter
import django
django.setup()
from councils.accounts.models import IdempotencyKey
from councils.decisions.models import Ballot
from councils.record.models import RecordEntry

proposals = json.loads(sys.argv[1])
ballots = {}
entries = Counter()
for ballot in Ballot.objects.filter(proposal_id__in=proposals).select_related("voter"):
    ballots[f"{ballot.voter.username}|{ballot.proposal_id}"] = {"choice": ballot.choice, "content": ballot.content,
                                                                 "subject": ballot.subject}
subjects = {b["subject"]: key for key, b in ballots.items()}
for subject, in RecordEntry.objects.filter(subject__in=list(subjects), kind__in=["ballot.cast", "ballot.changed"]).values_list("subject"):
    entries[subjects[subject]] += 1
keys = list(IdempotencyKey.objects.filter(user__username__startswith="load-").values_list("user__username", "key", "status"))
print(json.dumps({"ballots": ballots, "entries": entries, "keys": keys}))
"""


PROBE = r"""
import json, sys, time, uuid, random
import django
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

world = json.loads(sys.stdin.read()); n = int(sys.argv[1])
sys.path.insert(0, sys.argv[2])
from load import signed_headers  # the load's client: the member signs the statement the server expects
client, rng = Client(), random.Random(7)
def prepare(i):
    # Outside the timed part: the member's client builds and signs the statement (the server only checks it).
    member = world["members"][i % len(world["members"])]
    proposal = rng.choice([world["yes_no"], world["ranked"]])
    body = {"choice": rng.choice(["yes", "no", "abstain"])} if proposal == world["yes_no"] else {"ranking": rng.sample(world["options"], len(world["options"]))}
    headers = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in signed_headers(world, member, proposal, body).items()}
    return proposal, body, headers
def cast(request):
    proposal, body, headers = request
    answer = client.put(f"/api/proposals/{proposal}/ballot", data=json.dumps(body), content_type="application/json",
                        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, SERVER_NAME="127.0.0.1", **headers)
    assert answer.status_code == 200, answer.content
for i in range(20):
    cast(prepare(i))
best = None
with CaptureQueriesContext(connection) as queries:
    for batch in range(3):  # the quickest of three batches: other processes on a shared machine only slow one down
        requests = [prepare(i) for i in range(n)]
        began = time.process_time()
        for request in requests:
            cast(request)
        took = (time.process_time() - began) / n
        best = took if best is None else min(best, took)
statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
data = sum(1 for s in statements if s in ("SELECT", "INSERT", "UPDATE", "DELETE"))
# Ballots that changed (the others are the member's ballot again: answered without a new act, so nothing to check)
checked = sum(1 for q in queries.captured_queries if q["sql"].upper().startswith("INSERT") and "ACCEPTEDSTATEMENT" in q["sql"].upper())
print(json.dumps({"cpu_ms": best * 1000, "statements": len(statements) / (3 * n), "data_statements": data / (3 * n),
                  "signature_checked": checked / (3 * n)}))
"""


def run_django(script: str, env: dict, *args: str, timeout: float = 300, stdin: str | None = None) -> dict:
    result = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, timeout=timeout,
                            input=stdin)
    if result.returncode:
        raise RuntimeError(f"set-up or check failed: {result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def verify(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([*councils_command(), "verify"], env=env, capture_output=True, text=True, timeout=300)


# --------------------------------------------------------------------------------------------- the clients


def ballot_statement(world: dict, member: list, proposal: int, body: dict, at: datetime | None = None):
    """The statement the server expects for this ballot (accounts.signing.member_act for act "ballot.cast", content
    decisions.services.ballot_content), built by the member's client."""
    from councils.record import statement as st

    if "ranking" in body:
        content = {"choice": "", "content": [[option] for option in body["ranking"]], "reason": ""}
    else:
        content = {"choice": body["choice"], "content": None, "reason": (body.get("reason") or "").strip()}
    return st.Statement(act="ballot.cast", council=world["council"], object=f"proposal:{proposal}",
                        at=st.format_time(at or datetime.now(UTC)), key=member[3], content=content)


def signed_headers(world: dict, member: list, proposal: int, body: dict) -> dict:
    """The headers of a signed ballot: the member's token, key, statement and Ed25519 signature (made here)."""
    from councils.record import statement as st

    signed = st.sign_statement(ballot_statement(world, member, proposal, body), st._unb64url(member[2], 32, "private key"))
    return {"Authorization": f"Bearer {member[1]}", "Councils-Key": member[3],
            "Councils-Statement": st.b64url(signed.statement), "Councils-Signature": st.encode_signature(signed.signature)}


@dataclass
class Sent:
    member: str
    proposal: int
    key: str
    body: dict
    answer: dict | None = None
    acknowledged: bool = False
    attempts: int = 0
    headers: dict = field(default_factory=dict)  # token and signature: a retry sends the very same signed statement


@dataclass
class Load:
    world: dict
    base_url: str
    clients: int
    seconds: float
    retry_for: float = 60.0  # how long after the end a client keeps retrying its last unacknowledged request
    resend_share: float = 0.03  # acknowledged requests sent again on purpose, as after a lost answer
    keys: bool = True  # --no-keys: measure what idempotency costs (no resends then: they would count twice)
    seed: int = 1
    sent: list[Sent] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: dict = field(default_factory=dict)
    replays_seen: int = 0
    resends_replayed: int = 0
    resends: int = 0
    started: float = 0.0
    finished: float = 0.0

    def ballot(self, rng: random.Random, proposal: int) -> dict:
        if proposal == self.world["yes_no"]:
            return {"choice": rng.choice(["yes", "no", "abstain"])}
        ranking = list(self.world["options"])
        rng.shuffle(ranking)
        return {"ranking": ranking}

    async def send(self, client, sent: Sent, deadline: float) -> bool:
        """Send until acknowledged (2xx) or refused (4xx), retrying transport errors and 5xx with the same key."""
        import httpx

        delay = 0.05
        while True:
            sent.attempts += 1
            began = time.perf_counter()
            try:
                headers = dict(sent.headers)
                if self.keys:
                    headers["Idempotency-Key"] = sent.key
                response = await client.put(f"/api/proposals/{sent.proposal}/ballot", json=sent.body, headers=headers)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                name = type(exc).__name__
                self.errors[name] = self.errors.get(name, 0) + 1
            else:
                if 200 <= response.status_code < 300:
                    self.latencies.append(time.perf_counter() - began)
                    if response.headers.get("Idempotent-Replayed") == "true":
                        self.replays_seen += 1
                    sent.answer, sent.acknowledged = response.json(), True
                    return True
                name = f"HTTP {response.status_code}"
                self.errors[name] = self.errors.get(name, 0) + 1
                if response.status_code < 500 and response.status_code != 429:
                    sent.answer = {"refused": response.status_code, "body": response.text[:300]}
                    return False
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def client(self, index: int, members: list[tuple[str, str]]) -> None:
        import httpx

        rng = random.Random(self.seed * 100_003 + index)
        proposals = [self.world["yes_no"], self.world["ranked"]]
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(30.0), limits=limits) as client:
            turn = 0
            while time.monotonic() < self.end:
                member = members[turn % len(members)]
                turn += 1
                proposal = rng.choice(proposals)
                body = self.ballot(rng, proposal)
                sent = Sent(member[0], proposal, f"{member[0]}-{proposal}-{uuid.uuid4().hex}", body,
                            headers=signed_headers(self.world, member, proposal, body))
                self.sent.append(sent)
                if not await self.send(client, sent, self.end + self.retry_for):
                    continue
                if self.keys and rng.random() < self.resend_share:
                    # The answer "was lost": the same request again. It must be answered the same and change nothing.
                    self.resends += 1
                    again = Sent(member[0], proposal, sent.key, sent.body, headers=sent.headers)
                    if await self.send(client, again, self.end + self.retry_for):
                        self.resends_replayed += again.answer == sent.answer
                        self.latencies.pop()  # not a new ballot

    async def calibrate(self) -> None:
        """Before the clock starts: one unsigned ballot per vote, whose 428 must carry the very statement the
        clients build (all but its time): a client that signed something else would measure only refusals."""
        import httpx

        from councils.record import statement as st

        member = self.world["members"][0]
        async with httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(60.0)) as client:
            for proposal in (self.world["yes_no"], self.world["ranked"]):
                body = self.ballot(random.Random(proposal), proposal)
                answer = await client.put(f"/api/proposals/{proposal}/ballot", json=body,
                                          headers={"Authorization": f"Bearer {member[1]}", "Councils-Key": member[3]})
                if answer.status_code != 428:
                    raise RuntimeError(f"an unsigned ballot got HTTP {answer.status_code}, not 428: {answer.text[:300]}")
                asked = st.parse_statement(answer.json()["statement"].encode("utf-8"))
                mine = ballot_statement(self.world, member, proposal, body, at=asked.time())
                if mine.canonical() != answer.json()["statement"].encode("utf-8"):
                    raise RuntimeError(f"the client's statement {mine.canonical()!r} is not the server's {answer.json()['statement']!r}")

    async def run(self) -> None:
        await self.calibrate()
        members = self.world["members"]
        shares = [members[i::self.clients] for i in range(self.clients)]
        self.started = time.monotonic()
        self.end = self.started + self.seconds
        await asyncio.gather(*(self.client(i, share) for i, share in enumerate(shares) if share))
        self.finished = time.monotonic()

    # ----- after the run

    def check(self, found: dict) -> dict:
        """Compare what the clients were told with what the database holds."""
        last: dict[str, Sent] = {}
        expected_entries: dict[str, int] = {}
        previous: dict[str, str] = {}
        unresolved = refused = 0
        acknowledged_keys = set()
        for sent in self.sent:  # in each member's own order: a member's requests are sent one after another
            where = f"{sent.member}|{sent.proposal}"
            if not sent.acknowledged:
                unresolved += sent.answer is None
                refused += sent.answer is not None
                continue
            if self.keys:
                acknowledged_keys.add((sent.member, sent.key))
            last[where] = sent
            content = json.dumps(sent.body, sort_keys=True)
            if previous.get(where) != content:
                expected_entries[where] = expected_entries.get(where, 0) + 1
                previous[where] = content
        lost = doubled = 0
        problems = []
        for where, sent in last.items():
            stored = found["ballots"].get(where)
            if stored is None or stored["choice"] != sent.answer["choice"] or stored["content"] != sent.answer["content"]:
                lost += 1
                problems.append(f"{where}: acknowledged {sent.answer} but the database holds {stored}")
        for where, count in found["entries"].items():
            if count > expected_entries.get(where, 0):
                doubled += count - expected_entries.get(where, 0)
                problems.append(f"{where}: {count} record entries for {expected_entries.get(where, 0)} acknowledged changes")
            elif count < expected_entries.get(where, 0):
                lost += expected_entries[where] - count
                problems.append(f"{where}: {count} record entries for {expected_entries[where]} acknowledged changes")
        stored_keys = {(user, key) for user, key, _ in found["keys"]}
        missing_keys = acknowledged_keys - stored_keys
        lost += len(missing_keys)
        problems += [f"acknowledged key {key} of {user} not stored" for user, key in sorted(missing_keys)[:5]]
        ballots = len(self.latencies)
        elapsed = max(self.finished - self.started, 1e-9)
        quantiles = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0.0] * 99
        return {
            "acknowledged": ballots, "per_second": ballots / min(elapsed, self.seconds + 1e-9) if elapsed else 0.0,
            "p50_ms": quantiles[49] * 1000, "p95_ms": quantiles[94] * 1000, "p99_ms": quantiles[98] * 1000,
            "lost": lost, "doubled": doubled, "unresolved": unresolved, "refused": refused,
            "retries": sum(s.attempts - 1 for s in self.sent), "replays": self.replays_seen,
            "resends": self.resends, "resends_replayed": self.resends_replayed, "errors": dict(self.errors),
            "problems": problems[:10],
        }


# --------------------------------------------------------------------------------------------- database ceilings


def pgbench_inserts(url_host: str, port: int, clients: int, seconds: int, user: str | None) -> float | None:
    """pgbench's rate of one-row INSERT transactions with as many clients as the load: the database's ceiling."""
    pgbench = shutil.which("pgbench") or (str(postgres_bin() / "pgbench") if postgres_bin() and (postgres_bin() / "pgbench").exists() else None)
    psql = shutil.which("psql")
    if not pgbench or not psql:
        return None
    base = ["-h", url_host, "-p", str(port), "-U", "postgres", "postgres"]
    subprocess.run([psql, *base, "-qc", "DROP TABLE IF EXISTS bench_insert; CREATE TABLE bench_insert "
                    "(id bigserial primary key, member int, choice text, at timestamptz default now())"],
                   check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("\\set m random(1, 1000)\nINSERT INTO bench_insert (member, choice) VALUES (:m, 'yes');\n")
    jobs = max(1, min(clients, os.cpu_count() or 1))
    result = subprocess.run([pgbench, "-n", "-f", script.name, "-c", str(clients), "-j", str(jobs), "-T", str(seconds), *base],
                            capture_output=True, text=True)
    os.unlink(script.name)
    for line in result.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    return None


def sqlite_inserts(folder: Path, seconds: float) -> float:
    """The same for SQLite in WAL mode: one-row INSERT transactions, one writer (SQLite has one at a time)."""
    path = folder / "ceiling.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE bench_insert (id integer primary key, member int, choice text)")
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO bench_insert (member, choice) VALUES (?, 'yes')", (count % 1000,))
        db.execute("COMMIT")
        count += 1
    db.close()
    return count / seconds


# --------------------------------------------------------------------------------------------- the benchmark


def configs_of(args) -> list[tuple[int, int]]:
    """--configs 2x4,3x8 (workers x threads, each run in turn on the same data), or --workers and --threads."""
    if not args.configs:
        return [(args.workers, args.threads)]
    return [tuple(int(n) for n in item.lower().split("x", 1)) for item in args.configs.split(",")]


def run_one(db: str, args, root: Path) -> list[dict]:
    """One database: the load under each server setting in turn (same data), then the checks over all of it."""
    data = root / f"data-{db}"
    cluster = None
    if db == "postgres" and not args.database_url:
        cluster = PostgresCluster(root / "pg")
        cluster.init()
        cluster.start()
    try:
        env = server_env(data, cluster.url if cluster else (args.database_url if db == "postgres" else None))
        world, runs = None, []
        for workers, threads in configs_of(args):
            server = Server(data, free_port(), env, workers=workers, threads=threads)
            server.start()
            try:
                if world is None:
                    world = run_django(SETUP, env, str(args.members))
                load = Load(world, server.url, clients=args.clients, seconds=args.seconds, seed=args.seed + len(runs),
                            keys=not args.no_keys)
                cpu_before, client_before, load_before = session_cpu(server.proc.pid), time.process_time(), load_average()
                asyncio.run(load.run())
                cpu_after, client_after = session_cpu(server.proc.pid), time.process_time()
            finally:
                server.stop()
            runs.append((workers, threads, load, cpu_before, cpu_after, client_after - client_before, load_before))
        found = run_django(CHECK, env, json.dumps([world["yes_no"], world["ranked"]]))
        # Correctness over every run together (a member's ballots follow one another across runs).
        combined = Load(world, "", clients=args.clients, seconds=args.seconds, keys=not args.no_keys)
        for load in (run[2] for run in runs):
            combined.sent += load.sent
            combined.resends += load.resends
            combined.resends_replayed += load.resends_replayed
        checked_all = combined.check(found)
        checked = verify(env)
        verdict = "passes" if checked.returncode == 0 else checked.stderr.strip()[:300]
        probe = None if args.no_probe else run_django(PROBE, env, "100", str(Path(__file__).resolve().parent),
                                                      stdin=json.dumps(world))
        if args.no_ceiling:
            ceiling = None
        elif cluster:
            ceiling = pgbench_inserts("127.0.0.1", cluster.port, args.clients, max(5, int(args.seconds // 2)), cluster.user)
        elif db == "postgres":
            ceiling = None  # an existing database (--database-url): not one to fill with a benchmark's table
        else:
            ceiling = sqlite_inserts(root, max(3.0, args.seconds / 4))
        results = []
        for workers, threads, load, cpu_before, cpu_after, client_cpu, load_before in runs:
            # Rates and latencies of this run; lost, doubled and unresolved of all runs together.
            result = load.check({"ballots": {}, "entries": {}, "keys": []})
            result.update({k: checked_all[k] for k in ("lost", "doubled", "unresolved", "problems")})
            ballots = max(result["acknowledged"], 1)
            result.update(
                db=db, workers=workers, threads=threads, verify=verdict, ceiling=ceiling, load_average=load_before,
                server_cpu_ms=None if cpu_before is None else (cpu_after - cpu_before) * 1000 / ballots,
                client_cpu_ms=client_cpu * 1000 / ballots,
                probe=probe,
            )
            results.append(result)
        return results
    finally:
        if cluster:
            cluster.stop()


def table(results: list[dict], args) -> str:
    lines = [
        f"{args.members} members; {args.clients} clients; {args.seconds:g} s per setting; {os.cpu_count()} CPUs",
        "",
        "| database | workers x threads | ballots/s | p50 ms | p95 ms | p99 ms | server CPU ms/ballot | lost | doubled | "
        "unresolved | resent (replayed) | verify | DB ceiling (1-row inserts/s) | ratio | load average before |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ceiling = r.get("ceiling")
        cpu = f"{r['server_cpu_ms']:.1f}" if r.get("server_cpu_ms") is not None else "n/a"
        lines.append(
            f"| {r['db']} | {r['workers']}x{r['threads']} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {cpu} | {r['lost']} | {r['doubled']} | {r['unresolved']} | "
            f"{r['resends']} ({r['resends_replayed']}) | {r['verify']} | "
            + (f"{ceiling:.0f} | {r['per_second'] / ceiling:.1%} |" if ceiling else "n/a | n/a |")
            + f" {r['load_average']} |"
        )
    probes = {r["db"]: r["probe"] for r in results if r.get("probe")}
    if probes:
        lines += ["", "In-process, one client, no network (the quickest of three batches of 100 ballots, this process's CPU):", "",
                  "| database | CPU ms per ballot | statements per ballot (all) | of which SELECT/INSERT/UPDATE | signatures checked per ballot |",
                  "|---|---|---|---|---|"]
        for db, probe in probes.items():
            lines.append(f"| {db} | {probe['cpu_ms']:.2f} | {probe['statements']:.1f} | {probe['data_statements']:.1f} | "
                         f"{probe.get('signature_checked', 0):.2f} |")
    for r in results:
        if r["problems"] or r["errors"]:
            lines.append(f"\n{r['db']} {r['workers']}x{r['threads']}: errors {r['errors']}; problems {r['problems']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--configs", help="server settings to run in turn on the same data, workers x threads: 2x4,3x8")
    parser.add_argument("--no-probe", action="store_true", help="skip the in-process count of statements and CPU per ballot")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-keys", action="store_true", help="send no Idempotency-Key (to measure what they cost)")
    parser.add_argument("--no-ceiling", action="store_true", help="skip the database's own insert rate")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--database-url", help="for --db postgres: an existing, empty or throw-away database "
                        "(postgres://USER@HOST:PORT/NAME) instead of a cluster of its own; no pgbench ceiling then")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="councils-load-") as folder:
        root = Path(folder)
        if os.geteuid() == 0:
            os.chmod(root, 0o755)
        for db in (["postgres", "sqlite"] if args.db == "both" else [args.db]):
            results += run_one(db, args, root)
            print(table(results, args), flush=True)
    print()
    print(table(results, args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0 if all(r["lost"] == 0 and r["doubled"] == 0 and r["verify"] == "passes" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
