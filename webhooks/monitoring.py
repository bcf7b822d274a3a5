"""Who may read /metrics and the details of /healthz: the addresses of BMABOT_METRICS_ALLOW
(default: this machine only), or anyone sending BMABOT_METRICS_TOKEN as a bearer token.

A request that came through a reverse proxy (it carries Forwarded, X-Forwarded-For or
X-Real-IP) is judged by the token alone: its peer address is the proxy's, not the caller's.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from aiohttp import web

from core.audit.security_log import Event, loggable, security_event
from core.settings import Settings, metrics_networks

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@dataclass(frozen=True, slots=True, repr=False)
class MonitoringAccess:
    networks: tuple[Network, ...]
    token: bytes | None

    @classmethod
    def from_settings(cls, settings: Settings) -> MonitoringAccess:
        token = settings.metrics_token
        return cls(
            tuple(metrics_networks(settings)),
            None if token is None else token.get_secret_value().encode("utf-8"),
        )

    def allows(self, request: web.Request) -> bool:
        if self._has_token(request):
            return True
        if any(header in request.headers for header in PROXY_HEADERS):
            return False
        address = _address(request.remote)
        return address is not None and any(address in network for network in self.networks)

    def _has_token(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if self.token is None or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(given.strip().encode("utf-8"), self.token)


def refused(request: web.Request) -> web.Response:
    """403, and a line in the security log."""
    security_event(
        Event.METRICS_REFUSED, path=request.path, remote=loggable(request.remote or "-")
    )
    return web.Response(status=403, text="forbidden")


def _address(remote: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((remote or "").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
