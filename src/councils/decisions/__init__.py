"""Proposals, comments, ballots and decisions."""
