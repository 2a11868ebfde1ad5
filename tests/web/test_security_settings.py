import json
import os
import subprocess
import sys

import pytest


def production_settings(**env):
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({k: getattr(settings, k, None) for k in ["
        "'DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'PASSWORD_HASHERS', "
        "'SESSION_COOKIE_HTTPONLY', 'AXES_FAILURE_LIMIT']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "councils.settings", **env},
    )
    return json.loads(result.stdout)


def test_production_defaults_are_safe(tmp_path):
    values = production_settings(COUNCILS_DATA=str(tmp_path))
    assert values["DEBUG"] is False
    assert values["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["AXES_FAILURE_LIMIT"] == 5
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_https_deployments_get_secure_cookies_and_hsts(tmp_path):
    values = production_settings(COUNCILS_DATA=str(tmp_path), COUNCILS_HTTPS="1")
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000


def test_secret_key_is_kept_between_starts(tmp_path):
    production_settings(COUNCILS_DATA=str(tmp_path))
    first = (tmp_path / "secret_key").read_text()
    production_settings(COUNCILS_DATA=str(tmp_path))
    assert (tmp_path / "secret_key").read_text() == first


@pytest.mark.django_db
def test_argon2_hashes_passwords(settings):
    from django.contrib.auth.hashers import check_password, make_password

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

    encoded = make_password("a long enough passphrase", hasher="argon2")
    assert encoded.startswith("argon2$") and check_password("a long enough passphrase", encoded)
