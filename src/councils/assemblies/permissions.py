"""Who may do what in a council. One place, used by pages, API and services alike."""

from __future__ import annotations

from councils.adapters import sql
from django.utils.translation import gettext as _

from councils.assemblies.models import Membership
from councils.errors import NotAllowed

_MEMBERSHIP = sql.Rows(Membership)
_MEMBERSHIP_SQL = (f"SELECT {_MEMBERSHIP.columns()} FROM {sql.table(Membership)} WHERE {sql.quote('council_id')} = %s "
                   f"AND {sql.quote('member_id')} = %s AND {sql.quote('left_at')} IS NULL "
                   f"ORDER BY {sql.quote('joined_at')}, {sql.quote('id')} LIMIT 1")


def membership_of(user, council) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    # Asked by every act: a statement written once (adapters.sql).
    row = sql.one(_MEMBERSHIP_SQL, [council.pk, user.pk])
    return _MEMBERSHIP.make(row) if row is not None else None


def is_member(user, council) -> bool:
    return membership_of(user, council) is not None


def require_member(user, council, doing: str) -> Membership:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Log in to %(doing)s.") % {"doing": doing})
    membership = membership_of(user, council)
    if membership is None:
        raise NotAllowed(_("Only members of %(name)s may %(doing)s.") % {"name": council.name, "doing": doing})
    return membership


def require_person(user, doing: str) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAllowed(_("Log in to %(doing)s.") % {"doing": doing})
