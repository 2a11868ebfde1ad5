"""Who may do what in a council. One place, used by pages, API and services alike."""

from __future__ import annotations

from django.utils.translation import gettext as _

from councils.assemblies.models import Membership
from councils.errors import NotAllowed


def membership_of(user, council) -> Membership | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(council=council, member=user, left_at__isnull=True).first()


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
