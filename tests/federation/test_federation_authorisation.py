"""The delegate in the authorisation picture: a delegate carries a mandate, and holds no power.

Neither over their own council's internals nor another's; and a federation (acting through its
delegates) cannot change a member council's members, charter, officers, proposals or decisions
through any endpoint.
"""

from datetime import timedelta

import pytest

from councils.assemblies.models import Charter, Membership
from councils.decisions.models import Ballot, Decision, Proposal
from councils.federation.services import create_federation_proposal
from tests.federation.test_federation_api import api

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(clock, federation_of, members_of, make_proposal):
    federation, (bakery, farm) = federation_of([3, 3])
    motion = make_proposal(farm, members_of(farm)[1], title="Farm's own business", deliberation=timedelta(0))
    return federation, bakery, farm, motion


def snapshot(council):
    return (
        list(Membership.objects.filter(council=council).values_list("member_id", "left_at")),
        list(Charter.objects.filter(council=council).values()),
        list(Proposal.objects.filter(council=council).values("pk", "title", "body", "voting_ends", "withdrawn_at")),
        list(Decision.objects.filter(proposal__council=council).values()),
        list(Ballot.objects.filter(proposal__council=council).values_list("pk", "choice")),
    )


def test_a_delegate_has_no_power_over_another_councils_internals(scene, members_of):
    federation, bakery, farm, motion = scene
    delegate = api(members_of(bakery)[0])
    before = snapshot(farm)
    attempts = [
        ("post", f"/councils/{farm.slug}/proposals", {"title": "Remove a farmer", "kind": "removal",
                                                      "subject_member": members_of(farm)[1].username}),
        ("post", f"/proposals/{motion.pk}/withdraw", None),
        ("post", f"/proposals/{motion.pk}/schedule", {"deliberation_ends": "2031-01-01T00:00:00Z",
                                                      "voting_ends": "2031-01-02T00:00:00Z"}),
        ("post", f"/proposals/{motion.pk}/amendments", {"passage": "Farm", "replacement": "Federation"}),
        ("post", f"/councils/{farm.slug}/leave", None),
    ]
    for method, path, body in attempts:
        response = delegate(method, path, body)
        assert response.status_code in (403, 409), (path, response.status_code)
        assert response.json()["detail"]
    from councils.decisions.services import cast_ballot
    from councils.errors import NotAllowed

    with pytest.raises(NotAllowed):
        cast_ballot(members_of(bakery)[0], motion, "yes")
    assert snapshot(farm) == before


def test_a_delegate_has_no_more_power_in_their_own_council_than_any_member(scene, members_of, make_proposal):
    federation, bakery, farm, _ = scene
    own = make_proposal(bakery, members_of(bakery)[1], title="Bakery business", deliberation=timedelta(hours=1))
    delegate = api(members_of(bakery)[0])
    before = snapshot(bakery)
    for method, path, body in [
        ("post", f"/proposals/{own.pk}/withdraw", None),
        ("post", f"/proposals/{own.pk}/schedule", {"deliberation_ends": "2031-01-01T00:00:00Z", "voting_ends": "2031-01-02T00:00:00Z"}),
    ]:
        response = delegate(method, path, body)
        assert response.status_code == 403 and response.json()["detail"], path
    assert snapshot(bakery) == before


def test_a_federation_cannot_decide_a_member_councils_internals(scene, members_of):
    federation, bakery, farm, _ = scene
    delegate = api(members_of(bakery)[0])
    for matter in ("membership of the farm", "the farm's charter", "the farm's officers"):
        response = delegate("post", f"/federations/{federation.slug}/proposals", {"title": "Take over", "matter": matter})
        assert response.status_code == 422 and response.json()["field"] == "matter"
    # Nor may it widen its own competences except by the member councils' mandated vote: the proposal only goes down.
    proposal = create_federation_proposal(members_of(bakery)[0], federation, title="Wider", kind="competences",
                                          competences=["bread", "transport", "farm membership"])
    assert proposal.mandates.count() == 2


def test_the_api_has_no_operation_by_which_a_federation_changes_a_member_council():
    from councils.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        if "federation" in path or "delegate" in path or "petition" in path or "recall" in path:
            assert not {"put", "patch", "delete"} & set(operations), path
            assert "members" not in path and "charter" not in path and "officers" not in path, path
