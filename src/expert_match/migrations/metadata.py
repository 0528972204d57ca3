"""Every feature's models in one ``metadata`` (Alembic and the test setup use it).

Lives beside the migrations because it is the one place allowed to import every feature."""

from expert_match.auth import models as _auth  # noqa: F401
from expert_match.db.base import Base
from expert_match.experts import models as _experts  # noqa: F401
from expert_match.notify import models as _notify  # noqa: F401
from expert_match.orgs import models as _orgs  # noqa: F401
from expert_match.tickets import models as _tickets  # noqa: F401

metadata = Base.metadata
