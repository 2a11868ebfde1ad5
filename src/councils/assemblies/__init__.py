"""Councils, their members and their charters."""
