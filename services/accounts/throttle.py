"""The public's throttle: guesses at follow-up credentials, and mailbox submissions.

It is the login throttle (``AccountStore``: counters in the accounts database, shared by
every process, timed by the store's injected clock), counting other keys:

- a **failed follow-up** (wrong query code or password, API or page) counts on the query
  code and on the client address: ``PublicLimits.follow_up.max_failures`` per code and
  ``client_max_failures`` per client within its window lock that key, for a period that
  doubles with each lockout;
- a **mailbox submission** counts on the client address: ``mailbox_per_day`` of them within
  24 hours lock the client until the day has passed.

Each attempt is counted *before* it is made, in the transaction that checks the key
(``AccountStore.reserve``): parallel requests cannot all pass a check made before any of them
was counted. A follow-up that turns out right is taken back. Clients are counted per IPv4
address and per IPv6 /64. A locked key answers 429 with ``Retry-After``. Each lockout is
written to the audit of sensitive reads (``follow_up_locked`` / ``mailbox_locked``), once
when it starts — not per refused request, so a flood cannot fill the audit. Keys are keyed digests: neither a
client's address nor a query code is stored.

The **client address** is the socket peer; ``X-Forwarded-For`` is believed only when the peer
is one of ``JIANDU_TRUSTED_PROXIES`` (default none), and then the address the nearest
untrusted hop gave (the rightmost entry not itself a trusted proxy).
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from fastapi import Request
from prometheus_client import Counter

from schemas.glossary import Role, SensitiveItem
from services.accounts.lockouts import Reservation
from services.accounts.model import Principal
from services.accounts.policy import PublicLimits, ThrottlePolicy, TooManyAttempts
from services.accounts.store import AccountStore

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

PUBLIC_REFUSALS = Counter(
    "jiandu_public_throttled_total", "Public requests refused by the throttle", ["what"]
)
PUBLIC = Principal(username="public", display_name="public", role=Role.REPORTER)
DAY = dt.timedelta(days=1)


def client_address(request: Request, trusted: tuple[Network, ...]) -> str:
    """The caller's address, believing X-Forwarded-For only from a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            return hop
    return peer


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


class PublicThrottle:
    def __init__(self, store: AccountStore | None, client: str) -> None:
        self.store = store  # None: an app without accounts (a router tested alone)
        self.client = client
        self.limits = store.public_limits if store is not None else PublicLimits()

    @classmethod
    def of(cls, request: Request) -> PublicThrottle:
        store: AccountStore | None = getattr(request.app.state, "accounts", None)
        trusted = store.trusted_proxies if store is not None else ()
        return cls(store, client_address(request, trusted))

    # -- follow-up ---------------------------------------------------------------------

    def _follow_up_keys(self, query_code: str) -> dict[str, int]:
        assert self.store is not None
        code = query_code.replace("-", "").strip().upper()
        policy = self.limits.follow_up
        return {
            self.store.throttle_key("follow-up-code", code): policy.max_failures,
            self.store.client_key("follow-up-client", self.client): policy.client_max_failures,
        }

    def start_follow_up(self, query_code: str) -> Reservation | None:
        """Count this attempt before checking the credentials (refused while locked): parallel
        guesses cannot all slip through. Then :meth:`follow_up_failed` or
        :meth:`follow_up_succeeded`."""
        if self.store is None:
            return None
        attempt = self.store.reserve(self._follow_up_keys(query_code), self.limits.follow_up)
        if attempt.refused_for:
            PUBLIC_REFUSALS.labels("follow_up").inc()
            raise _follow_up_refusal(attempt.refused_for)
        return attempt

    def follow_up_failed(self, attempt: Reservation | None) -> None:
        """A wrong code or password: it stays counted; raise if it started a lockout."""
        if self.store is None or attempt is None or not attempt.locked_for:
            return
        self._record(
            SensitiveItem.FOLLOW_UP_LOCKED, attempt.locked_for, "too many failed follow-ups"
        )
        PUBLIC_REFUSALS.labels("follow_up").inc()
        raise _follow_up_refusal(attempt.locked_for)

    def follow_up_succeeded(self, attempt: Reservation | None) -> None:
        """The right code and password: the attempt is taken back."""
        if self.store is not None and attempt is not None:
            self.store.refund(attempt)

    # -- mailbox -----------------------------------------------------------------------

    def _mailbox_policy(self) -> ThrottlePolicy:
        return ThrottlePolicy(
            max_failures=self.limits.mailbox_per_day,
            client_max_failures=self.limits.mailbox_per_day,
            window=DAY,
            first_lockout=DAY,
            max_lockout=DAY,
            forget_after=DAY,
        )

    def _mailbox_key(self) -> str:
        assert self.store is not None
        return self.store.client_key("mailbox-client", self.client)

    def reserve_mailbox(self) -> None:
        """Count one submission before it is made (refused, 429, while the client is
        locked); the one that reaches the day's limit goes through and locks the client."""
        if self.store is None:
            return
        attempt = self.store.reserve(
            {self._mailbox_key(): self.limits.mailbox_per_day}, self._mailbox_policy()
        )
        if attempt.refused_for:
            PUBLIC_REFUSALS.labels("mailbox").inc()
            raise _mailbox_refusal(attempt.refused_for, self.limits.mailbox_per_day)
        if attempt.locked_for:
            self._record(
                SensitiveItem.MAILBOX_LOCKED, attempt.locked_for, "mailbox submissions per day"
            )

    def _record(self, kind: SensitiveItem, wait: int, reason: str) -> None:
        assert self.store is not None
        self.store.record_read(
            PUBLIC,
            kind.value,
            self.store.client_key("audit-client", self.client)[:16],
            reason,
            detail=f"locked for {wait} s",
        )


def _follow_up_refusal(wait: int) -> TooManyAttempts:
    minutes = -(-wait // 60)
    return TooManyAttempts(
        wait,
        f"too many wrong query codes or passwords: try again in {minutes} minute(s) "
        f"(查询码或密码错误次数过多，请 {minutes} 分钟后再试)",
    )


def _mailbox_refusal(wait: int, limit: int) -> TooManyAttempts:
    hours = -(-wait // 3600)
    return TooManyAttempts(
        wait,
        f"at most {limit} online reports a day from one address: try again in {hours} hour(s) "
        f"(同一地址每天最多提交 {limit} 件网上举报，请 {hours} 小时后再试)",
    )
