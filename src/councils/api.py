"""The JSON API under /api/, assembled from each app's router.

Authentication: a personal token (``Authorization: Bearer cnc_...``) or the
browser's session (with its CSRF token). Reading is open to anyone, as the
record is public; every act needs a member.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from councils.accounts.services import user_for_token
from councils.errors import CouncilsError


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


token_auth = TokenAuth()


class Anonymous:
    """Reading is open to all; a token or session, when given, shows the reader's own drafts too."""

    def __call__(self, request):
        return request.user if request.user.is_authenticated else AnonymousUser()

# Acts: a token or a logged-in browser session (the session path checks CSRF).
member_auth = [token_auth, django_auth]
optional_auth = [token_auth, Anonymous()]

api = NinjaAPI(
    title="Councils API",
    version="1",
    description="Councils, members, proposals, ballots, decisions and the public record. "
    "Authenticate with a personal token from your profile page: `Authorization: Bearer <token>`.",
    urls_namespace="api",
)


@api.exception_handler(CouncilsError)
def domain_error(request, exc: CouncilsError):
    body = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, exc):
    return api.create_response(
        request, {"detail": "Authentication required: send a personal token as 'Authorization: Bearer <token>' or log in."}, status=401
    )


def _register():
    from councils.accounts.api import router as accounts_router
    from councils.assemblies.api import router as assemblies_router
    from councils.decisions.api import router as decisions_router
    from councils.record.api import router as record_router

    api.add_router("/", accounts_router)
    api.add_router("/", assemblies_router)
    api.add_router("/", decisions_router)
    api.add_router("/", record_router)


_register()
