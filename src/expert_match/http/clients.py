"""Who the client is, for the login and filing limits: the socket peer, or,
when the peer is a reverse proxy the operator named (``EXPERT_MATCH_TRUSTED_PROXIES``), the
address that proxy forwards.

Production runs behind a proxy that terminates TLS. Without this, every client had the proxy's
address: one city-wide budget of 120 filings an hour, and 20 failed logins from anyone locked
everyone out for 15 minutes. The header is believed only from the named proxies, and only the
entries they appended: walking ``X-Forwarded-For`` from the right, the first address that is not
a trusted proxy is the client; anything a client wrote to the left of it is ignored. The servers'
own header handling is off (uvicorn trusts 127.0.0.1 by default, granian nothing), so both
answer alike.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from expert_match.settings import Network, Settings, parse_networks


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, settings: Settings) -> TrustedProxies:
        return cls(parse_networks(settings.trusted_proxies))

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address, given the socket peer and every ``X-Forwarded-For`` value.

        >>> proxies = TrustedProxies(parse_networks("127.0.0.1"))
        >>> proxies.client("127.0.0.1", ["6.6.6.6, 203.0.113.7"])  # the proxy appended .7
        '203.0.113.7'
        >>> proxies.client("198.51.100.2", ["203.0.113.7"])  # not from the proxy: the peer
        '198.51.100.2'
        >>> proxies.client("127.0.0.1", ["nonsense"]), proxies.client("127.0.0.1", [])
        ('127.0.0.1', '127.0.0.1')
        """
        if not self.networks or not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            if self.trusts(hop):
                continue
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # what the proxy forwarded is no address: count it as the proxy's
        return peer
