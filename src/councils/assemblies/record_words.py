"""The record page in words: each entry as "who did what, when, to what", with a link to what it is about.

The record itself stays as it is (canonical JSON, hashed); this only reads it. Subjects are "<prefix>:<id>"; the app
that keeps each prefix's rows registered it with ``record.services.register_recorded``, so this module names a
subject from its row (a proposal's title, a council's name, a member's name) without importing the apps above."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.apps import apps
from django.db import models

from councils.record.services import recorded_model

# What each kind of act is, in words. An act not listed is worded from its name ("product.added": "product added").
ACTS = {
    "council.founded": "founded the council", "charter.adopted": "adopted the charter", "charter.amended": "amended the charter",
    "member.admitted": "was admitted", "member.left": "left the council", "member.removed": "was removed",
    "proposal.created": "put a proposal", "proposal.published": "published a proposal", "proposal.withdrawn": "withdrew a proposal",
    "proposal.rescheduled": "moved the deadlines of", "proposal.amended": "took an amendment into", "proposal.accepted": "accepted",
    "ballot.cast": "voted on", "ballot.changed": "changed their vote on", "ballot.withdrawn": "had their ballot withdrawn from",
    "voter.registered": "voted (secret ballot) on", "decision.made": "decision on", "decision.overruled": "overruled the decision on",
    "comment.added": "commented on", "comment.hidden": "hid a comment on", "comment.restored": "restored a comment on",
    "minority_report.attached": "attached a minority report to", "office.taken": "took office", "office.ended": "left office",
    "delegate.seated": "was seated as delegate", "delegate.ended": "left the delegate's seat", "delegate.seat_vacant": "seat left vacant:",
    "recall.petition_opened": "opened a recall petition against", "recall.signed": "signed the recall petition against",
    "recall.vote_opened": "recall vote opened against", "petition.opened": "opened a petition", "petition.signed": "signed a petition",
    "petition.backed": "backed a petition", "petition.fulfilled": "petition fulfilled:", "affiliation.began": "joined the federation",
    "affiliation.ended": "left the federation", "congress.convened": "congress convened:", "congress.cancelled": "congress cancelled:",
    "federation_ballot.mandated": "cast the council's mandated vote on", "federation_ballot.free": "cast a free-mandate vote on",
    "federation_ballot.minutes": "voted for the council, at the congress, on", "mandate.free": "gave a free mandate on",
    "congress.attendance": "registered present at", "congress.agenda_item_added": "put on the agenda of",
    "congress.item_taken_up": "took up the next item at", "congress.speaker_listed": "asked to speak at",
    "congress.floor_given": "gave the floor at", "congress.speaker_ended": "ended a speech at",
    "congress.minutes_written": "wrote the minutes of", "congress.minutes_approved": "minutes approved:",
    "capability.recorded": "recorded a capability:", "capability.removed": "removed a capability:",
    "working_hours.recorded": "recorded the working hours", "need.adopted": "adopted a need:", "need.ended": "need ended:",
    "plan_period.opened": "plan period opened:", "plan.adopted": "plan adopted:", "hand_proposal.submitted": "submitted a proposal for",
    "planning_mode.set": "set how the council answers", "plan_part.put_to_vote": "put a part of the plan to the vote:",
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
        return f"{obj.member.username}, delegate to {obj.federation.name}", url
    if prefix == "congress":
        from django.urls import reverse

        return obj.title, reverse("congress", args=[obj.federation.slug, obj.pk])
    if prefix == "recall_petition":
        return f"{obj.delegate.member.username}, delegate to {obj.delegate.federation.name}", None
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
