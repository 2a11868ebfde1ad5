"""A decided vote's ballots as files anyone can recount with any tool: PrefLib, BLT, CSV."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from councils import tally
from councils.decisions.ballots import ballots_for_display, engine_input
from councils.decisions.models import Proposal
from councils.decisions.services import ballot_rows
from councils.errors import Invalid

FORMATS = {"csv": "text/csv", "soi": "text/plain", "toi": "text/plain", "blt": "text/plain"}


def export_ballots(proposal: Proposal, fmt: str) -> tuple[str, str]:
    """(text, content type). Ranked formats need a ranked vote."""
    if fmt not in FORMATS:
        raise Invalid(_("format must be one of %(formats)s") % {"formats": ', '.join(FORMATS)}, field="format")
    rows = ballot_rows(proposal)
    labels = {o.pk: o.label for o in proposal.options.all()}
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        key = "receipt" if proposal.secret else "voter"
        writer.writerow([key, "ballot", "reason"])
        for row, text in zip(rows, ballots_for_display(proposal, rows, labels)):
            writer.writerow([row[key], text, row.get("reason", "")])
        return out.getvalue(), FORMATS[fmt]
    if not proposal.is_ranked:
        raise Invalid(_("PrefLib and BLT files hold ranked ballots; this vote's ballots are in CSV"), field="format")
    names = list(labels.values())
    rankings = engine_input(proposal, rows, labels)
    profile = tally.Profile.from_rankings(names, rankings)
    if fmt == "blt":
        try:
            return tally.write_blt(profile, proposal.seats, title=proposal.title), FORMATS[fmt]
        except tally.ProfileError:
            raise Invalid(_("BLT files hold strict rankings; this vote has tied ranks: download .toi"), field="format") from None
    return tally.write_preflib(profile, title=proposal.title, data_type=fmt), FORMATS[fmt]
