from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from councils.accounts import services
from councils.accounts.auth import browser_only_auth, member_auth
from councils.adapters.api import errors

router = Router(tags=["me"])


class TokenIn(Schema):
    name: str = Field(..., max_length=80)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(..., description="shown once: store it now")


def token_out(token) -> dict:
    return {"id": token.pk, "name": token.name, "prefix": token.prefix, "created_at": token.created_at,
            "last_used_at": token.last_used_at, "revoked_at": token.revoked_at}


# Token management needs the browser session: a stolen token must not be able to mint more.
@router.get("/me/tokens", response={200: list[TokenOut], **errors(401, 403)}, auth=browser_only_auth, summary="My tokens")
def list_tokens(request):
    return [token_out(t) for t in request.auth.api_tokens.all()]


@router.post("/me/tokens", response={201: NewTokenOut, **errors(401, 403, 422)}, auth=browser_only_auth, summary="Create a token")
def create_token(request, payload: TokenIn):
    token, raw = services.create_token(request.auth, payload.name)
    return Status(201, {**token_out(token), "token": raw})


@router.delete("/me/tokens/{token_id}", response={200: TokenOut, **errors(401, 403, 404)}, auth=browser_only_auth, summary="Revoke a token")
def revoke_token(request, token_id: int):
    return token_out(services.revoke_token(request.auth, token_id))
