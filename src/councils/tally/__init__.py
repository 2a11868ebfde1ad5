"""The tally engine: ballots in, results that explain themselves out. No Django, no I/O but file readers."""

from councils.tally.condorcet import (
    condorcet_winner, tally_condorcet, tally_copeland, tally_ranked_pairs, tally_schulze,
)
from councils.tally.formats import (
    BallotFileError, BltElection, read_blt, read_preflib, read_profile, write_blt, write_preflib,
)
from councils.tally.irv import tally_irv
from councils.tally.majority import MajorityResult, tally_consensus, tally_majority
from councils.tally.positional import (
    tally_approval, tally_approval_from_profile, tally_borda, tally_plurality, tally_score,
)
from councils.tally.profile import UNRANKED, Profile, ProfileError
from councils.tally.results import Round, TallyResult
from councils.tally.seeds import ballots_digest, ballots_seed, seed_from_digest, table_digest
from councils.tally.stv import SeatsError, tally_stv_meek, tally_stv_scottish

# Ranked methods by the names the command line and the app use.
RANKED_METHODS = {
    "plurality": tally_plurality,
    "approval": tally_approval_from_profile,
    "borda": tally_borda,
    "irv": tally_irv,
    "schulze": tally_schulze,
    "ranked-pairs": tally_ranked_pairs,
    "copeland": tally_copeland,
    "condorcet": tally_condorcet,
    "stv-scottish": tally_stv_scottish,
    "stv-meek": tally_stv_meek,
}
MULTI_SEAT_METHODS = {"stv-scottish", "stv-meek"}

__all__ = [
    "BallotFileError", "BltElection", "MajorityResult", "MULTI_SEAT_METHODS", "Profile", "ProfileError",
    "RANKED_METHODS", "Round", "SeatsError", "TallyResult", "UNRANKED", "ballots_digest", "ballots_seed",
    "condorcet_winner", "read_blt", "seed_from_digest", "table_digest",
    "read_preflib", "read_profile", "tally_approval", "tally_approval_from_profile", "tally_borda",
    "tally_condorcet", "tally_consensus", "tally_copeland", "tally_irv", "tally_majority", "tally_plurality",
    "tally_ranked_pairs", "tally_schulze", "tally_score", "tally_stv_meek", "tally_stv_scottish",
    "write_blt", "write_preflib",
]
