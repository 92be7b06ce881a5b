"""Single sign-on to the console with OpenID Connect (the authorization code flow, with
PKCE): the team signs in with the business's identity provider (Google Workspace,
Microsoft Entra, Okta, Keycloak...), and each person's role comes from a claim of their ID
token.

endpoints.yml:

    console:
      sso:
        issuer: https://login.example.com/realms/shop
        client_id: parlez-console
        client_secret: ${PARLEZ_SSO_CLIENT_SECRET}
        role_claim: groups            # a string or a list of strings in the ID token
        roles:                        # the claim's value -> the console's role
          support-leads: admin
          support: agent
        default_role: viewer          # optional: without it, anyone unmapped is refused

authlib's OAuth 2 client makes the requests (PKCE S256, the client's secret); joserfc
checks the ID token's signature against the provider's published keys, its issuer,
audience, expiry and nonce.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from authlib.common.security import generate_token, is_secure_transport

from parlez.console.roles import Role
from parlez.exceptions import Location, ParlezError, SchemaError
from parlez.io.yaml import where

# authlib's client and joserfc (0.15 s together, through `cryptography`) are imported at a
# sign-on, not with the module: every server imports it, SSO or not.
if TYPE_CHECKING:
    from authlib.integrations.httpx_client import AsyncOAuth2Client
    from joserfc.jwk import KeySet

logger = logging.getLogger(__name__)

#: seconds a provider's discovery document and keys are trusted before they are read again
METADATA_SECONDS = 3600.0
#: seconds to wait for the provider
TIMEOUT = 10.0
#: seconds a person has to sign in at the provider and come back
PENDING_SECONDS = 600


class SignOnError(ParlezError):
    """Single sign-on could not finish; the message is shown on the sign-in page."""

    code = "P610"


@dataclass(frozen=True)
class SingleSignOn:
    """The `console: sso:` settings of endpoints.yml."""

    issuer: str
    client_id: str
    client_secret: str
    role_claim: str = "roles"
    roles: dict[str, Role] = field(default_factory=dict)
    default_role: Role | None = None
    #: the sign-in page's button
    label: str = "Sign in with single sign-on"
    scope: str = "openid email profile"
    #: the callback as the provider must call it, when a proxy hides the console's own URL
    redirect_uri: str | None = None

    @classmethod
    def from_endpoints(cls, console: dict[str, Any] | None) -> SingleSignOn | None:
        """The settings under `console: sso:`; None when there are none. A wrong key or
        value is an error that names its line in endpoints.yml."""
        if not console or console.get("sso") is None:
            return None
        raw = console["sso"]
        if not isinstance(raw, dict):
            raise SchemaError(
                "'console: sso:' must be a mapping of keys such as 'issuer:'", where(console, "sso")
            )
        known = set(cls.__dataclass_fields__)
        for key in raw:
            if key not in known:
                raise SchemaError(
                    f"'console: sso:' has no key '{key}'",
                    where(raw, key),
                    hint=f"the keys are {', '.join(sorted(known))}",
                )
        for key in ("issuer", "client_id", "client_secret"):
            if not str(raw.get(key) or "").strip():
                raise SchemaError(
                    f"'console: sso:' needs '{key}'",
                    where(raw, key) or where(console, "sso"),
                    hint="client_secret: ${PARLEZ_SSO_CLIENT_SECRET} reads it from the environment"
                    if key == "client_secret"
                    else None,
                )
        issuer = str(raw["issuer"]).rstrip("/")
        if not is_secure_transport(issuer):
            raise SchemaError(
                f"the issuer '{issuer}' must be an https:// address",
                where(raw, "issuer", value=True),
            )
        mapping = raw.get("roles") or {}
        if not isinstance(mapping, dict):
            raise SchemaError(
                "'roles:' maps a claim's value to a role, such as 'support: agent'",
                where(raw, "roles"),
            )
        return cls(
            issuer=issuer,
            client_id=str(raw["client_id"]),
            client_secret=str(raw["client_secret"]),
            role_claim=str(raw.get("role_claim") or "roles"),
            roles={str(k): _role(v, where(mapping, k, value=True)) for k, v in mapping.items()},
            default_role=_role(raw["default_role"], where(raw, "default_role", value=True))
            if raw.get("default_role")
            else None,
            label=str(raw.get("label") or cls.label),
            scope=str(raw.get("scope") or cls.scope),
            redirect_uri=str(raw["redirect_uri"]) if raw.get("redirect_uri") else None,
        )

    def role_for(self, claims: dict[str, Any]) -> Role | None:
        """The highest role any of the claim's values maps to; else the default role."""
        value = claims.get(self.role_claim)
        values = value if isinstance(value, list) else [value]
        mapped = {self.roles[str(v)] for v in values if str(v) in self.roles}
        for role in Role:  # Role lists the roles from the most to the least trusted
            if role in mapped:
                return role
        return self.default_role


def _role(value: Any, at: Location | None) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise SchemaError(
            f"'{value}' is not a console role",
            at,
            hint=f"the roles are {', '.join(r.value for r in Role)}",
        ) from None


@dataclass(frozen=True)
class Pending:
    """A sign-in started at the provider, kept in the browser's cookie until it comes back:
    the callback must carry the same `state` (no one else's sign-in), the ID token the same
    `nonce` (no replayed token), and the token request the PKCE verifier."""

    state: str
    nonce: str
    verifier: str
    next: str

    def dumps(self) -> str:
        """As a cookie's value: JSON, in base64 so that no character needs quoting."""
        text = json.dumps([self.state, self.nonce, self.verifier, self.next])
        return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii")

    @classmethod
    def loads(cls, value: str | None) -> Pending | None:
        try:
            state, nonce, verifier, then = json.loads(base64.urlsafe_b64decode(value or ""))
        except (ValueError, TypeError):
            return None
        return cls(str(state), str(nonce), str(verifier), str(then))


@dataclass(frozen=True)
class Person:
    """Who signed in at the provider."""

    email: str
    name: str
    role: Role | None


class OpenIdProvider:
    """The business's identity provider, found from its issuer's discovery document."""

    def __init__(self, settings: SingleSignOn) -> None:
        self.settings = settings
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    def _client(self, redirect_uri: str) -> AsyncOAuth2Client:
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        return AsyncOAuth2Client(
            client_id=self.settings.client_id,
            client_secret=self.settings.client_secret,
            scope=self.settings.scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=TIMEOUT,
        )

    async def metadata(self, fresh: bool = False) -> dict[str, Any]:
        """The discovery document and the signing keys, read once an hour (or now, when
        the provider has rotated its keys)."""
        async with self._lock:
            stale = time.monotonic() - self._read_at > METADATA_SECONDS
            if self._metadata is None or fresh or stale:
                url = f"{self.settings.issuer}/.well-known/openid-configuration"
                try:
                    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                        found = (await http.get(url)).raise_for_status().json()
                        keys = (await http.get(found["jwks_uri"])).raise_for_status().json()
                except (httpx.HTTPError, ValueError, KeyError) as error:
                    logger.warning("The identity provider %s is not reachable: %s", url, error)
                    raise SignOnError(
                        "Single sign-on is not reachable now: try again in a moment, or sign "
                        "in with your password."
                    ) from error
                if str(found.get("issuer", "")).rstrip("/") != self.settings.issuer:
                    raise SignOnError(
                        f"The identity provider calls itself '{found.get('issuer')}', not "
                        f"'{self.settings.issuer}': check 'issuer' in endpoints.yml."
                    )
                from joserfc.jwk import KeySet

                self._metadata, self._keys = found, KeySet.import_key_set(keys)
                self._read_at = time.monotonic()
            return self._metadata

    async def start(self, redirect_uri: str, then: str) -> tuple[str, Pending]:
        """Where to send the browser to sign in, and what to keep until it comes back."""
        metadata = await self.metadata()
        pending = Pending(generate_token(32), generate_token(32), generate_token(64), then)
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=pending.state,
                code_verifier=pending.verifier,
                nonce=pending.nonce,
            )
        return url, pending

    async def finish(self, redirect_uri: str, code: str, pending: Pending) -> Person:
        """Trade the code for an ID token, check the token, and read who it names."""
        metadata = await self.metadata()
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=pending.verifier
                )
        except Exception as error:  # authlib raises its own errors and httpx's
            logger.warning("The identity provider refused the sign-in code: %s", error)
            raise SignOnError("The identity provider refused the sign-in: try again.") from error
        claims = await self._checked(str(token.get("id_token") or ""), pending.nonce)
        email = str(claims.get("email") or "").strip().lower()
        if "@" not in email or claims.get("email_verified") is False:
            raise SignOnError(
                "The identity provider gave no verified e-mail address for your account."
            )
        name = str(claims.get("name") or claims.get("preferred_username") or "")
        return Person(email, name or email.split("@", 1)[0], self.settings.role_for(claims))

    async def _checked(self, id_token: str, nonce: str) -> dict[str, Any]:
        from joserfc import jwt
        from joserfc.errors import JoseError

        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            nonce={"essential": True, "value": nonce},
            sub={"essential": True},
            exp={"essential": True},
        )
        for attempt in range(2):
            assert self._keys is not None
            try:
                token = jwt.decode(id_token, self._keys)
                registry.validate(token.claims)
                return dict(token.claims)
            except JoseError as error:
                unknown_key = "key" in type(error).__name__.lower() or "kid" in str(error)
                if attempt == 0 and unknown_key:
                    await self.metadata(fresh=True)  # the provider rotated its keys
                    continue
                logger.warning("An ID token was refused: %s", error)
                raise SignOnError("The sign-in could not be checked: try again.") from error
            except ValueError as error:  # not a JWT at all
                logger.warning("An ID token was refused: %s", error)
                raise SignOnError("The sign-in could not be checked: try again.") from error
        raise SignOnError("The sign-in could not be checked: try again.")
