from __future__ import annotations

from tests.conftest import ephemeral_client

__all__ = ["ephemeral_client"]
