"""Adapters behind the ``councils`` command line: parse arguments, call an engine or a service, print."""
