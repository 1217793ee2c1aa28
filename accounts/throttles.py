"""Throttles for everything that takes credentials, shared by every host.

DRF's throttles keep their counters in the cache; on the `default` cache the key would
carry the schema, so every tenant host (and every newly registered tenant) would grant
a fresh budget. These keep theirs in the `throttle` cache (the platform's Redis), whose
keys do not depend on the host. A refusal is `429` with `Retry-After` (DRF) and a
security event for operators.

While Redis is down the counters move to each process's memory (core.counters): the
budgets hold per worker process instead of platform-wide, and never fall open.

Rates are `N/<period>` where the period may carry a count: `10/15m`, `20/h`, `60/min`.
"""

import hashlib
import re

from rest_framework.throttling import SimpleRateThrottle

from accounts.models import UserManager
from audit.services import security_event_record
from core.counters import FallbackCache

_PERIOD = re.compile(r"^(\d*)\s*([smhd])")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The `throttle` cache is the platform's Redis without IGNORE_EXCEPTIONS, so a failure
# is seen and counted in memory instead of passing for "nothing counted yet".
_COUNTERS = FallbackCache(shared="throttle", local="throttle-local")


class PlatformRateThrottle(SimpleRateThrottle):
    """SimpleRateThrottle on the platform's Redis (memory while it is down), with
    multi-unit periods."""

    cache = _COUNTERS  # type: ignore[assignment]  # DRF calls only get and set, which it has

    def parse_rate(self, rate):
        if rate is None:
            return None, None
        count, period = rate.split("/")
        match = _PERIOD.match(period.strip())
        if match is None:
            raise ValueError(f"Unreadable throttle rate {rate!r}; write e.g. 10/15m.")
        return int(count), int(match.group(1) or 1) * _SECONDS[match.group(2)]

    def throttle_failure(self):
        security_event_record(kind="throttled", email=self._account_email(), details={"scope": self.scope})
        return False

    def _account_email(self) -> str:
        return ""

    def _key(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ClientIPThrottle(PlatformRateThrottle):
    """Per client address (X-Forwarded-For trusted only as far as NUM_PROXIES)."""

    def get_cache_key(self, request, view):
        return self._key(self.get_ident(request))


class LoginIPThrottle(ClientIPThrottle):
    scope = "login_ip"


class AccountThrottle(PlatformRateThrottle):
    """Per e-mail address in the body (hashed in the key), across every host, whether or
    not an account has that address."""

    def get_cache_key(self, request, view):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return None  # the view answers 400 for the missing field
        self.email = UserManager.normalize_email(email)[:254]
        return self._key(hashlib.sha256(self.email.encode()).hexdigest())

    def _account_email(self) -> str:
        return getattr(self, "email", "")


class LoginAccountThrottle(AccountThrottle):
    """Per account tried: the budget of guesses against one account does not grow with
    the number of tenants an attacker registers."""

    scope = "login_account"


class PasswordResetThrottle(AccountThrottle):
    """Reset e-mails asked for one address: nobody floods a mailbox from many addresses."""

    scope = "password_reset"


class AuthThrottle(ClientIPThrottle):
    """Refresh, logout, invitation acceptance, password change and reset."""

    scope = "auth"


class RegisterThrottle(ClientIPThrottle):
    scope = "register"


class InvitationThrottle(PlatformRateThrottle):
    """Invitations sent or resent per tenant, whoever sends them: a tenant cannot be used
    to mail strangers without bound. A refusal is an `invitation_abuse` security event."""

    scope = "invitation"

    def get_cache_key(self, request, view):
        self.request = request
        return self._key(str(request.tenant.pk))

    def throttle_failure(self):
        security_event_record(
            kind="invitation_abuse",
            user=self.request.user,
            tenant=self.request.tenant,
            details={"scope": self.scope},
        )
        return False
