"""Settings for the test suite: production's, with a throw-away data folder, static files from the apps, and a fast password hasher."""

import os
import tempfile

os.environ.setdefault("COUNCILS_DATA", tempfile.mkdtemp(prefix="councils-test-"))

from councils.settings import *  # noqa: E402,F403
from councils.settings import STORAGES  # noqa: E402

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Argon2 is deliberately slow and the suite makes hundreds of users; a test
# checks that production's settings hash with Argon2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not SQLite's shared in-memory database: the worker tests run the worker on its own
    # connection beside the test's, which shared-cache memory databases refuse ("table is locked").
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# The tests' clock is stopped and their acts follow each other within a second: no live state is kept between polls.
COUNCILS_LIVE_CACHE_SECONDS = 0
