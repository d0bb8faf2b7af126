from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dialogs.assistant import Assistant
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat


@pytest.fixture
def assistant(engine: Engine, kb_index, tmp_path) -> Assistant:
    return make_assistant(engine, kb_index, tmp_path)


@pytest.fixture
def chat(assistant: Assistant) -> Chat:
    return Chat(assistant, "老王")
