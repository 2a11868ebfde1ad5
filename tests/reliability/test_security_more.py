"""Security settings, checked on what is served: every form carries its CSRF token and refuses a post
without it, every page carries the content security policy and has no inline script, members' text is
never rendered as HTML, session writes to the API need CSRF, and HTTPS deployments send HSTS and secure
cookies."""

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)><a href="javascript:alert(1)">j</a>'
SKIP = ("/static/", "/api/", "/logout/")


class Page(HTMLParser):
    """The links, the forms (method, action, fields) and the inline scripts of one page."""

    def __init__(self):
        super().__init__()
        self.links, self.forms, self.inline_scripts, self._script = [], [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and (attrs.get("href") or "").startswith("/"):
            self.links.append(attrs["href"])
        elif tag == "form":
            self.forms.append({"method": (attrs.get("method") or "get").lower(), "action": attrs.get("action") or "",
                               "fields": set()})
        elif tag in ("input", "textarea", "select", "button") and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].add(attrs["name"])
        elif tag == "script" and not attrs.get("src"):
            self._script = True
        for name, value in attrs.items():
            assert not name.startswith("on"), f"inline event handler {name}={value!r}"
            if name in ("href", "src", "action") and value:
                assert not value.strip().lower().startswith("javascript:"), value

    def handle_data(self, data):
        if self._script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = False


def crawl(client, start="/", limit=400):
    """Every page reachable by links from the home page (bounded), parsed."""
    seen, queue, pages = set(), [start], {}
    while queue and len(pages) < limit:
        url = urlsplit(queue.pop(0))._replace(fragment="").geturl()
        if url in seen or url.startswith(SKIP) or re.search(r"\.(ics|csv|soi|toi|blt|svg|json)$", url.split("?")[0]):
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        page = Page()
        page.feed(response.content.decode())
        pages[url] = (response, page)
        queue.extend(page.links)
    return pages


@pytest.fixture
def demo(clock):
    from councils.demo import load_demo

    load_demo()
    member = Client()
    member.force_login(get_user_model().objects.get(username="ana"))
    return member


def test_every_demo_page_has_the_security_policy_and_every_form_its_csrf_token(demo):
    """Each page: the content security policy, framing refused, no inline script (the policy would block it).
    Each post form: the CSRF token; and its action refuses a post without one."""
    pages = {**crawl(Client()), **crawl(demo)}
    for url, (response, page) in pages.items():
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy, url
        assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy, url
        assert page.inline_scripts == 0, f"{url} has an inline script, which the policy would block"
        assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    for extra in ("/profile/", "/councils/new/"):
        response = demo.get(extra)
        page = Page()
        page.feed(response.content.decode())
        pages[extra] = (response, page)
    assert len(pages) > 20
    actions = set()
    forms = 0
    for url, (_, page) in pages.items():
        for form in page.forms:
            if form["method"] != "post":
                continue
            forms += 1
            assert "csrfmiddlewaretoken" in form["fields"], f"a form on {url} posting to {form['action']!r} has no CSRF token"
            actions.add(form["action"] or url)
    assert forms > 20 and len(actions) > 10
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(get_user_model().objects.get(username="ana"))
    for action in sorted(actions):
        response = guarded.post(action, {"body": "no token"})
        assert response.status_code == 403, f"{action} accepted a post without the CSRF token"


def test_no_members_text_is_rendered_as_html_anywhere(clock, make_user, add_member, make_proposal):
    from datetime import timedelta

    from councils.assemblies.services import create_council
    from councils.decisions.services import add_comment, move_amendment

    founder = make_user()
    council = create_council(founder, name="Council " + EVIL[:40], kind="workplace", description=EVIL,
                             charter={"min_deliberation_period": timedelta(0), "min_voting_period": timedelta(0)})
    member = add_member(council, make_user())
    proposal = make_proposal(council, founder, title="T " + EVIL[:60], body=EVIL + "\n\n**fine**", deliberation=timedelta(hours=1),
                             options=[])
    add_comment(member, proposal, EVIL)
    move_amendment(member, proposal, passage="fine", replacement=EVIL, reason=EVIL)
    client = Client()
    client.force_login(member)
    pages = crawl(client)
    assert any(url.startswith(f"/c/{council.slug}/p/") for url in pages)
    # The crawl's parser has already refused any event handler attribute and any javascript: link.
    for url, (response, page) in pages.items():
        text = response.content.decode()
        assert "<script>alert" not in text and "<img src=x" not in text and page.inline_scripts == 0, url


def test_session_writes_to_the_api_need_the_csrf_token(clock, make_council, members_of, make_proposal):
    from datetime import timedelta

    council = make_council(members=1)
    member = members_of(council)[1]
    proposal = make_proposal(council, deliberation=timedelta(0))
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    url = f"/api/proposals/{proposal.pk}/ballot"
    refused = client.put(url, json.dumps({"choice": "yes"}), content_type="application/json")
    assert refused.status_code == 403 and refused.json()["detail"]
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    assert client.put(url, json.dumps({"choice": "yes"}), content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 200


HTTPS_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.conf import settings
settings.ALLOWED_HOSTS.append("councils.example")
client = Client(HTTP_HOST="councils.example")
plain = client.get("/login/")
secure = client.get("/login/", secure=True)
proxied = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
cookie = secure.cookies.get("csrftoken")
print(json.dumps({
    "plain_status": plain.status_code, "plain_location": plain.get("Location", ""),
    "hsts": secure.get("Strict-Transport-Security", ""), "proxied_status": proxied.status_code,
    "csrf_secure": bool(cookie and cookie["secure"]), "csrf_httponly": bool(cookie and cookie["httponly"]),
    "session_secure": settings.SESSION_COOKIE_SECURE, "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "csp": secure.get("Content-Security-Policy", ""),
}))
"""


def test_served_over_https_the_app_redirects_plain_http_and_sends_hsts_and_secure_cookies(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    # Production's settings with COUNCILS_HTTPS=1 (through the suite's module, for its static files).
    env.update(DJANGO_SETTINGS_MODULE="councils.settings_test", COUNCILS_DATA=str(tmp_path), COUNCILS_HTTPS="1")
    result = subprocess.run([sys.executable, "-c", HTTPS_PROBE], env=env, capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain_status"] == 301 and seen["plain_location"].startswith("https://councils.example/")
    assert seen["proxied_status"] == 200  # behind a proxy that says the request came over HTTPS
    assert "max-age=31536000" in seen["hsts"] and "includeSubDomains" in seen["hsts"]
    assert seen["csrf_secure"] and seen["session_secure"] and seen["session_httponly"]
    assert "script-src 'self'" in seen["csp"]
