"""Pages of a federation's congresses: the list, the congress, the projector, and the live stream of its state.

Every page is complete when rendered on the server; ``live.js`` only keeps the
current item, speaker and tally fresh by polling ``/live`` (JSON with an ETag; ``/events`` answers EventSource
clients with one event and closes): no live view holds a server thread.
There is deliberately no page, form or route to cancel or postpone a congress.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from councils import clock
from councils.assemblies.models import Council
from councils.decisions.models import Proposal
from councils.errors import Invalid
from councils.federation import congress as services
from councils.federation.models import Congress, Delegate, Petition
from councils.adapters.pages import acts
from councils.federation.models import FederationKind
from django.utils.translation import gettext as _, gettext_lazy

# How often a screen asks for the live state (EventSource's reconnection delay; live.js's polling interval).
EVENTS_RETRY_MS = 2000
LIVE_CACHE_SECONDS = 1


def _federation(slug: str) -> Council:
    federation = get_object_or_404(Council, slug=slug)
    if not federation.is_federation:
        raise Http404("not a federation")
    return federation


def _congress(slug: str, pk: int) -> Congress:
    return get_object_or_404(Congress.objects.select_related("federation", "current_item", "petition"), pk=pk,
                             federation__slug=slug)


def _url(congress: Congress, name: str = "congress") -> str:
    return reverse(name, args=[congress.federation.slug, congress.pk])


@require_GET
def congress_list(request, slug: str):
    federation = _federation(slug)
    now = clock.now()
    services.settle_congresses(federation, now)
    congresses = [{"congress": c, "state": services.congress_state(c, now)}
                  for c in Congress.objects.filter(federation=federation).order_by("-starts_at", "-pk")]
    scheduling = [{"proposal": p, "state": p.state(now)} for p in services.scheduling_proposals(federation)[:20]]
    petitions = Petition.objects.filter(federation=federation, kind__in=("convocation", "cancel_congress"))[:20]
    is_delegate = request.user.is_authenticated and Delegate.objects.filter(
        federation=federation, member=request.user, ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now).exists()
    return render(request, "federation/congress_list.html", {
        "federation": federation, "congresses": congresses, "scheduling": scheduling, "petitions": petitions,
        "is_delegate": is_delegate,
    })


def _context(request, congress: Congress) -> dict:
    now = clock.now()
    services.settle_congresses(congress.federation, now)
    congress.refresh_from_db()
    snap = services.snapshot(congress, now)
    chair = services.chair_of(congress, now)
    user = request.user
    delegate = None
    if user.is_authenticated:
        delegate = Delegate.objects.filter(federation=congress.federation, member=user, ended_at__isnull=True,
                                           starts_at__lte=now, ends_at__gt=now).first()
    agenda = services.agenda_of(congress)
    on_agenda = {i.proposal_id for i in agenda}
    candidates = [p for p in Proposal.objects.filter(
        council=congress.federation, kind__in=(FederationKind.FEDERATION_MOTION, FederationKind.COMPETENCES),
        mandate_for__isnull=True, published_at__isnull=False, withdrawn_at__isnull=True, voting_ends__gt=now,
    ).exclude(pk__in=on_agenda).order_by("-created_at")[:50]] if delegate else []
    speakers = list(congress.speakers.select_related("member", "item").order_by("requested_at", "pk"))
    minutes_vote = services.open_minutes_vote(congress, now)
    attended = delegate is not None and congress.attendance.filter(delegate=delegate).exists()
    return {
        "congress": congress, "federation": congress.federation, "snap": snap, "state": snap["state"], "now": now,
        "agenda": agenda, "candidates": candidates, "chair": chair,
        "is_chair": chair is not None and user.is_authenticated and chair.member_id == user.pk,
        "delegate": delegate, "attended": attended,
        "attendance": congress.attendance.select_related("delegate__member", "delegate__council").order_by("present_at", "pk"),
        "speakers": [{"speaker": s, "time_left": services.time_left(s, now)} for s in speakers],
        "chart": services.tally_chart(snap["tally"]),
        "minutes_vote": minutes_vote,
        "minutes_votes": [{"proposal": p, "state": p.state(now)} for p in services.minutes_votes(congress)],
        "events_url": _url(congress, "congress-events"),
        "live_url": _url(congress, "congress-live"),
    }


@require_GET
def congress_detail(request, slug: str, pk: int):
    congress = _congress(slug, pk)
    return render(request, "federation/congress_detail.html", _context(request, congress))


@require_GET
def congress_projector(request, slug: str, pk: int):
    congress = _congress(slug, pk)
    return render(request, "federation/congress_projector.html", _context(request, congress))


def _event(data: dict) -> str:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"


def _live_state(slug: str, pk: int) -> dict:
    congress = _congress(slug, pk)

    def state():
        data = services.snapshot(congress, clock.now())
        data["chart"] = services.tally_chart(data["tally"])
        return data

    # A hall full of screens asks for the same state: each process works it out at most once a second.
    seconds = getattr(settings, "COUNCILS_LIVE_CACHE_SECONDS", LIVE_CACHE_SECONDS)
    return cache.get_or_set(f"congress-live:{congress.pk}", state, seconds) if seconds else state()


@require_GET
def congress_live(request, slug: str, pk: int):
    """The live state as JSON, for polling: the current item, speaker and tally.

    Live updates hold no thread: each poll is one short request, and an unchanged state answers ``304 Not Modified``
    to a poller that sends back the ``ETag`` it was given (browsers do so by themselves with ``cache: "no-cache"``).
    Before, a server-sent events stream held a worker thread for two minutes; sixteen anonymous streams stalled the
    whole site. Polls are cheap, so a screen polling every two seconds costs what a reader clicking would.
    """
    data = _live_state(slug, pk)
    body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    # The tag leaves out the server's clock: a state in which only "now" moved is not a change worth sending.
    tagged = json.dumps({k: v for k, v in data.items() if k != "now"}, separators=(",", ":"), sort_keys=True).encode()
    etag = '"' + hashlib.sha256(tagged).hexdigest()[:32] + '"'
    if etag in [tag.strip() for tag in request.META.get("HTTP_IF_NONE_MATCH", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def congress_events(request, slug: str, pk: int):
    """Server-sent events, for EventSource clients: one event with the current state, and the stream ends at once.

    ``retry`` tells the browser to reconnect after ``EVENTS_RETRY_MS``: the stream is a poll, never a held thread.
    """
    body = f"retry: {EVENTS_RETRY_MS}\n" + _event(_live_state(slug, pk))
    response = StreamingHttpResponse(iter([body]), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


# ----- acts -------------------------------------------------------------------------------------------


def _post_act(act, success: str):
    @login_required
    @require_POST
    @acts
    def view(request, slug: str, pk: int):
        congress = _congress(slug, pk)
        message = act(request, congress)
        messages.success(request, message or success)
        return redirect(_url(congress))

    return view


def _proposal_from_post(request, congress: Congress, field: str = "proposal") -> Proposal | None:
    raw = request.POST.get(field, "")
    if not raw:
        return None
    try:
        return Proposal.objects.get(pk=int(raw), council=congress.federation)
    except (ValueError, Proposal.DoesNotExist):
        raise Invalid(_("no such proposal of this federation"), field=field) from None


def _add_to_agenda(request, congress):
    proposal = _proposal_from_post(request, congress)
    if proposal is None:
        raise Invalid(_("choose a proposal"), field="proposal")
    services.add_to_agenda(request.user, congress, proposal)


def _advance(request, congress):
    services.advance_agenda(request.user, congress, _proposal_from_post(request, congress))


def _speak(request, congress):
    services.request_to_speak(request.user, congress, _proposal_from_post(request, congress, "item"))


def _next_speaker(request, congress):
    raw = request.POST.get("limit_seconds", "")
    try:
        limit = int(raw) if raw else None
    except ValueError:
        raise Invalid(_("speaking time is a number of seconds"), field="limit_seconds") from None
    speaker = services.next_speaker(request.user, congress, limit_seconds=limit)
    return f"{speaker.member.username} has the floor." if speaker else "Nobody else is waiting to speak on this item."


def _minutes(request, congress):
    services.write_minutes(request.user, congress, request.POST.get("minutes", ""))


def _submit_minutes(request, congress):
    services.submit_minutes(request.user, congress)


def _vote_minutes(request, congress):
    services.vote_on_minutes(request.user, congress, request.POST.get("choice", ""))


attend = _post_act(lambda r, c: services.register_attendance(r.user, c) and None, gettext_lazy("You are registered present."))
agenda_add = _post_act(_add_to_agenda, gettext_lazy("The proposal is on the agenda."))
advance = _post_act(_advance, gettext_lazy("The congress takes up the item."))
speak = _post_act(_speak, gettext_lazy("You are on the speakers list."))
next_speaker = _post_act(_next_speaker, "")
minutes = _post_act(_minutes, gettext_lazy("The minutes are saved."))
minutes_submit = _post_act(_submit_minutes, gettext_lazy("The minutes are before the delegates present."))
minutes_vote = _post_act(_vote_minutes, gettext_lazy("Your council's vote on the minutes is cast."))


@login_required
@require_POST
@acts
def propose(request, slug: str):
    federation = _federation(slug)
    dates = []
    for raw in request.POST.getlist("dates"):
        if not raw.strip():
            continue
        parsed = parse_datetime(raw.strip())
        if parsed is None:
            raise Invalid(_("give each date as YYYY-MM-DD HH:MM"), field="dates")
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        dates.append(parsed)
    proposal = services.propose_congress(request.user, federation, title=request.POST.get("title", ""), dates=dates,
                                         body=request.POST.get("body", ""))
    messages.success(request, _("The question is before the member councils: each votes its mandate."))
    return redirect(proposal)



# Included by councils.urls. No route cancels or postpones a congress.
urlpatterns = [
    path("c/<slug:slug>/congresses/", congress_list, name="congress-list"),
    path("c/<slug:slug>/congresses/propose/", propose, name="congress-propose"),
    path("c/<slug:slug>/congress/<int:pk>/", congress_detail, name="congress"),
    path("c/<slug:slug>/congress/<int:pk>/projector", congress_projector, name="congress-projector"),
    path("c/<slug:slug>/congress/<int:pk>/events", congress_events, name="congress-events"),
    path("c/<slug:slug>/congress/<int:pk>/live", congress_live, name="congress-live"),
    path("c/<slug:slug>/congress/<int:pk>/attend/", attend, name="congress-attend"),
    path("c/<slug:slug>/congress/<int:pk>/agenda/", agenda_add, name="congress-agenda"),
    path("c/<slug:slug>/congress/<int:pk>/advance/", advance, name="congress-advance"),
    path("c/<slug:slug>/congress/<int:pk>/speak/", speak, name="congress-speak"),
    path("c/<slug:slug>/congress/<int:pk>/next-speaker/", next_speaker, name="congress-next-speaker"),
    path("c/<slug:slug>/congress/<int:pk>/minutes/", minutes, name="congress-minutes"),
    path("c/<slug:slug>/congress/<int:pk>/minutes/submit/", minutes_submit, name="congress-minutes-submit"),
    path("c/<slug:slug>/congress/<int:pk>/minutes/vote/", minutes_vote, name="congress-minutes-vote"),
]
