"""Federations: free association, delegates, mandates, weights, recall, petitions.

Every power flows from the base: a council joins and leaves a federation by its
own vote; a federation decides only its charter's matters, by its member
councils' mandates; delegates carry those mandates and can be recalled by the
council that sent them at any moment.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q

from councils.accounts.signing import member_act
from councils.record.statement import content_sha256
from councils import clock
from councils.assemblies.models import (
    YES_NO_METHODS,
    Admission,
    Council,
    DecisionMethod,
)
from councils.assemblies.permissions import (
    membership_of,
    require_member,
    require_person,
)
from councils.decisions import kinds
from councils.decisions.models import Outcome, Proposal, ProposalKind
from councils.errors import Closed, Conflict, Invalid, NotAllowed
from councils.federation.models import (
    Affiliation,
    Delegate,
    FederationBallot,
    FederationCharter,
    FederationKind,
    RecallPetition,
    Signature,
    Weighting,
)
from councils.record.services import append, lock_chains
from django.utils.translation import gettext as _


def federation_proposal_kinds() -> list[str]:
    """What a federation decides by its member councils' mandates, and its free-mandate delegates may vote on: the
    kinds registered as ``mandated`` (federation motions and competences here; the economy's catalogue and plans)."""
    return kinds.names(mandated=True)

FEDERATION_METHODS = (DecisionMethod.MAJORITY, DecisionMethod.TWO_THIRDS, DecisionMethod.IRV, DecisionMethod.SCHULZE,
                      DecisionMethod.RANKED_PAIRS, DecisionMethod.STV, DecisionMethod.STV_MEEK)


def is_constituent(user, council: Council, at=None) -> bool:
    """A member of a base council, or of any base council under a federation: who may stand for its offices."""
    if not council.is_federation:
        return membership_of(user, council) is not None
    return user.pk in base_member_ids(council, at or clock.now())


# ----- membership of federations ----------------------------------------------------


def current_affiliation(federation: Council, council: Council) -> Affiliation | None:
    return Affiliation.objects.filter(federation=federation, council=council, left_at__isnull=True).first()


def member_councils(federation: Council, at: datetime | None = None):
    qs = Council.objects.filter(federations_joined__federation=federation)
    if at is None:
        return qs.filter(federations_joined__left_at__isnull=True).distinct()
    return qs.filter(federations_joined__joined_at__lte=at).filter(
        Q(federations_joined__left_at__isnull=True) | Q(federations_joined__left_at__gt=at)).distinct()


def federations_of(council: Council):
    return Council.objects.filter(affiliations__council=council, affiliations__left_at__isnull=True).distinct()


def council_facts(council: Council) -> dict:
    """What a council's API answer says of its federations (registered in ``assemblies.hooks``)."""
    return {"federations": [f.slug for f in federations_of(council)],
            "member_councils": [c.slug for c in member_councils(council)] if council.is_federation else []}


def member_count(council: Council, at: datetime) -> int:
    """Members of a base council; for a federation, the members of all its member councils, to any depth."""
    from councils.assemblies.services import members_at

    if not council.is_federation:
        return members_at(council, at).count()
    return sum(member_count(c, at) for c in member_councils(council, at))


def base_member_ids(federation: Council, at: datetime, _seen=None) -> set[int]:
    """Every person who is a member of a base council under ``federation`` (a person in two councils counts once)."""
    from councils.assemblies.services import members_at

    seen = _seen if _seen is not None else set()
    ids: set[int] = set()
    for council in member_councils(federation, at):
        if council.pk in seen:
            continue
        seen.add(council.pk)
        if council.is_federation:
            ids |= base_member_ids(council, at, seen)
        else:
            ids |= set(members_at(council, at).values_list("member_id", flat=True))
    return ids


def weight_of(federation: Council, council: Council, at: datetime) -> float:
    rule = charter_of(federation).weighting
    if rule == Weighting.EQUAL:
        return 1.0
    members = member_count(council, at)
    return float(members) if rule == Weighting.MEMBERS else math.sqrt(members)


def charter_of(federation: Council) -> FederationCharter:
    charter = FederationCharter.objects.filter(federation=federation).first()
    if charter is None:
        raise Invalid(_("%(name)s is not a federation") % {"name": federation.name}, field="federation")
    return charter


def ancestors(council: Council, _seen=None) -> set[int]:
    seen = _seen if _seen is not None else set()
    for federation in federations_of(council):
        if federation.pk not in seen:
            seen.add(federation.pk)
            ancestors(federation, seen)
    return seen


# ----- founding and the federation's charter -----------------------------------------


def clean_federation_charter(data: dict | None) -> dict:
    data = {k: v for k, v in dict(data or {}).items() if v is not None}
    allowed = {f.name for f in FederationCharter._meta.concrete_fields} - {"id", "federation"}
    unknown = set(data) - allowed
    if unknown:
        raise Invalid(_("unknown federation charter field %(value)s") % {"value": repr(sorted(unknown)[0])}, field=sorted(unknown)[0])
    if "competences" in data:
        data["competences"] = clean_competences(data["competences"])
    if "weighting" in data and data["weighting"] not in Weighting.values:
        raise Invalid(_("weighting must be one of %(values)s") % {"values": ', '.join(Weighting.values)}, field="weighting")
    for name in ("convocation_share", "referendum_council_share", "referendum_member_share"):
        if name in data:
            try:
                share = Decimal(str(data[name]))
            except (InvalidOperation, ValueError):
                raise Invalid(_("%(replace)s must be a share between 0 and 1") % {"replace": name.replace('_', ' ')}, field=name) from None
            if not share.is_finite() or not Decimal(0) < share <= Decimal(1):
                raise Invalid(_("%(replace)s must be a share above 0 and at most 1") % {"replace": name.replace('_', ' ')}, field=name)
            data[name] = share.quantize(Decimal("0.001"))
    for name in ("delegate_seats", "delegate_term_limit"):
        if name in data and (not isinstance(data[name], int) or not 1 <= data[name] <= 50):
            raise Invalid(_("%(replace)s is a whole number from 1 to 50") % {"replace": name.replace('_', ' ')}, field=name)
    for name in ("delegate_term", "mandate_period", "convocation_delay"):
        if name in data and (not isinstance(data[name], timedelta) or not timedelta(minutes=1) <= data[name] <= timedelta(days=5 * 365)):
            raise Invalid(_("%(replace)s must be a duration from a minute to five years") % {"replace": name.replace('_', ' ')}, field=name)
    return data


def clean_competences(competences) -> list[str]:
    if not isinstance(competences, (list, tuple)):
        raise Invalid(_("competences are a list of matters"), field="competences")
    cleaned = []
    for matter in competences:
        if not isinstance(matter, str) or not matter.strip() or len(matter) > 200:
            raise Invalid(_("each competence is a short text naming a matter"), field="competences")
        if matter.strip() not in cleaned:
            cleaned.append(matter.strip())
    return cleaned


def found_federation_charter(federation: Council, data: dict | None, at, actor) -> FederationCharter:
    charter = FederationCharter.objects.create(federation=federation, **clean_federation_charter(data))
    append(federation, kind="federation_charter.adopted", subject=charter.subject, state=charter.record_state(), at=at, actor=actor)
    return charter


# ----- joining and leaving ----------------------------------------------------------------


def check_affiliation_proposal(council: Council, federation: Council | None, kind: str) -> None:
    if federation is None or not federation.is_federation:
        raise Invalid(_("name the federation to join or leave"), field="federation")
    if federation.pk == council.pk or (kind == FederationKind.AFFILIATION and federation.pk in _descendants(council)):
        raise Invalid(_("a federation cannot join itself or one of its own members"), field="federation")
    affiliated = current_affiliation(federation, council) is not None
    if kind == FederationKind.AFFILIATION and affiliated:
        raise Invalid(_("%(name)s is already a member of %(name2)s") % {"name": council.name, "name2": federation.name}, field="federation")
    if kind == FederationKind.DISAFFILIATION and not affiliated:
        raise Invalid(_("%(name)s is not a member of %(name2)s") % {"name": council.name, "name2": federation.name}, field="federation")


def _descendants(council: Council) -> set[int]:
    if not council.is_federation:
        return set()
    found = set()
    for member in member_councils(council):
        found.add(member.pk)
        found |= _descendants(member)
    return found


def apply_affiliation_decision(decision) -> Affiliation | None:
    """Join or leave at the moment the council's vote closed; both chains record it. Leaving ends the council's delegates' seats."""
    proposal = decision.proposal
    council, federation = proposal.council, proposal.federation
    at = decision.decided_at
    lock_chains(council, federation)
    affiliation = current_affiliation(federation, council)
    remote = _remote_federation(federation)
    if proposal.kind == FederationKind.AFFILIATION:
        if affiliation is not None:
            return None
        if remote:
            # A federation on another server: the request goes out with the decision; its answer makes the member.
            from councils.federation.remote import request_affiliation

            request_affiliation(decision)
            return None
        if federation.charter.admission == Admission.VOTE and member_councils(federation, at).exists():
            open_admission_of_council(federation, council, decision)
            return None
        affiliation = Affiliation.objects.create(federation=federation, council=council, joined_at=at, joined_by=decision)
        kind = "affiliation.joined"
    else:
        if affiliation is None:
            return None
        affiliation.left_at = at
        affiliation.left_by = decision
        affiliation.save(update_fields=["left_at", "left_by"])
        kind = "affiliation.left"
        for delegate in Delegate.objects.filter(council=council, federation=federation, ended_at__isnull=True, ends_at__gt=at):
            _end_delegate(delegate, at, "council left the federation")
    for chain in (council, federation):
        append(chain, kind=kind, subject=affiliation.subject, state=affiliation.record_state(), at=at, decision=decision.pk)
    if remote and kind == "affiliation.left":
        from councils.federation.remote import announce_leaving

        announce_leaving(affiliation, decision)
    return affiliation


def _remote_federation(federation: Council) -> bool:
    """Whether ``federation`` lives on another server (this server holds a stand-in for it)."""
    return hasattr(federation, "remote") and federation.remote is not None


def end_delegations_at(council: Council, federation: Council, at) -> None:
    """The council left the federation: its delegates' seats end."""
    for delegate in Delegate.objects.filter(council=council, federation=federation, ended_at__isnull=True, ends_at__gt=at):
        _end_delegate(delegate, at, "council left the federation")


def open_admission_of_council(federation: Council, council: Council, request) -> Proposal:
    """A federation that admits by vote: the council's own decision to join goes to the member councils' mandated vote."""
    from councils.decisions.services import new_proposal

    at = request.decided_at
    mandates_due = at + charter_of(federation).mandate_period
    admission = new_proposal(
        federation, request.proposal.author, at, kind=ProposalKind.ADMISSION, title=f"Admit {council.name}",
        body=f"{council.name} decided to join {federation.name}. The member councils decide by their mandates.",
        deliberation_ends=mandates_due, voting_ends=mandates_due + federation.charter.voting_period,
        decision_method=DecisionMethod.MAJORITY, federation=council,
    )
    send_down(admission, at)
    return admission


def admit_council(decision) -> Affiliation | None:
    """The member councils admitted the applicant council: it is a member from the close."""
    proposal = decision.proposal
    federation, council, at = proposal.council, proposal.federation, decision.decided_at
    if current_affiliation(federation, council) is not None:
        return None
    lock_chains(council, federation)
    affiliation = Affiliation.objects.create(federation=federation, council=council, joined_at=at, joined_by=decision)
    for chain in (council, federation):
        append(chain, kind="affiliation.joined", subject=affiliation.subject, state=affiliation.record_state(), at=at,
               decision=decision.pk)
    return affiliation


# ----- delegates ---------------------------------------------------------------------------


def current_delegates(council: Council, federation: Council, now: datetime | None = None):
    now = now or clock.now()
    return Delegate.objects.filter(council=council, federation=federation, ended_at__isnull=True, starts_at__lte=now,
                                   ends_at__gt=now).select_related("member")


def delegations_of(user, now: datetime | None = None):
    now = now or clock.now()
    return Delegate.objects.filter(member=user, ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now).select_related(
        "council", "federation")


def consecutive_terms(member, council: Council, federation: Council, *, before=None) -> int:
    """How many of the council's latest delegate elections for this federation, in a row, seated this member
    (``before``: only the elections decided before this decision, when seating its winners)."""
    elections = Proposal.objects.filter(council=council, federation=federation, kind=FederationKind.DELEGATE_ELECTION,
                                        decision__outcome=Outcome.DECIDED).order_by("-voting_ends")
    if before is not None:
        elections = elections.exclude(decision=before).filter(voting_ends__lte=before.decided_at)
    count = 0
    for election in elections:
        if Delegate.objects.filter(elected_by=election.decision, member=member).exists():
            count += 1
        else:
            break
    return count


def check_delegate_election(council: Council, federation: Council | None, candidates: list, seats: int) -> None:
    if federation is None or not federation.is_federation or current_affiliation(federation, council) is None:
        raise Invalid(_("delegates are elected to a federation the council is a member of"), field="federation")
    charter = charter_of(federation)
    if seats != charter.delegate_seats:
        raise Invalid(_("%(name)s's charter gives each council %(delegate_seats)s seat(s)") % {"name": federation.name, "delegate_seats": charter.delegate_seats}, field="seats")
    for candidate in candidates:
        member = candidate.get("member")
        if member is not None and consecutive_terms(member, council, federation) >= charter.delegate_term_limit:
            raise Invalid(
                _("%(username)s has served %(delegate_term_limit)s consecutive terms: the charter asks for rotation") % {"username": member.username, "delegate_term_limit": charter.delegate_term_limit},
                field="options",
            )


def seat_delegates(decision) -> list[Delegate]:
    """Apply a delegate election: the winners take the council's seats from the close, for the federation's term."""
    proposal = decision.proposal
    council, federation, at = proposal.council, proposal.federation, decision.decided_at
    if current_affiliation(federation, council) is None:
        return []
    lock_chains(council, federation)
    for delegate in Delegate.objects.filter(council=council, federation=federation, ended_at__isnull=True, ends_at__gt=at):
        _end_delegate(delegate, at, "replaced by election")
    charter = charter_of(federation)
    by_label = {o.label: o for o in proposal.options.all()}
    seated = []
    for label in decision.winners:
        member = by_label[label].member
        if member is None or not is_constituent(member, council, at):
            continue
        # The limit is checked when the seat is taken: another election may have seated the winner since this one opened.
        if consecutive_terms(member, council, federation, before=decision) >= charter.delegate_term_limit:
            append(council, kind="delegate.not_seated", subject=decision.subject, state=decision.record_state(), at=at,
                   member=member.username,
                   reason=f"served {charter.delegate_term_limit} consecutive terms: the charter asks for rotation")
            continue
        seated.append(_seat(council, federation, member, at, at + charter.delegate_term, decision, how="elected"))
    return seated


def _seat(council, federation, member, starts, ends, decision, *, how: str) -> Delegate:
    delegate = Delegate.objects.create(council=council, federation=federation, member=member, starts_at=starts, ends_at=ends,
                                       elected_by=decision)
    for chain in (council, federation):
        append(chain, kind="delegate.seated", subject=delegate.subject, state=delegate.record_state(), at=starts,
               decision=decision.pk, how=how)
    return delegate


def _end_delegate(delegate: Delegate, at, reason: str) -> None:
    delegate.ended_at, delegate.end_reason = at, reason
    delegate.save(update_fields=["ended_at", "end_reason"])
    for chain in (delegate.council, delegate.federation):
        append(chain, kind="delegate.ended", subject=delegate.subject, state=delegate.record_state(), at=at, reason=reason)


def end_delegations_of_leaving_member(member, council: Council, at) -> None:
    for delegate in Delegate.objects.filter(council=council, member=member, ended_at__isnull=True, ends_at__gt=at):
        _end_delegate(delegate, at, "left the council")


def on_member_leaving(sender, *, member, council, at, **kwargs) -> None:
    """A member leaves their council (``assemblies.hooks.member_leaving``): the seats they held for it end."""
    end_delegations_of_leaving_member(member, council, at)


def on_council_moved(sender, *, council, destination, at, decision, **kwargs) -> None:
    """A member council moved to another server by its own decision (``assemblies.hooks.council_moved``): each
    federation it belongs to records the new address on its own chain; the affiliation itself is unchanged (the
    council leaves a federation only by its own decision to leave)."""
    for affiliation in Affiliation.objects.filter(council=council, left_at__isnull=True).select_related("federation"):
        append(affiliation.federation, kind="affiliation.moved", subject=affiliation.subject,
               state=affiliation.record_state(), at=at, destination=destination, council=council.pk,
               council_chain=council.record_chain)
        if _remote_federation(affiliation.federation):  # a federation on another server: its server is told
            from councils.federation.remote import announce_move

            announce_move(affiliation, destination, at)


# ----- recall ---------------------------------------------------------------------------------


def open_recall_petition(actor, delegate: Delegate, reason: str = "") -> RecallPetition:
    """Any member of the delegate's council may open a recall petition; it carries their signature and their reason,
    which the members asked to sign (and, at the threshold, to vote) read."""
    now = clock.now()
    reason = (reason or "").strip()
    if len(reason) > 5000:
        raise Invalid(_("a reason has at most 5000 characters"), field="reason")
    if "\x00" in reason:
        raise Invalid(_("a reason cannot contain NUL characters"), field="reason")
    from councils.decisions.services import settle_due

    settle_due(delegate.council, now)
    require_member(actor, delegate.council, _("open a recall petition"))
    delegate.refresh_from_db()
    if not delegate.active(now):
        raise Closed(_("This delegate no longer holds the seat."))
    with transaction.atomic():
        # One recall at a time per delegate: a second petition, or a second vote beside an open one, would split the
        # members' votes. Checked under the council's chain lock, so two petitions opened at once cannot both pass.
        lock_chains(delegate.council)
        if RecallPetition.objects.filter(delegate=delegate, vote__isnull=True).exists():
            raise Conflict(_("A recall petition against this delegate is already open: sign it."))
        if _open_recall_vote(delegate, now) is not None:
            raise Conflict(_("A recall vote on this delegate is already open: vote in it."))
        signed = member_act(actor, act="recall.open", council=delegate.council, object=delegate.subject, now=now,
                            content_sha256=content_sha256({"reason": reason}))
        petition = RecallPetition.objects.create(delegate=delegate, opened_by=actor, opened_at=now, reason=reason)
        append(delegate.council, kind="recall.petition_opened", subject=petition.subject, state=petition.record_state(), at=now, actor=actor,
               signed=signed)
        _sign_recall(actor, petition, now, signed)
    return petition


def sign_recall(actor, petition: RecallPetition) -> RecallPetition:
    now = clock.now()
    council = petition.delegate.council
    require_member(actor, council, _("sign a recall petition"))
    if petition.vote_id is not None:
        raise Closed(_("The recall vote is already open: vote in it."))
    if Signature.objects.filter(recall=petition, member=actor).exists():
        raise Conflict(_("You have already signed this petition."))
    with transaction.atomic():
        signed = member_act(actor, act="recall.sign", council=council, object=petition.subject, content={}, now=now)
        _sign_recall(actor, petition, now, signed)
    return petition


def _open_recall_vote(delegate: Delegate, now):
    """The recall vote on ``delegate`` still running, if any."""
    from councils.decisions.models import Proposal

    return Proposal.objects.filter(kind=FederationKind.RECALL, delegate=delegate, voting_ends__gt=now,
                                   withdrawn_at__isnull=True, decision__isnull=True).first()


def recall_progress(petition: RecallPetition, now=None) -> tuple[int, int]:
    """(signatures of current members, signatures needed)."""
    from councils.assemblies.services import members_at

    now = now or clock.now()
    council = petition.delegate.council
    members = members_at(council, now)
    signed = Signature.objects.filter(recall=petition, member__in=members.values("member")).count()
    needed = math.ceil(council.charter.recall_threshold * members.count())
    return signed, max(needed, 1)


def _sign_recall(actor, petition: RecallPetition, now, signed: dict) -> None:
    from councils.decisions.services import new_proposal

    council = petition.delegate.council
    signature = Signature.objects.create(recall=petition, member=actor, signed_at=now)
    append(council, kind="recall.signed", subject=signature.subject, state=signature.record_state(), at=now, actor=actor,
           signed=signed)
    signed, needed = recall_progress(petition, now)
    if signed >= needed and _open_recall_vote(petition.delegate, now) is None:
        # At the threshold the recall vote opens by itself, in the same transaction as the signature that reached it.
        delegate = petition.delegate
        vote = new_proposal(
            council, petition.opened_by, now, kind=FederationKind.RECALL, title=f"Recall {delegate.member.username} as delegate to {delegate.federation.name}?",
            body=f"{signed} members signed the petition opened by {petition.opened_by.username}."
                 + (f"\n\nThe reason given: {petition.reason}" if petition.reason else ""), deliberation_ends=now,
            voting_ends=now + council.charter.voting_period, delegate=delegate, decision_method=DecisionMethod.MAJORITY,
        )
        petition.vote = vote
        petition.save(update_fields=["vote"])
        append(council, kind="recall.vote_opened", subject=petition.subject, state=petition.record_state(), at=now)


def apply_recall(decision) -> Delegate | None:
    """On a majority the delegate is out at once; the seat passes by countback or waits for a by-election, as the charter says."""
    proposal = decision.proposal
    delegate = proposal.delegate
    at = decision.decided_at
    if delegate.ended_at is not None:
        return None
    council = delegate.council
    lock_chains(council, delegate.federation)
    _end_delegate(delegate, at, "recalled")
    if council.charter.recall_replacement == "countback":
        return countback(delegate, at)
    append(council, kind="delegate.seat_vacant", subject=delegate.subject, state=delegate.record_state(), at=at,
           reason="by-election: any member may propose a delegate election")
    return None


def countback(recalled: Delegate, at) -> Delegate | None:
    """Re-run the election's own count without the recalled delegate; the first winner not already seated takes the seat."""
    from councils import tally
    from councils.decisions.ballots import engine_input
    from councils.decisions.services import ballot_rows, lot_seed

    election = recalled.elected_by.proposal
    options = list(election.options.select_related("member"))
    labels = {o.pk: o.label for o in options}
    rankings = engine_input(election, ballot_rows(election), labels)
    recalled_label = next((o.label for o in options if o.member_id == recalled.member_id), None)
    remaining = [o.label for o in options if o.label != recalled_label]
    if not remaining:
        return None
    profile = tally.Profile.from_rankings([o.label for o in options], rankings).without([recalled_label])
    seats = min(election.seats, len(remaining))
    # The election's own seed (from its ballots' digest, recorded by its decision): the countback draws the lots the
    # election's count would have drawn, and anyone can re-run it from the downloaded ballots.
    seed = lot_seed(election, recalled.elected_by.ballots_digest)
    if seats == 1:
        result = tally.tally_irv(profile, seed=seed)
    elif election.decision_method == DecisionMethod.STV_MEEK:
        result = tally.tally_stv_meek(profile, seats, seed=seed)
    else:
        result = tally.tally_stv_scottish(profile, seats, seed=seed)
    seated = set(current_delegates(recalled.council, recalled.federation, at).values_list("member_id", flat=True))
    by_label = {o.label: o for o in options}
    for label in result.winners:
        member = by_label[label].member
        if member and member.pk not in seated and membership_of(member, recalled.council):
            return _seat(recalled.council, recalled.federation, member, at, recalled.ends_at, recalled.elected_by, how="countback")
    append(recalled.council, kind="delegate.seat_vacant", subject=recalled.subject, state=recalled.record_state(), at=at,
           reason="countback found no eligible candidate")
    return None


# ----- federation proposals and mandates ------------------------------------------------------


def require_delegate(actor, federation: Council, doing: str) -> Delegate:
    require_person(actor, doing)
    delegate = Delegate.objects.filter(federation=federation, member=actor, ended_at__isnull=True, starts_at__lte=clock.now(),
                                       ends_at__gt=clock.now()).select_related("council").first()
    if delegate is None or current_affiliation(federation, delegate.council) is None:
        raise NotAllowed(_("Only delegates of %(name)s's member councils may %(doing)s.") % {"name": federation.name, "doing": doing})
    return delegate


# What a delegate may put to the federation itself; other apps' mandated kinds come through their own services.
OWN_FEDERATION_KINDS = (FederationKind.FEDERATION_MOTION, FederationKind.COMPETENCES, FederationKind.AFFILIATION,
                        FederationKind.DISAFFILIATION, FederationKind.DELEGATE_ELECTION, FederationKind.FEDERATION_CHARTER)


def _carried_kinds() -> list[str]:
    return [name for name in kinds.names(mandated=True, proposable=True) if name not in OWN_FEDERATION_KINDS]


def create_federation_proposal(actor, federation: Council, *, title: str, body: str = "", matter: str = "",
                               decision_method: str = DecisionMethod.MAJORITY, options=None,
                               mandates_due: datetime | None = None, voting_ends: datetime | None = None,
                               kind: str = FederationKind.FEDERATION_MOTION, competences=None, target: Council | None = None,
                               seats: int = 1, payload=None) -> Proposal:
    """A delegate puts a question to the federation. It goes down to every member council, which votes its mandate.

    Besides its charter's matters, a federation decides, by the same mandated vote, its own competences, joining or
    leaving a higher federation (``target``), and electing its delegates there (candidates: members of its councils).
    """
    from councils.decisions.services import (
        clean_options,
        clean_text,
        new_proposal,
        settle_due,
    )

    now = clock.now()
    settle_due(federation, now)
    if not federation.is_federation:
        raise Invalid(_("federation proposals are made in a federation"), field="federation")
    require_delegate(actor, federation, _("put questions to the federation"))
    title, body = clean_text(title, body)
    charter = charter_of(federation)
    competences_json = ""
    if kind == FederationKind.COMPETENCES:
        competences_json = json.dumps(clean_competences(competences))
        decision_method, matter = DecisionMethod.MAJORITY, ""
    elif kind == FederationKind.FEDERATION_MOTION:
        if matter not in charter.competences:
            raise Invalid(
                _("%(federation)s's charter does not give it this matter; its competences are: %(competences)s")
                % {"federation": federation.name, "competences": ", ".join(charter.competences) or _("none yet")},
                field="matter",
            )
    elif kind == FederationKind.FEDERATION_CHARTER:
        # The member councils change their federation's rules by their mandates, by the method the federation's own
        # charter sets for changing its charter (two thirds by default).
        payload = clean_federation_charter_change(federation, payload)
        decision_method, matter = federation.charter.charter_change_method, ""
    elif kind in (FederationKind.AFFILIATION, FederationKind.DISAFFILIATION):
        check_affiliation_proposal(federation, target, kind)
        decision_method, matter = DecisionMethod.MAJORITY, ""
    elif kind == FederationKind.DELEGATE_ELECTION:
        if target is None or not target.is_federation or current_affiliation(target, federation) is None:
            raise Invalid(_("delegates are elected to a federation this federation is a member of"), field="target")
        seats = charter_of(target).delegate_seats
        decision_method, matter = (DecisionMethod.IRV if seats == 1 else DecisionMethod.STV), ""
    elif kind in _carried_kinds():
        # Another app's mandated kind (the economy's catalogue and plan periods): it names the matter it falls under
        # and carries what is proposed; the app checked the payload itself.
        if matter not in charter.competences:
            raise Invalid(_("%(name)s's charter does not give it %(matter)s; its member councils can add it by amending its competences") % {"name": federation.name, "matter": repr(matter)}, field="kind")
        if payload is None:
            raise Invalid(_("this proposal says what is proposed"), field="payload")
        decision_method = DecisionMethod.MAJORITY
    else:
        raise Invalid(_("kind must be one of %(kinds)s") % {"kinds": ", ".join([*OWN_FEDERATION_KINDS, *_carried_kinds()])},
                      field="kind")
    if payload is not None and kind not in _carried_kinds() and kind != FederationKind.FEDERATION_CHARTER:
        raise Invalid(_("a %(replace)s carries no payload") % {"replace": kind.replace('_', ' ')}, field="payload")
    if target is not None and kind not in (FederationKind.AFFILIATION, FederationKind.DISAFFILIATION, FederationKind.DELEGATE_ELECTION):
        raise Invalid(_("only joining, leaving or electing delegates to a federation names one"), field="target")
    if decision_method not in FEDERATION_METHODS and not (kind == FederationKind.FEDERATION_CHARTER
                                                          and decision_method == DecisionMethod.MAJORITY_OF_MEMBERS):
        raise Invalid(_("a federation decides by %(federation_methods)s") % {"federation_methods": ', '.join(FEDERATION_METHODS)}, field="decision_method")
    cleaned = clean_options(options, decision_method, seats, federation,
                            eligible=is_constituent if kind == FederationKind.DELEGATE_ELECTION else None)
    if kind == FederationKind.DELEGATE_ELECTION:
        check_delegate_election(federation, target, cleaned, seats)
    given = {"kind": kind, "title": title, "body": body, "options": [o["label"] for o in cleaned],
             "target": getattr(target, "slug", None), "matter": matter,
             "mandates_due": mandates_due.astimezone(timezone.utc).isoformat() if mandates_due else None,
             "voting_ends": voting_ends.astimezone(timezone.utc).isoformat() if voting_ends else None,
             "payload": json.loads(json.dumps(payload, sort_keys=True, default=str)) if payload is not None else None}
    mandates_due = mandates_due or now + charter.mandate_period
    voting_ends = voting_ends or mandates_due + federation.charter.voting_period
    if mandates_due <= now or voting_ends <= mandates_due:
        raise Invalid(_("the mandates are due in the future, and the federation's vote ends after them"), field="voting_ends")
    if voting_ends - now > timedelta(days=366):
        raise Invalid(_("the federation's vote must end within a year"), field="voting_ends")
    with transaction.atomic():
        signed = member_act(actor, act="proposal.create", council=federation, object=f"council:{federation.slug}", now=now,
                            content_sha256=content_sha256(given))
        proposal = new_proposal(
            federation, actor, now, signed=signed, kind=kind, title=title, body=body, deliberation_ends=mandates_due, voting_ends=voting_ends,
            decision_method=decision_method, options=cleaned, matter=matter, competences_json=competences_json,
            federation=target, seats=seats, payload_json=json.dumps(payload, sort_keys=True) if payload is not None else "",
        )
        send_down(proposal, now)
    return proposal


def send_down(proposal: Proposal, now) -> None:
    """Open a mandate vote in every member council that binds its delegates; a member federation sends it further down."""
    from councils.decisions.services import new_proposal

    federation = proposal.council
    for council in member_councils(federation):
        if _remote_federation(council):
            # A member council on another server votes its mandate there: the proposal goes to it as a message.
            from councils.federation.remote import request_mandate

            request_mandate(proposal, council, now)
            continue
        if council.charter.mandate == "free":
            append(council, kind="mandate.free", subject=proposal.subject, state=None, at=now,
                   reason="this council gives its delegates a free mandate")
            continue
        mandate = new_proposal(
            council, proposal.author, now, kind=FederationKind.MANDATE,
            title=f"Mandate: {proposal.title}"[:200],
            body=f"{federation.name} decides this; our delegates will vote as we mandate.\n\n{proposal.body}",
            deliberation_ends=now if not council.is_federation else proposal.deliberation_ends - (proposal.deliberation_ends - now) / 2,
            voting_ends=proposal.deliberation_ends, decision_method=proposal.decision_method,
            options=[{"label": o.label, "description": o.description, "member": None} for o in proposal.options.all()],
            mandate_for=proposal, level=proposal.level + 1, federation=federation, seats=proposal.seats,
        )
        if council.is_federation:
            send_down(mandate, now)


def _ranking_ids(decision, target: Proposal) -> list[list[int]]:
    """A council's own count as a ranking of the federation proposal's options (matched by label)."""
    ids = {o.label: o.pk for o in target.options.all()}
    tally = decision.tally
    groups = tally.get("ranking") or []
    if not groups and tally.get("winners"):
        groups = [[w] for w in tally["winners"]]
    return [[ids[label] for label in group if label in ids] for group in groups if any(label in ids for label in group)]


def cast_mandated_ballot(mandate_decision) -> FederationBallot | None:
    """When a council's mandate vote closes, its delegates' vote at the federation is cast as mandated, at once."""
    mandate = mandate_decision.proposal
    if mandate.mandate_for_id is None:
        # The federation is on another server: the council's mandated ballot travels up as a message.
        from councils.federation.remote import send_mandated_ballot

        send_mandated_ballot(mandate_decision)
        return None
    target, council, federation = mandate.mandate_for, mandate.council, mandate.mandate_for.council
    at = mandate_decision.decided_at
    if current_affiliation(federation, council) is None or FederationBallot.objects.filter(proposal=target, council=council).exists():
        return None
    ballot = FederationBallot(proposal=target, council=council, mandated=True, mandate=mandate_decision, cast_at=at)
    delegate = current_delegates(council, federation, at).first()
    ballot.delegate = delegate.member if delegate else None
    _weigh_mandate(ballot, federation, at, outcome=mandate_decision.outcome, yes=mandate_decision.yes,
                   no=mandate_decision.no,
                   ranking=None if target.decision_method in YES_NO_METHODS else _ranking_ids(mandate_decision, target))
    ballot.save()
    lock_chains(council, federation)
    for chain in (council, federation):
        append(chain, kind="federation_ballot.mandated", subject=ballot.subject, state=ballot.record_state(), at=at,
               actor=ballot.delegate)
    return ballot


def _weigh_mandate(ballot: FederationBallot, federation: Council, at, *, outcome, yes, no, ranking) -> None:
    """A council's mandate as its ballot in the federation: its weight for yes, no or abstain (split by its members'
    votes where the charter says so), or its ranking of the options."""
    weight = ballot.weight = weight_of(federation, ballot.council, at)
    if ballot.proposal.decision_method in YES_NO_METHODS:
        if charter_of(federation).mandate_split and (yes + no) > 0:
            ballot.yes, ballot.no = weight * yes / (yes + no), weight * no / (yes + no)
        elif outcome == Outcome.ADOPTED:
            ballot.yes = weight
        elif outcome == Outcome.REJECTED:
            ballot.no = weight
        else:
            ballot.abstain = weight
    else:
        ballot.ranking_json = json.dumps(ranking)


def cast_remote_mandate(target: Proposal, council: Council, at, *, outcome, yes, no, ranking_labels) -> FederationBallot | None:
    """A member council on another server voted its mandate there: its ballot, carried by message, counts here as a
    council's on this server does (no delegate named: its delegates are elected on its server)."""
    federation = target.council
    if current_affiliation(federation, council) is None or FederationBallot.objects.filter(proposal=target, council=council).exists():
        return None
    ids = {o.label: o.pk for o in target.options.all()}
    ranking = [[ids[label] for label in group if label in ids] for group in ranking_labels if any(label in ids for label in group)]
    ballot = FederationBallot(proposal=target, council=council, mandated=True, mandate=None, cast_at=at)
    _weigh_mandate(ballot, federation, at, outcome=outcome, yes=yes, no=no, ranking=ranking)
    ballot.save()
    lock_chains(council, federation)
    for chain in (council, federation):
        append(chain, kind="federation_ballot.mandated", subject=ballot.subject, state=ballot.record_state(), at=at)
    return ballot


def cast_free_vote(actor, proposal: Proposal, vote) -> FederationBallot:
    """A delegate whose council gave a free mandate votes at their discretion; their council sees it at once."""
    from councils.decisions.ballots import clean_vote
    from councils.decisions.services import settle_due

    now = clock.now()
    federation = proposal.council
    settle_due(federation, now)
    delegate = require_delegate(actor, federation, _("vote in the federation"))
    council = delegate.council
    if proposal.published_at is None or proposal.withdrawn_at or not now < proposal.voting_ends:
        raise Closed(_("This federation vote is not open."))
    if proposal.congress_id is not None:
        # A congress's minutes are approved by the delegates who attended it, and only through the one path that
        # checks attendance, whatever mandate their council gives them.
        from councils.federation.congress import MINUTES_MATTER, vote_on_minutes

        if proposal.matter == MINUTES_MATTER:
            choice = vote if isinstance(vote, str) else vote.get("choice") if isinstance(vote, dict) else None
            return vote_on_minutes(actor, proposal.congress, choice)
    if proposal.mandate_for_id is None and proposal.kind not in federation_proposal_kinds():
        raise Invalid(_("delegates vote on federation decisions"), field="proposal")
    if council.charter.mandate != "free":
        raise NotAllowed(_("%(name)s binds its delegates: its mandate vote casts their vote.") % {"name": council.name})
    clean = clean_vote(proposal, vote, list(proposal.options.values_list("pk", flat=True)))
    weight = weight_of(federation, council, now)
    with transaction.atomic():
        lock_chains(council, federation)
        signed = member_act(actor, act="federation_ballot.cast", council=federation, object=proposal.subject, now=now,
                            content={"council": council.slug, "choice": clean.choice,
                                     "content": json.loads(clean.content_json()) if clean.content is not None else None})
        ballot = FederationBallot.objects.filter(proposal=proposal, council=council).first() or FederationBallot(
            proposal=proposal, council=council, mandated=False)
        ballot.delegate, ballot.weight, ballot.cast_at = actor, weight, now
        ballot.yes = weight if clean.choice == "yes" else 0
        ballot.no = weight if clean.choice == "no" else 0
        ballot.abstain = weight if clean.choice == "abstain" else 0
        ballot.ranking_json = clean.content_json() if proposal.is_ranked else ""
        ballot.save()
        for chain in (council, federation):
            append(chain, kind="federation_ballot.free", subject=ballot.subject, state=ballot.record_state(), at=now, actor=actor,
                   signed=signed)
    return ballot


def federation_rows(proposal: Proposal) -> list[dict]:
    rows = []
    for b in proposal.federation_ballots.select_related("council", "delegate").order_by("council_id"):
        rows.append({"council": b.council.slug, "delegate": b.delegate.username if b.delegate_id else None, "weight": b.weight,
                     "yes": b.yes, "no": b.no, "abstain": b.abstain, "ranking": json.loads(b.ranking_json) if b.ranking_json else None,
                     "mandated": b.mandated})
    return rows


def settle_mandates(proposal: Proposal) -> None:
    """Before a federation counts, every mandate below it is settled (deepest first), so each council's vote is cast."""
    from councils.decisions.services import settle_proposal

    for mandate in proposal.mandates.filter(decision__isnull=True, voting_ends__lte=proposal.voting_ends).select_related("council"):
        if mandate.voting_ends <= clock.now() or mandate.voting_ends <= proposal.voting_ends:
            settle_mandates(mandate)
            settle_proposal(mandate)


def count_federation_vote(proposal: Proposal, at) -> dict:
    """The federation's tally: each member council's ballot, weighted as the charter says."""
    from fractions import Fraction

    from councils import tally
    from councils.decisions.ballots import digest
    from councils.decisions.services import METHOD_RULES, lot_seed

    federation = proposal.council
    members = list(member_councils(federation, at))
    total_weight = sum(weight_of(federation, c, at) for c in members)
    present = {c.pk for c in members}
    ballots = [b for b in proposal.federation_ballots.all() if b.council_id in present]
    cast_weight = sum(b.weight for b in ballots)
    quorum = Fraction(str(proposal.quorum))
    fields = {"blocks": 0, "ballots": len(ballots), "members": len(members)}
    if proposal.decision_method in YES_NO_METHODS:
        yes, no, abstain = (sum(getattr(b, k) for b in ballots) for k in ("yes", "no", "abstain"))
        result = tally.tally_majority(yes, no, abstain, members=max(total_weight, 0), quorum=quorum,
                                      **METHOD_RULES[proposal.decision_method]) if total_weight else None
        if result is None:
            return {**fields, "yes": 0, "no": 0, "abstain": 0, "outcome": Outcome.NO_QUORUM, "quorum_met": False, "winners": [],
                    "tally": {"method": proposal.decision_method, "weights": {}}}
        data = result.to_dict()
        data["weights"] = {b.council.slug: b.weight for b in ballots}
        return {**fields, "yes": yes, "no": no, "abstain": abstain, "outcome": result.outcome, "quorum_met": result.quorum_met,
                "winners": [], "tally": data}
    options = list(proposal.options.all())
    labels = {o.pk: o.label for o in options}
    rankings, weights = [], []
    for b in ballots:
        groups = json.loads(b.ranking_json) if b.ranking_json else []
        if groups:
            rankings.append([labels[g[0]] if len(g) == 1 else tuple(labels[i] for i in g) for g in groups])
            weights.append(b.weight)
    quorum_met = quorum == 0 or (total_weight > 0 and Fraction(cast_weight).limit_denominator(10**6) >= quorum * Fraction(total_weight).limit_denominator(10**6))
    if not rankings:
        return {**fields, "yes": 0, "no": 0, "abstain": 0, "outcome": Outcome.NO_QUORUM if not quorum_met else Outcome.NO_RESULT,
                "quorum_met": quorum_met, "winners": [], "tally": {"method": proposal.decision_method, "options": list(labels.values())}}
    profile = tally.Profile.from_rankings(list(labels.values()), rankings, counts=weights)
    # Lots come from the member councils' ballots, as a council's own: nobody knows the seed before the close.
    seed = lot_seed(proposal, digest(federation_rows(proposal)))
    if proposal.decision_method == DecisionMethod.STV:
        result = tally.tally_stv_scottish(profile, proposal.seats, seed=seed)
    elif proposal.decision_method == DecisionMethod.STV_MEEK:
        result = tally.tally_stv_meek(profile, proposal.seats, seed=seed)
    else:
        method = {DecisionMethod.IRV: tally.tally_irv, DecisionMethod.SCHULZE: tally.tally_schulze,
                  DecisionMethod.RANKED_PAIRS: tally.tally_ranked_pairs}[proposal.decision_method]
        result = method(profile, seed=seed)
    return {**fields, "yes": 0, "no": 0, "abstain": 0, "outcome": Outcome.DECIDED if quorum_met else Outcome.NO_QUORUM,
            "quorum_met": quorum_met, "winners": list(result.winners[: proposal.seats]) if quorum_met else [],
            "tally": {**result.to_dict(), "seed": seed}}


def apply_competences(decision) -> FederationCharter:
    proposal = decision.proposal
    charter = charter_of(proposal.council)
    before = {"competences": list(charter.competences)}  # recorded, so that a referendum can restore it
    charter.competences = json.loads(proposal.competences_json)
    charter.save(update_fields=["competences"])
    append(proposal.council, kind="federation_charter.amended", subject=charter.subject, state=charter.record_state(),
           at=decision.decided_at, decision=decision.pk, before=before)
    return charter


# ----- changing the federation's charter ---------------------------------------------------------------------------
# Weighting, seats, terms, periods and shares change by the member councils' mandated vote (kind
# "federation_charter"); the proposal carries the changed fields as JSON (durations in seconds, shares as decimal
# strings). The competences change by their own kind. Each change records the values it replaced, so that a
# referendum that overrules it can restore them.

_FEDERATION_PERIODS = {"delegate_term", "mandate_period", "convocation_delay"}
_FEDERATION_SHARES = {"convocation_share", "referendum_council_share", "referendum_member_share"}


def _federation_charter_json(value):
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, Decimal):
        return str(value)
    return value


def federation_charter_values(changes: dict) -> dict:
    """Model values of a federation charter change stored as JSON."""
    values = {}
    for name, value in changes.items():
        if name in _FEDERATION_PERIODS and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = timedelta(seconds=value)
        elif name in _FEDERATION_SHARES and value is not None:
            value = Decimal(str(value))
        values[name] = value
    return values


def clean_federation_charter_change(federation: Council, changes) -> dict:
    if not isinstance(changes, dict) or not changes:
        raise Invalid(_("name the federation charter's fields to change and their new values"), field="charter_changes")
    if "competences" in changes:
        raise Invalid(_("the competences change by their own proposal (kind competences)"), field="competences")
    if "mandate_split" in changes and not isinstance(changes["mandate_split"], bool):
        raise Invalid(_("mandate split is yes or no"), field="mandate_split")
    cleaned = clean_federation_charter(federation_charter_values(changes))
    charter = charter_of(federation)
    changed = {name: _federation_charter_json(value) for name, value in cleaned.items() if value != getattr(charter, name)}
    if not changed:
        raise Invalid(_("the proposed charter is the charter in force: nothing would change"), field="charter_changes")
    return changed


def apply_federation_charter(decision) -> FederationCharter:
    """The member councils adopted a change of the federation's charter: it applies from the close, to votes opened
    after it (an open vote keeps its method, quorum and deadlines; its mandates were already sent down)."""
    proposal = decision.proposal
    charter = charter_of(proposal.council)
    values = federation_charter_values(proposal.payload)
    before = {name: _federation_charter_json(getattr(charter, name)) for name in values}
    for name, value in values.items():
        setattr(charter, name, value)
    charter.save(update_fields=list(values))
    append(proposal.council, kind="federation_charter.amended", subject=charter.subject, state=charter.record_state(),
           at=decision.decided_at, decision=decision.pk, before=before, changes=proposal.payload)
    return charter


# ----- overruled by referendum ---------------------------------------------------------------------------------------
# What a federation decision that the members reject by referendum undoes (registered as each kind's ``undo``).


def _amendment_entry(federation: Council, decision):
    from councils.record.models import RecordEntry

    for entry in RecordEntry.objects.filter(chain=federation.record_chain, kind="federation_charter.amended").order_by("-seq"):
        data = json.loads(entry.data_json)
        if data.get("decision") == decision.pk:
            return data
    return None


def undo_charter_change(decision, referendum) -> str:
    """Restore the values the overruled change replaced, where no later decision has changed them since."""
    federation, at = decision.proposal.council, referendum.decided_at
    data = _amendment_entry(federation, decision)
    if data is None or "before" not in data:
        return "The change was made before changes recorded what they replaced: it stays until the councils change it."
    charter = charter_of(federation)
    after = data["state"]
    restored, kept = [], []
    for name, old in data["before"].items():
        now_value = _federation_charter_json(getattr(charter, name))
        recorded_after = after.get(name, after.get(f"{name}_s"))
        if name == "competences":
            now_value, recorded_after = list(now_value), after.get("competences")
        if now_value != recorded_after:
            kept.append(name)  # changed again by a later decision: that decision stands
            continue
        value = federation_charter_values({name: old})[name] if name != "competences" else list(old)
        setattr(charter, name, value)
        restored.append(name)
    if restored:
        charter.save(update_fields=restored)
        append(federation, kind="federation_charter.restored", subject=charter.subject, state=charter.record_state(), at=at,
               decision=referendum.pk, overruled=decision.pk)
    sentence = f"Restored: {', '.join(restored)}." if restored else "Nothing to restore."
    if kept:
        sentence += f" Kept, as a later decision changed them again: {', '.join(kept)}."
    return sentence


def undo_admission_of_council(decision, referendum) -> str:
    """The members overruled the admission of a council: its membership ends at the referendum's close."""
    proposal = decision.proposal
    federation, council, at = proposal.council, proposal.federation, referendum.decided_at
    affiliation = Affiliation.objects.filter(federation=federation, council=council, joined_by=decision, left_at__isnull=True).first()
    if affiliation is None:
        return f"{council.name} had already left: nothing to undo."
    _leave(affiliation, at, referendum, "admission overruled by referendum")
    return f"{council.name}'s membership ended."


def undo_affiliation(decision, referendum) -> str:
    """The members overruled their federation's decision to join a higher federation: it leaves it."""
    proposal = decision.proposal
    council, higher, at = proposal.council, proposal.federation, referendum.decided_at
    affiliation = Affiliation.objects.filter(federation=higher, council=council, joined_by=decision, left_at__isnull=True).first()
    if affiliation is None:
        return f"{council.name} is not a member of {higher.name} by this decision: nothing to undo."
    _leave(affiliation, at, referendum, "joining overruled by referendum")
    return f"{council.name} left {higher.name}."


def _leave(affiliation: Affiliation, at, referendum, reason: str) -> None:
    council, federation = affiliation.council, affiliation.federation
    lock_chains(council, federation)
    affiliation.left_at, affiliation.left_by = at, referendum
    affiliation.save(update_fields=["left_at", "left_by"])
    for delegate in Delegate.objects.filter(council=council, federation=federation, ended_at__isnull=True, ends_at__gt=at):
        _end_delegate(delegate, at, "council left the federation")
    for chain in (council, federation):
        append(chain, kind="affiliation.left", subject=affiliation.subject, state=affiliation.record_state(), at=at,
               decision=referendum.pk, reason=reason)


def undo_delegate_election(decision, referendum) -> str:
    """The members overruled their federation's election of its delegates: those still seated by it leave the seat."""
    ended = []
    for delegate in Delegate.objects.filter(elected_by=decision, ended_at__isnull=True, ends_at__gt=referendum.decided_at):
        lock_chains(delegate.council, delegate.federation)
        _end_delegate(delegate, referendum.decided_at, "election overruled by referendum")
        ended.append(delegate.member.username)
    return f"Seats ended: {', '.join(ended)}; a new election fills them." if ended else "No seat was still held: nothing to undo."
