"""The chat model for `tianfu bench ... --llm`: the configured endpoint, or the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dialogs.llm.client import ChatModel, open_chat_model


@contextmanager
def bench_model(
    *,
    api_key: str,
    base_url: str,
    model: str,
    timeout: float,
    method: str,
    fake: bool,
) -> Iterator[ChatModel]:
    """A chat model in mode "both"; with *fake*, against a fake server started here.

    Raises:
        ValueError: no API key and no fake server.
    """
    server: Any = None
    if fake:
        from bench.fake_llm import FakeLLM

        server = FakeLLM().start()
        api_key, base_url, model = "fake-key", server.base_url, "fake-model"
    if not api_key:
        msg = "--llm needs OPENAI_API_KEY (and OPENAI_BASE_URL if not OpenAI's), or --fake-llm"
        raise ValueError(msg)
    chat = open_chat_model(
        api_key=api_key, base_url=base_url, model=model, timeout=timeout, method=method
    )
    assert chat is not None  # a key was given and the mode is "both"
    try:
        yield chat
    finally:
        chat.close()
        if server is not None:
            server.stop()
