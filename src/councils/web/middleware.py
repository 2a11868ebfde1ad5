from __future__ import annotations

# Scripts and styles only from our own origin: user text cannot inject either.
POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI sets inline styles from its own bundle; its page shows no user text.
DOCS_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = DOCS_POLICY if request.path.startswith("/api/docs") else POLICY
            response["Content-Security-Policy"] = policy
        return response


class HostileInputMiddleware:
    """Refuses, before any view or database sees them, requests that carry control characters where text goes.

    PostgreSQL's text columns cannot hold NUL: a NUL that reached a query answered 500 (a path like
    ``/api/councils/a%00b``, ``?receipt=%00``, a title in a JSON body). Here the path and query (no control character
    at all), form fields and JSON strings (none but tab and line breaks) are checked once for every view; the services
    check their text fields too, for the command line and imports. An API body over the size limit gets a JSON 413, as
    every API answer is JSON. Every 429 carries ``Retry-After``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if response.status_code == 429 and "Retry-After" not in response:
            from django.conf import settings

            # The log-in lock-out (django-axes): its cool-off, in seconds.
            response["Retry-After"] = str(int(float(getattr(settings, "AXES_COOLOFF_TIME", 0.25)) * 3600))
        return response

    def _refusal(self, request):
        from django.core.exceptions import RequestDataTooBig

        from councils.errors import control_character

        api = request.path_info.startswith("/api/")
        if control_character(request.path_info, line_breaks=False):
            return self._bad(api, "The address contains a control character.", "path")
        for key, values in request.GET.lists():
            if any(control_character(item, line_breaks=False) for item in [key, *values]):
                return self._bad(api, f"The query parameter {key!r} contains a control character.", key)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return None
        content_type = request.META.get("CONTENT_TYPE", "")
        try:
            if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
                for key, values in request.POST.lists():
                    if any(control_character(item) for item in [key, *values]):
                        return self._bad(api, f"The field {key!r} contains a control character.", key)
            elif api:
                field = _json_control_field(request.body)
                if field is not None:
                    return self._bad(api, f"The field {field!r} contains a control character.", field)
        except RequestDataTooBig:
            if api:
                from django.conf import settings
                from django.http import JsonResponse

                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return JsonResponse({"detail": f"The request body is larger than the limit of {limit:,} bytes."}, status=413)
            raise
        return None

    @staticmethod
    def _bad(api: bool, message: str, field: str):
        from django.http import HttpResponseBadRequest, JsonResponse

        if api:
            return JsonResponse({"detail": message, "field": field}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def _json_control_field(body: bytes) -> str | None:
    """The first field (key path) of a JSON body whose string holds a control character; None for other bodies."""
    import json

    from councils.errors import control_character

    if b"\x00" in body:
        return "body"
    try:
        value = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return None  # not JSON: the view answers that
    stack = [("body", value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if control_character(item):
                return where
        elif isinstance(item, dict):
            for key, child in item.items():
                if control_character(key):
                    return where
                stack.append((key, child))
        elif isinstance(item, list):
            stack.extend((where, child) for child in item)
    return None


class SignedActMiddleware:
    """Hands the signed statement a request carries to the services (``councils.accounts.signing``), for pages and
    the API alike, and answers a prepare request with HTTP 428 and the statement to sign.

    The request names its signature in headers (``Councils-Statement``: base64url of the statement's bytes,
    ``Councils-Signature``, ``Councils-Key``) or, from a page's form, in the fields ``councils_statement`` (the
    statement's text), ``councils_signature`` and ``councils_key``. With ``Councils-Prepare: 1`` and no signature,
    an act the services would write answers 428 ``{"detail", "statement", "held_by_server"}`` and writes nothing,
    whatever the view does with the refusal (a page re-renders its form, the API answers 428 anyway); a request the
    services refuse for another reason gets the view's own answer (the form with its errors).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return self.get_response(request)
        from django.http import JsonResponse

        from councils.accounts.signing import offering
        from councils.record.statement import StatementError, _unb64url

        headers = request.headers
        statement = signature = key = None
        if "Councils-Statement" in headers or "Councils-Signature" in headers:
            raw = headers.get("Councils-Statement", "")
            try:
                statement = _unb64url(raw, len(raw) * 3 // 4, "Councils-Statement") if raw else None
            except StatementError as exc:
                return self._bad(request, f"{exc}: send the statement's bytes in base64url without padding")
            signature = headers.get("Councils-Signature") or None
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            text = request.POST.get("councils_statement") or None
            statement = text.encode("utf-8") if text is not None else None
            signature = request.POST.get("councils_signature") or None
            key = request.POST.get("councils_key") or None
        key = headers.get("Councils-Key") or key
        prepare = headers.get("Councils-Prepare") == "1" and statement is None and signature is None
        required: list = []
        with offering(statement, signature, key, prepare, collect=required):
            response = self.get_response(request)
        if prepare and required:
            first = required[0]
            return JsonResponse({"detail": first.message, "statement": first.statement,
                                 "held_by_server": first.held_by_server}, status=428)
        return response

    @staticmethod
    def _bad(request, message):
        from django.http import JsonResponse

        return JsonResponse({"detail": message, "field": "Councils-Statement"}, status=400)
