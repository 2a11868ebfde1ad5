"""Idempotency keys for the API's writes: a retried request is answered, never applied twice.

A client that sends ``Idempotency-Key: <up to 255 printable ASCII characters>``
with a write may send the same request again, as often as it likes (after a
time-out, a dropped connection, a server killed mid-request): the act happens at
most once, and every repetition gets the first answer, marked with the header
``Idempotent-Replayed: true``.

How: the endpoint runs inside one transaction that also stores the key with the
response (``accounts.IdempotencyKey``, unique per member and key). Either the
act and its key are committed together, or neither is, so there is no state in
which the act happened but a retry would do it again, and no half-written act.
Two copies of one request racing each other both run; the second one to commit
trips the unique constraint, is rolled back whole, and answers with the first
one's stored response.

Only successful answers (2xx) are stored: a refusal writes nothing, so repeating
the request simply asks again (the vote may have opened in between). A key
reused for a different request (method, path or body) is refused with 422.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja.responses import NinjaJSONEncoder, Status
from ninja.signature.utils import get_typed_signature

from councils import clock
from councils.adapters import sql
from councils.errors import Invalid

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
PATTERN = r"^[\x21-\x7e]{1,255}$"  # printable ASCII, no spaces
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
HELP = ("any unique string (1 to 255 printable ASCII characters, e.g. a UUID): a repeated request with the same key "
        "is answered with the first answer and not applied twice")


def request_digest(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(stored) -> HttpResponse:
    response = HttpResponse(stored.body, status=stored.status, content_type="application/json; charset=utf-8")
    response[REPLAYED_HEADER] = "true"
    return response


@functools.cache
def _rows():
    from councils.accounts.models import IdempotencyKey

    return sql.Rows(IdempotencyKey)


@functools.cache
def _stored_sql() -> str:
    rows = _rows()
    return (f"SELECT {rows.columns()} FROM {sql.table(rows.model)} "
            f"WHERE {sql.quote('user_id')} = %s AND {sql.quote('key')} = %s")


def _stored(user, key: str, digest: str):
    # Asked on every keyed write: a statement written once (adapters.sql).
    row = sql.one(_stored_sql(), [user.pk, key])
    stored = _rows().make(row) if row is not None else None
    if stored is not None and stored.request_digest != digest:
        raise Invalid(_("This %(header)s was already used for a different request: use a new key for each request.") % {"header": HEADER},
                      field=HEADER)
    return stored


def _split(result) -> tuple[int, object]:
    if isinstance(result, Status):
        return result.status_code, result.value
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], int):
        return result
    return 200, result


def idempotent(view=None, *, keep=None):
    """Make an authenticated ninja endpoint honour ``Idempotency-Key`` (see the module's docstring).

    Apply it under the router's decorator, so that authentication has run and
    ``request.auth`` is the member. Without the header the endpoint runs as before.
    ``keep(answer)`` may return False for an answer that must not be stored with
    the member's name (a secret ballot's receipt and secret): the act stands, the
    key is not kept, and a repetition is answered as a new request would be.
    """
    if view is None:
        return functools.partial(idempotent, keep=keep)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        if not KEY_PATTERN.fullmatch(key):
            raise Invalid(_("%(header)s must be 1 to 255 printable ASCII characters without spaces.") % {"header": HEADER}, field=HEADER)
        user = request.auth
        digest = request_digest(request)
        try:
            with transaction.atomic():
                stored = _stored(user, key, digest)
                if stored is not None:
                    return _replay(stored)
                result = view(request, *args, **kwargs)
                if isinstance(result, HttpResponse):
                    status, value = result.status_code, None
                else:
                    status, value = _split(result)
                if not 200 <= status < 300 or isinstance(result, HttpResponse):
                    # Refusals are not kept, and neither is what they wrote.
                    transaction.set_rollback(not 200 <= status < 300)
                    return result
                if keep is not None and not keep(value):
                    return result
                sql.insert(_rows().model, {"user_id": user.pk, "key": key, "request_digest": digest, "status": status,
                                           "body": json.dumps(value, cls=NinjaJSONEncoder), "created_at": clock.now()})
                return result
        except IntegrityError:
            # The same request committed first, from another connection: this one was rolled back whole.
            stored = _stored(user, key, digest)
            if stored is None:
                raise
            return _replay(stored)

    # ninja reads the view's parameters from the signature: give it the view's, with its names resolved.
    wrapper.__signature__ = get_typed_signature(view)
    return wrapper
