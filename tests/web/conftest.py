from __future__ import annotations

import pytest

from tests.network import Network
from tests.web.helpers import ADMIN, REQUESTER, expert_email, set_password


@pytest.fixture
def web(network: Network, database) -> Network:
    """The small ticket network with passwords, so every user can sign in through the pages."""
    for email in (REQUESTER, ADMIN, *(expert_email(name) for name in network.experts)):
        set_password(database, email)
    network.client.cookies.clear()
    return network
from tests.web.live import live  # noqa: E402,F401  (the live-server fixture for browser tests)
