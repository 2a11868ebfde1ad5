"""The record page in words: each entry as "who did what, when, to what", with a link to what it is about.

The record itself stays as it is (canonical JSON, hashed); this only reads it. Subjects are "<prefix>:<id>"; the app
that keeps each prefix's rows registered it with ``record.services.register_recorded``, so this module names a
subject from its row (a proposal's title, a council's name, a member's name) without importing the apps above."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.apps import apps
from django.db import models
from django.utils.translation import gettext, gettext_lazy

from councils.record.services import recorded_model

# What each kind of act is, in words. An act not listed is worded from its name ("product.added": "product added").
ACTS = {
    "council.founded": gettext_lazy("founded the council"), "charter.adopted": gettext_lazy("adopted the charter"), "charter.amended": gettext_lazy("amended the charter"),
    "member.admitted": gettext_lazy("was admitted"), "member.left": gettext_lazy("left the council"), "member.removed": gettext_lazy("was removed"),
    "proposal.created": gettext_lazy("put a proposal"), "proposal.published": gettext_lazy("published a proposal"), "proposal.withdrawn": gettext_lazy("withdrew a proposal"),
    "proposal.rescheduled": gettext_lazy("moved the deadlines of"), "proposal.amended": gettext_lazy("took an amendment into"), "proposal.accepted": "accepted",
    "ballot.cast": gettext_lazy("voted on"), "ballot.changed": gettext_lazy("changed their vote on"), "ballot.withdrawn": gettext_lazy("had their ballot withdrawn from"),
    "voter.registered": gettext_lazy("voted (secret ballot) on"), "decision.made": gettext_lazy("decision on"), "decision.overruled": gettext_lazy("overruled the decision on"),
    "comment.added": gettext_lazy("commented on"), "comment.hidden": gettext_lazy("hid a comment on"), "comment.restored": gettext_lazy("restored a comment on"),
    "minority_report.attached": gettext_lazy("attached a minority report to"), "office.taken": gettext_lazy("took office"), "office.ended": gettext_lazy("left office"),
    "delegate.seated": gettext_lazy("was seated as delegate"), "delegate.ended": gettext_lazy("left the delegate's seat"), "delegate.seat_vacant": gettext_lazy("seat left vacant:"),
    "recall.petition_opened": gettext_lazy("opened a recall petition against"), "recall.signed": gettext_lazy("signed the recall petition against"),
    "recall.vote_opened": gettext_lazy("recall vote opened against"), "petition.opened": gettext_lazy("opened a petition"), "petition.signed": gettext_lazy("signed a petition"),
    "petition.backed": gettext_lazy("backed a petition"), "petition.fulfilled": gettext_lazy("petition fulfilled:"), "affiliation.began": gettext_lazy("joined the federation"),
    "affiliation.ended": gettext_lazy("left the federation"), "congress.convened": gettext_lazy("congress convened:"), "congress.cancelled": gettext_lazy("congress cancelled:"),
    "federation_ballot.mandated": gettext_lazy("cast the council's mandated vote on"), "federation_ballot.free": gettext_lazy("cast a free-mandate vote on"),
    "federation_ballot.minutes": gettext_lazy("voted for the council, at the congress, on"), "mandate.free": gettext_lazy("gave a free mandate on"),
    "congress.attendance": gettext_lazy("registered present at"), "congress.agenda_item_added": gettext_lazy("put on the agenda of"),
    "congress.item_taken_up": gettext_lazy("took up the next item at"), "congress.speaker_listed": gettext_lazy("asked to speak at"),
    "congress.floor_given": gettext_lazy("gave the floor at"), "congress.speaker_ended": gettext_lazy("ended a speech at"),
    "congress.minutes_written": gettext_lazy("wrote the minutes of"), "congress.minutes_approved": gettext_lazy("minutes approved:"),
    "capability.recorded": gettext_lazy("recorded a capability:"), "capability.removed": gettext_lazy("removed a capability:"),
    "working_hours.recorded": gettext_lazy("recorded the working hours"), "need.adopted": gettext_lazy("adopted a need:"), "need.ended": gettext_lazy("need ended:"),
    "plan_period.opened": gettext_lazy("plan period opened:"), "plan.adopted": gettext_lazy("plan adopted:"), "hand_proposal.submitted": gettext_lazy("submitted a proposal for"),
    "planning_mode.set": gettext_lazy("set how the council answers"), "plan_part.put_to_vote": gettext_lazy("put a part of the plan to the vote:"),
    "key.registered": gettext_lazy("registered a key"), "key.revoked": gettext_lazy("revoked a key"),
    "postponement.lapsed": gettext_lazy("postponement lapsed, nothing moved:"),
    "affiliation.requested": gettext_lazy("asked to join a federation on another server:"),
    "affiliation.joined": gettext_lazy("joined the federation"), "affiliation.left": gettext_lazy("left the federation"),
    "council.remote": gettext_lazy("stand-in for a council on another server:"), "peer.added": gettext_lazy("added a peer server:"),
}


def _moment(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


def _has_own_str(obj) -> bool:
    return type(obj).__str__ is not models.Model.__str__


def _name(obj, prefix: str) -> tuple[str, str | None]:
    """A row's name and page, as a person would say it."""
    for via in ("proposal", "decision", "recall", "petition", "delegate", "congress", "plan_period"):
        # Acts on parts of a thing (a ballot, a comment, a signature) are named by the thing they are part of.
        if prefix not in ("proposal", "delegate", "congress", "plan_period", "petition") and getattr(obj, f"{via}_id", None):
            return _name(getattr(obj, via), via)
    url = None
    if prefix == "delegate":
        from django.urls import reverse

        url = reverse("delegate", args=[obj.pk])
        return gettext("%(username)s, delegate to %(name)s") % {"username": obj.member.username, "name": obj.federation.name}, url
    if prefix == "congress":
        from django.urls import reverse

        return obj.title, reverse("congress", args=[obj.federation.slug, obj.pk])
    if prefix == "recall_petition":
        return gettext("%(username)s, delegate to %(name)s") % {"username": obj.delegate.member.username, "name": obj.delegate.federation.name}, None
    if hasattr(obj, "get_absolute_url"):
        try:
            url = obj.get_absolute_url()
        except Exception:  # a row whose page needs more than itself
            url = None
    for attribute in ("title", "name", "label"):
        value = getattr(obj, attribute, None)
        if isinstance(value, str) and value:
            return value, url
    if prefix == "membership":
        return obj.member.username, None
    if _has_own_str(obj):
        return str(obj), url
    return prefix.replace("_", " "), url


def names(subjects: list[str]) -> dict[str, tuple[str, str | None]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for subject in subjects:
        prefix, _, ident = subject.partition(":")
        if ident.isdigit():
            wanted[prefix].add(int(ident))
    named: dict[str, tuple[str, str | None]] = {}
    for prefix, ids in wanted.items():
        label = recorded_model(prefix)
        if label is None:
            continue
        for pk, obj in apps.get_model(label).objects.in_bulk(list(ids)).items():
            try:
                named[f"{prefix}:{pk}"] = _name(obj, prefix)
            except Exception:  # a name is a courtesy: the entry is still shown with its data
                continue
    return named


def in_words(entries) -> list[dict]:
    """Each entry with ``when`` (a datetime), ``who``, ``did`` and ``about`` (name, link)."""
    entries = list(entries)
    named = names([e.subject for e in entries])
    rows = []
    for entry in entries:
        data = entry.data if hasattr(entry, "data") else {}
        about = named.get(entry.subject)
        if about is None:
            prefix = entry.subject.partition(":")[0].replace("_", " ")
            about = ((data.get("state") or {}).get("title") if isinstance(data.get("state"), dict) else None) or prefix, None
        rows.append({
            "entry": entry, "when": _moment(entry.at), "who": entry.actor or "",
            "did": ACTS.get(entry.kind) or entry.kind.replace(".", " ").replace("_", " "),
            "about": about, "reason": data.get("reason") if isinstance(data, dict) else None,
        })
    return rows
