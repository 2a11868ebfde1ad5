from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema, Status

from councils.accounts import services, signing
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


# ----- members' keys (docs/api.md "Signed acts") ---------------------------------------------------------------


class KeyIn(Schema):
    public_key: str = Field(..., max_length=100, description="base64url (no padding) of the raw 32-byte Ed25519 public key")
    label: str = Field("", max_length=80)
    statement: str = Field(..., max_length=2000, description="the key.register statement, signed by this key")
    signature: str = Field(..., max_length=200, description="base64url of the 64-byte Ed25519 signature")


class KeyOut(Schema):
    key_id: str
    public_key: str
    label: str
    held_by_server: bool
    registered_at: datetime
    revoked_at: datetime | None


def key_out(key) -> dict:
    return {"key_id": key.key_id, "public_key": key.public_key, "label": key.label,
            "held_by_server": key.held_by_server, "registered_at": key.registered_at, "revoked_at": key.revoked_at}


@router.get("/members/me/keys", response={200: list[KeyOut], **errors(401)}, auth=member_auth, summary="My keys")
def list_keys(request):
    return [key_out(k) for k in signing.keys_of(request.auth)]


@router.post("/members/me/keys", url_name="member-keys", response={201: KeyOut, **errors(400, 401, 403, 409, 422)}, auth=member_auth,
             summary="Register a key (proof of possession: the key.register statement signed by it)")
def register_key(request, payload: KeyIn):
    key = signing.register_key(request.auth, payload.public_key, payload.label, statement=payload.statement,
                               signature=payload.signature)
    return Status(201, key_out(key))


@router.post("/members/me/keys/{key_id}/revoke", response={200: KeyOut, **errors(401, 403, 404)}, auth=member_auth,
             summary="Revoke one of my keys (acts it signed stay valid)")
def revoke_key(request, key_id: str):
    return key_out(signing.revoke_key(request.auth, key_id))


class ClaimChallengeOut(Schema):
    username: str
    challenge: str
    expires_at: datetime
    act: str
    council: str
    object: str
    content: dict
    keys: list[str] = Field(..., description="the key IDs the member's origin registered to them (any one may sign)")


class ClaimIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=4096, description="the account's new password (Django's validators apply)")
    statement: str = Field(..., max_length=2000, description="the membership.claim statement, signed by the member's key")
    signature: str = Field(..., max_length=200, description="base64url of the 64-byte Ed25519 signature")


class ClaimOut(Schema):
    username: str
    key_id: str
    claimed: bool


@router.get("/members/claim/challenge", response={200: ClaimChallengeOut, **errors(404, 409)}, auth=None,
            summary="A challenge for an arrived member to sign (free exit: claim the account an import made)")
def claim_challenge(request, username: str):
    from councils.accounts import claim

    return claim.challenge(username)


@router.post("/members/claim", response={200: ClaimOut, **errors(400, 403, 404, 409, 422)}, auth=None,
             summary="Claim an arrived member's account: the challenge signed with one of the member's keys, a new password")
def claim_membership(request, payload: ClaimIn):
    from councils.accounts import claim
    from councils.record import statement as st

    user = claim.claim(payload.username, payload.password, payload.statement, payload.signature)
    return {"username": user.username, "key_id": st.parse_statement(payload.statement.encode("utf-8")).key,
            "claimed": True}
