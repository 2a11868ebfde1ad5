"""How the API knows who is asking: a personal token (``Authorization: Bearer cnc_...``) or the browser's session
(with its CSRF token). Reading is open to anyone, as the record is public; every act needs a member."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from ninja.security import HttpBearer, django_auth

from councils.accounts.services import user_for_token


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
