from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dialogs.assistant import Assistant
from retrieval.tokenizer import shared_tokenizer
from store.db import make_session_factory
from tests.dialogs.chat import Chat


@pytest.fixture
def assistant(engine: Engine, kb_index) -> Assistant:
    return Assistant(make_session_factory(engine), kb_index, shared_tokenizer())


@pytest.fixture
def chat(assistant: Assistant) -> Chat:
    return Chat(assistant, "老王")
