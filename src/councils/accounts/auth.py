"""How the API knows who is asking: a personal token (``Authorization: Bearer cnc_...``) or the browser's session
(with its CSRF token). Reading is open to anyone, as the record is public; every act needs a member."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from councils.accounts.services import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


token_auth = TokenAuth()


class SessionAuth(APIKeyCookie):
    """A logged-in browser's session, with its CSRF token. Unlike ninja's ``django_auth`` it checks CSRF only for
    a request that is in fact a logged-in session's and sends no token: a client that sent no credentials or a
    wrong token is told 401 (authenticate), not 403 "CSRF check failed", which would send it looking for a
    cookie it never needed."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest):
        if "Authorization" in request.headers or not request.user.is_authenticated:
            return None
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, _("CSRF check failed: a logged-in browser's write needs its CSRF token (X-CSRFToken)."))
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key):
        return request.user if key and request.user.is_authenticated else None


session_auth = SessionAuth()


class BrowserOnly(SessionAuth):
    """Operations only a logged-in person may do, never a token (making and revoking tokens: a stolen token must not
    mint others). A valid token here is a member who may not act: 403, not 401."""

    def _get_key(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and user_for_token(header[len("Bearer "):].strip()) is not None:
            raise HttpError(403, _("A token cannot manage tokens: do it on your profile page, logged in."))
        return super()._get_key(request)


browser_only_auth = BrowserOnly()


class Anonymous:
    """Reading is open to all; a token or session, when given, shows the reader's own drafts too."""

    def __call__(self, request):
        return request.user if request.user.is_authenticated else AnonymousUser()


# Acts: a token or a logged-in browser session (the session path checks CSRF).
member_auth = [token_auth, session_auth]
optional_auth = [token_auth, Anonymous()]
