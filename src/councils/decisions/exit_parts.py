"""Which of decisions' rows a council takes with it when it moves (``assemblies.exit``), and what in them depends on
keys: option ids inside ballots, and the digest a decision keeps of the ballots it counted."""

from __future__ import annotations

import json

from councils.assemblies.exit import Part, register_finish, register_part
from councils.decisions import services
from councils.decisions.ballots import digest
from councils.decisions.models import Proposal


def _map_options(content, option_of):
    """Ballot content (approvals: a list of option ids; scores: {option id: score}; a ranking: groups of ids) with each
    option id passed through ``option_of``."""
    if isinstance(content, dict):
        return {str(option_of(int(key))): value for key, value in content.items()}
    if isinstance(content, list):
        return [_map_options(item, option_of) if isinstance(item, (list, dict)) else option_of(item) for item in content]
    return content


def _to_new(mapping):
    return lambda origin_id: mapping.new("decisions.Option", origin_id)


def _to_origin(mapping):
    return lambda new_id: mapping.origin("decisions.Option", new_id)


def _remap_content(row, mapping) -> list:
    if row.content_json:
        row.content_json = json.dumps(_map_options(json.loads(row.content_json), _to_new(mapping)))
        row.save(update_fields=["content_json"])
    return []


def _ballot_to_origin(state: dict, row, mapping) -> dict:
    return {**state, "content": _map_options(state.get("content"), _to_origin(mapping))}


def _proposal_to_origin(state: dict, row, mapping) -> dict:
    options = [{**option, "id": mapping.origin("decisions.Option", option["id"]),
                "member": mapping.origin_username(option.get("member"))} for option in state.get("options", [])]
    return {**state, "options": options}


def _origin_rows(proposal, mapping) -> list[dict]:
    rows = []
    for row in services.rows_of(proposal):
        row = dict(row)
        if "voter" in row:
            row["voter"] = mapping.origin_username(row["voter"])
        row["content"] = _map_options(row.get("content"), _to_origin(mapping))
        rows.append(row)
    return sorted(rows, key=lambda r: r.get("voter") or r.get("receipt") or "")


def _decision_after_import(decision, mapping) -> list:
    """The digest of the ballots as they are counted here (new option ids, usernames here)."""
    decision.ballots_digest = digest(services.rows_of(decision.proposal))
    decision.save(update_fields=["ballots_digest"])
    return []


def _decision_to_origin(state: dict, decision, mapping) -> dict:
    """The digest the origin recorded must be the digest of these ballots in the origin's ids: the file's ballots are
    the ones the decision counted."""
    return {**state, "ballots_digest": digest(_origin_rows(decision.proposal, mapping))}


def _seal_open_boxes(council, mapping) -> list[tuple[str, dict]]:
    """Open secret votes: their boxes sealed again here (the origin's seal is keyed by the origin's secret)."""
    return [(f"box:{p.pk}", services.box_seal(p))
            for p in Proposal.objects.filter(council=council, secret=True, decision__isnull=True)]


def register() -> None:
    register_part(Part("decisions.Proposal", ("council",), 10, to_origin=_proposal_to_origin))
    register_part(Part("decisions.Option", ("proposal__council",), 11))
    register_part(Part("decisions.Comment", ("proposal__council",), 12))
    register_part(Part("decisions.Report", ("proposal__council", "comment__proposal__council"), 13))
    register_part(Part("decisions.Ballot", ("proposal__council",), 14, after_import=_remap_content,
                       to_origin=_ballot_to_origin))
    register_part(Part("decisions.VoterRegister", ("proposal__council",), 15))
    register_part(Part("decisions.SecretBallot", ("proposal__council",), 16, after_import=_remap_content))
    register_part(Part("decisions.Decision", ("proposal__council",), 20, after_import=_decision_after_import,
                       to_origin=_decision_to_origin))
    register_part(Part("decisions.MinorityReport", ("decision__proposal__council",), 21))
    register_finish(_seal_open_boxes)
