"""The JSON API under /api/, assembled from each app's router.

Authentication: a personal token (``Authorization: Bearer cnc_...``) or the
browser's session (with its CSRF token). Reading is open to anyone, as the
record is public; every act needs a member.
"""

from __future__ import annotations

import math
import threading

from django.conf import settings
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.throttling import SimpleRateThrottle


from councils.errors import CouncilsError, SignatureRequired


class _Throttle(SimpleRateThrottle):
    """ninja's sliding window, with the rate read from the settings at each request and the
    request's state kept in locals: ninja keeps it on the instance, which all of a worker's
    threads share, so two requests at once could write to each other's bucket."""

    def __init__(self):
        self._local = threading.local()
        super().__init__(rate=settings.COUNCILS_API_RATES[self.scope])

    def allow_request(self, request) -> bool:
        key = self.get_cache_key(request)
        if key is None:
            return True
        count, duration = self.parse_rate(settings.COUNCILS_API_RATES[self.scope])
        now = self.timer()
        history = [moment for moment in self.cache.get(key, []) if moment > now - duration]
        if len(history) >= count:
            self._local.wait = duration - (now - history[-1])
            return False
        history.insert(0, now)
        self.cache.set(key, history, duration)
        return True

    def wait(self):
        return getattr(self._local, "wait", None)


class MemberThrottle(_Throttle):
    """Each member's requests, by token or session: ``COUNCILS_API_RATE_MEMBER`` (default 1200/min)."""

    scope = "member"

    def get_cache_key(self, request):
        user = getattr(request, "auth", None)
        if not getattr(user, "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class AddressThrottle(_Throttle):
    """Requests from one address without a member (``COUNCILS_API_RATE_ANONYMOUS``, default 1200/min).

    The address is the connection's, or the one ``COUNCILS_PROXIES`` trusted proxies
    put in X-Forwarded-For: a client cannot choose its own bucket. The counts are kept
    in Django's cache, per worker process unless a shared cache is configured.
    """

    scope = "anonymous"

    def get_cache_key(self, request):
        if getattr(getattr(request, "auth", None), "is_authenticated", False):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


_address_throttle = AddressThrottle()

class CouncilsAPI(NinjaAPI):
    """The API, whose document also lists the answers every operation can give besides its own:
    422 for input that breaks the schema (ninja's list of errors, or a rule's message and field),
    400 for a body that is not JSON or a control character in the address or text, 413 for a body over the size limit, 403 for a browser session's write without its CSRF token,
    and 429 when throttled. Without them a client, or schemathesis, meets undocumented answers."""

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.setdefault("Message", {"title": "Message", "type": "object", "required": ["detail"],
                                          "properties": {"detail": {"title": "Detail", "type": "string"}}})
        components.setdefault("FieldError", {"title": "FieldError", "type": "object", "required": ["detail"], "properties": {
            "detail": {"title": "Detail", "type": "string"},
            "field": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None, "title": "Field"}}})
        components.setdefault("SignatureRequired", {"title": "SignatureRequired", "type": "object",
                                                    "required": ["detail", "statement"], "properties": {
            "detail": {"type": "string"}, "statement": {"type": "string"}, "held_by_server": {"type": "boolean"}}})
        components["InputErrors"] = {"title": "InputErrors", "type": "object", "required": ["detail"], "properties": {
            "detail": {"type": "array", "items": {"type": "object", "properties": {
                "loc": {"type": "array"}, "msg": {"type": "string"}, "type": {"type": "string"}}}}}}

        def answer(description, *names):
            refs = [{"$ref": f"#/components/schemas/{name}"} for name in names]
            return {"description": description,
                    "content": {"application/json": {"schema": refs[0] if len(refs) == 1 else {"anyOf": refs}}}}

        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                responses = operation["responses"] = {str(code): value for code, value in operation.get("responses", {}).items()}
                responses["422"] = answer("Invalid input", "FieldError", "InputErrors")
                responses.setdefault("429", answer("Too many requests", "Message"))
                # Refused before any view (web.middleware.HostileInputMiddleware): a control character in the
                # address, the query or the body's text; and a body over the size limit.
                responses.setdefault("400", answer("A control character in the address or text, or a body that is not JSON",
                                                   "FieldError"))
                if "requestBody" in operation:
                    responses.setdefault("413", answer("The body is larger than the limit", "Message"))
                if method not in ("get", "head", "options") and not path.startswith(("/api/me", "/api/members/me", "/api/record/")):
                    # Every act of a member is signed (docs/api.md "Signed acts"): unsigned, it answers 428 with the
                    # statement to sign; a malformed or replayed statement 400 or 409, a wrong key 403.
                    responses.setdefault("428", answer("The act must be signed with the member's key: sign the statement "
                                                       "and send the act again (Councils-Statement, Councils-Signature)",
                                                       "SignatureRequired"))
                session = any("SessionAuth" in requirement for requirement in operation.get("security", []))
                if session and method not in ("get", "head", "options"):
                    responses.setdefault("403", answer("Not allowed (or a session's write without its CSRF token)", "Message"))
        return schema


api = CouncilsAPI(
    title="Councils API",
    version="1",
    description="Councils, members, proposals, ballots, decisions and the public record. "
    "Authenticate with a personal token from your profile page: `Authorization: Bearer <token>`.",
    urls_namespace="api",
    throttle=[MemberThrottle(), _address_throttle],
)


@api.exception_handler(CouncilsError)
def domain_error(request, exc: CouncilsError):
    body = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    if getattr(exc, "location", ""):
        body["location"] = exc.location  # a council that moved: where it is now
    if isinstance(exc, SignatureRequired):
        body["statement"] = exc.statement
        body["held_by_server"] = exc.held_by_server
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(Throttled)
def throttled(request, exc: Throttled):
    response = api.create_response(request, {"detail": gettext("Too many requests: slow down and try again shortly.")}, status=429)
    # RFC 9110: the seconds to wait, rounded up, so a client that honours it is not refused again.
    response["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
    return response


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    # Failed authentications count against the address, so guessing tokens is throttled too.
    request.auth = None
    if not _address_throttle.allow_request(request):
        return throttled(request, Throttled(wait=_address_throttle.wait()))
    if "Authorization" in request.headers:
        detail = gettext("The token is missing, wrong or revoked: send a personal token from your profile as "
                         "'Authorization: Bearer <token>'.")
        challenge = 'Bearer realm="councils", error="invalid_token"'
    else:
        detail = gettext("Authentication required: send a personal token as 'Authorization: Bearer <token>' or log in.")
        challenge = 'Bearer realm="councils"'
    response = api.create_response(request, {"detail": detail}, status=401)
    # RFC 6750: a 401 says how to authenticate.
    response["WWW-Authenticate"] = challenge
    return response


def _register():
    from councils.accounts.api import router as accounts_router
    from councils.assemblies.api import router as assemblies_router
    from councils.decisions.api import router as decisions_router

    api.add_router("/", accounts_router)
    api.add_router("/", assemblies_router)
    api.add_router("/", decisions_router)
    api.add_router("/", "councils.record.api.router")
    api.add_router("/", __import__("councils.federation.api", fromlist=["router"]).router)
    api.add_router("/", "councils.federation.congress_api.router")
    api.add_router("/", "councils.economy.api.router")


_register()
