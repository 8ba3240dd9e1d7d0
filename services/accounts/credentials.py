"""API tokens and page sessions: random secrets, stored only as SHA-256 digests, with an
expiry; deactivating an account or changing its password ends them all (store.py)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Literal

from services.accounts.model import Principal
from services.accounts.tables import (
    StoreBase,
    account_of,
    parse_stamp,
    principal_of,
    secret_digest,
    utc_stamp,
)

CredentialKind = Literal["token", "session"]


class Credentials(StoreBase):
    """Bearer tokens for the API and session ids for the pages."""

    session_lifetime: dt.timedelta
    token_lifetime: dt.timedelta

    def issue_token(self, principal: Principal) -> str:
        """A bearer token for the API, valid ``token_hours``."""
        return self._issue(principal, "token", self.token_lifetime)

    def token_expiry(self, token: str) -> dt.datetime | None:
        return self._expiry(token, "token")

    def principal_for_token(self, token: str) -> Principal | None:
        return self._principal_for(token, "token")

    def start_session(self, principal: Principal) -> str:
        """An opaque page-session id (for the ``jiandu_session`` cookie), valid ``session_hours``."""
        return self._issue(principal, "session", self.session_lifetime)

    def principal_for_session(self, session_id: str) -> Principal | None:
        return self._principal_for(session_id, "session")

    def end_session(self, session_id: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM account_credentials WHERE digest = %s AND kind = %s",
                (secret_digest(session_id), "session"),
            )

    def revoke_token(self, token: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                "DELETE FROM account_credentials WHERE digest = %s AND kind = %s",
                (secret_digest(token), "token"),
            )

    def _issue(self, principal: Principal, kind: CredentialKind, lifetime: dt.timedelta) -> str:
        secret = secrets.token_urlsafe(32)
        now = self.now()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM account_credentials WHERE expires_at <= %s", (utc_stamp(now),))
            cur.execute(
                "INSERT INTO account_credentials (digest, kind, username, issued_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s)",
                (
                    secret_digest(secret),
                    kind,
                    principal.username,
                    utc_stamp(now),
                    utc_stamp(now + lifetime),
                ),
            )
        return secret

    def _expiry(self, secret: str, kind: CredentialKind) -> dt.datetime | None:
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT expires_at FROM account_credentials WHERE digest = %s AND kind = %s",
                (secret_digest(secret), kind),
            )
            row = cur.fetchone()
        return parse_stamp(row["expires_at"]) if row else None

    def _principal_for(self, secret: str, kind: CredentialKind) -> Principal | None:
        if not secret or len(secret) > 200:
            return None
        with self.db.transaction() as cur:
            cur.execute(
                "SELECT a.* FROM account_credentials c JOIN accounts a ON a.username = c.username "
                "WHERE c.digest = %s AND c.kind = %s AND c.expires_at > %s AND a.active = 1",
                (secret_digest(secret), kind, utc_stamp(self.now())),
            )
            row = cur.fetchone()
        return principal_of(account_of(row)) if row else None
