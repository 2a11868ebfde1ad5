from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_POST

from councils.accounts import services
from councils.accounts.forms import EmailForm, SignUpForm, TokenForm
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
            if form.cleaned_data["email"]:
                messages.info(request, f"We sent a link to {form.cleaned_data['email']}: follow it to confirm your address.")
            return redirect("home")
    return render(request, "accounts/sign_up.html", {"form": form})


@login_required
def profile(request, new_token: str | None = None):
    response = render(request, "accounts/profile.html", {
        "tokens": request.user.api_tokens.all(), "form": TokenForm(), "new_token": new_token,
        "notifications_on": services.email_notifications_on(request.user),
        "email_form": EmailForm(initial={"email": request.user.email}),
    })
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def change_email(request):
    form = EmailForm(request.POST)
    if form.is_valid():
        try:
            email = services.send_email_verification(request.user, form.cleaned_data["email"])
        except CouncilsError as exc:
            form_error(form, exc)
        else:
            messages.success(request, f"We sent a link to {email}. Your address changes when you follow it "
                                      f"(within {services.EMAIL_LINK_DAYS} days).")
            return redirect("profile")
    return render(request, "accounts/profile.html", {
        "tokens": request.user.api_tokens.all(), "form": TokenForm(), "email_form": form,
        "notifications_on": services.email_notifications_on(request.user),
    }, status=400)


def verify_email(request, token: str):
    try:
        user = services.verify_email(token)
    except CouncilsError as exc:
        return render(request, "accounts/email_verify_failed.html", {"message": exc.message}, status=400)
    messages.success(request, f"Your email address is now {user.email}.")
    return redirect("profile" if request.user.is_authenticated else "login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):
        response = super().form_valid(form)  # keeps this session logged in (update_session_auth_hash)
        messages.success(self.request, "Your password is changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset: a one-time link (its token dies when the password changes or the person logs in)
    sent to a verified address. The page says the same whether or not the address is known."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")

    @property
    def extra_email_context(self):
        # Links in emails point to the configured address, never to whatever Host header came in.
        return {"site_url": settings.SITE_URL.rstrip("/")}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever holds the mailbox is the owner: a lock-out from wrong guesses must not outlast their new password.
        from axes.utils import reset

        reset(username=form.user.get_username())
        return response


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked user name: when the lock lifts, and the way out through a reset."""
    from axes.helpers import get_client_username, get_cool_off
    from axes.models import AccessAttempt

    username = get_client_username(request, credentials) or ""
    cool_off = get_cool_off(request) or timedelta(0)
    attempt = AccessAttempt.objects.filter(username=username, ip_address=getattr(request, "axes_ip_address", None)).first()
    now = timezone.now()
    until = (attempt.attempt_time + cool_off) if attempt is not None else now + cool_off
    expiration = getattr(attempt, "expiration", None) if attempt is not None else None
    if expiration is not None and expiration.expires_at:
        until = max(until, expiration.expires_at)
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return render(request, "accounts/locked_out.html", {
        "username": username, "until": until, "minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT,
    }, status=429)


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


@login_required
def keys(request):
    """Your keys: the keys registered to you, revocation, and the container the browser's key script fills."""
    from django.urls import reverse

    from councils.accounts import signing

    return render(request, "accounts/keys.html", {"keys": signing.keys_of(request.user),
                                                  "register_url": reverse("api:member-keys")})


@login_required
@require_POST
@acts
def revoke_key(request, key_id: str):
    from councils.accounts import signing

    key = signing.revoke_key(request.user, key_id)
    messages.success(request, f"Key {key.key_id[:8]} revoked. Your past acts stay valid; register a new key to act again.")
    return redirect("keys")
