"""Federations of councils: affiliation by each council's own decision."""
