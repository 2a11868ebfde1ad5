"""Layout, home page, shared templates, charts."""
