"""Import every feature's models so that ``metadata`` describes the whole schema."""

from __future__ import annotations

from oberih.audit import models as _audit  # noqa: F401
from oberih.changes import models as _changes  # noqa: F401
from oberih.db.base import Base
from oberih.documents import models as _documents  # noqa: F401
from oberih.exchange import models as _exchange  # noqa: F401
from oberih.persons import models as _persons  # noqa: F401
from oberih.rules import models as _rules  # noqa: F401

metadata = Base.metadata
