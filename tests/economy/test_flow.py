from datetime import timedelta

from councils.economy.models import PartStatus, PeriodStatus
from councils.economy.models import EconomyKind


def test_period_runs_from_opening_to_adoption(clock, economy_world, open_period, work, vote_parts, federation_vote):
    from councils.decisions.models import ProposalKind
    from councils.record.services import verify_all

    period = open_period()
    assert period.status == PeriodStatus.ROUNDS
    assert work() >= 1
    period.refresh_from_db()
    assert period.status == PeriodStatus.ACCEPTANCE, period.status_reason
    plan = period.result
    assert plan["converged"] and plan["gap"] is not None and abs(plan["gap"]) < 0.01
    parts = list(period.parts.all())
    assert {p.council_id for p in parts} == {c.pk for c in economy_world.councils}
    vote_parts(period)
    assert period.status == PeriodStatus.ADOPTION
    adoption = period.votes.get(kind=EconomyKind.PLAN_ADOPTION)
    assert federation_vote(adoption).outcome == "adopted"
    period.refresh_from_db()
    assert period.status == PeriodStatus.ADOPTED
    assert all(p.status == PartStatus.ACCEPTED for p in period.parts.all())
    assert verify_all().ok, verify_all().problems[:3]
