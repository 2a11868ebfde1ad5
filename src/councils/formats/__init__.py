"""Dates on pages, per language (settings.FORMAT_MODULE_PATH); everything not set here is Django's own for that
language (month and day names, decimal and thousands separators). Times are shown on the 24-hour clock with the
time zone, as members of a federation spread over zones need."""
