"""Councils: software for federations of self-managed councils."""

__version__ = "0.1.0"
