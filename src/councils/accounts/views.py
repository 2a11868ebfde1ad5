from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from councils.accounts import services
from councils.accounts.forms import SignUpForm, TokenForm
from councils.errors import CouncilsError
from councils.adapters.pages import acts, form_error


def sign_up(request):
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(form.cleaned_data["username"], form.cleaned_data["password"], form.cleaned_data["email"])
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}. Join a council or found one.")
            return redirect("home")
    return render(request, "accounts/sign_up.html", {"form": form})


@login_required
def profile(request, new_token: str | None = None):
    response = render(request, "accounts/profile.html", {
        "tokens": request.user.api_tokens.all(), "form": TokenForm(), "new_token": new_token,
        "notifications_on": services.email_notifications_on(request.user),
    })
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@acts
def create_token(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the token a name.")
        return redirect("profile")
    token, raw = services.create_token(request.user, form.cleaned_data["name"])
    # Shown once, on the answer to this request, and kept nowhere: in the session it would sit in the sessions table,
    # a working credential for whoever reads the database, until the next page.
    return profile(request, new_token=raw)


@login_required
@require_POST
@acts
def revoke_token(request, token_id: int):
    token = services.revoke_token(request.user, token_id)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("profile")


@login_required
@require_POST
@acts
def end_other_sessions(request):
    ended = services.end_other_sessions(request.user, request.session.session_key)
    messages.success(request, f"Logged out of {ended} other session{'s' if ended != 1 else ''}." if ended
                     else "You had no other session.")
    return redirect("profile")


@login_required
@require_POST
@acts
def notifications(request):
    on = request.POST.get("email_notifications") == "on"
    services.set_email_notifications(request.user, on)
    messages.success(request, "Email notifications are on." if on else "Email notifications are off.")
    return redirect("profile")
