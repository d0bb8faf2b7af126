"""A fake OpenAI-compatible server on 127.0.0.1 for tests and the LLM benchmarks.

Serves ``/v1/chat/completions`` (plain, tool-call and json_schema ``response_format``
requests) and ``/v1/embeddings`` so that the real openai / langchain-openai clients talk to
it over HTTP. Every request body is kept (``bodies``) so tests can check what was sent.

Behaviours (``server.behaviour``): ``normal``, ``slow`` (waits ``delay`` seconds first),
``error500``, ``rate429``, ``malformed`` (structured output that is not JSON) and
``hallucinate`` (cites an article that was not retrieved, next to the real one).
The normal answers are deterministic functions of the request, read from the JSON data our
prompts carry; ``replies[schema name]`` overrides them with a fixed payload.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from retrieval.embeddings import LocalHashEmbedder

BEHAVIOURS = ("normal", "slow", "error500", "rate429", "malformed", "hallucinate")
_FIRST_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")


def _data_of(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON data block of the last user message (our prompts put the data there)."""
    for msg in reversed(body.get("messages", [])):
        if msg.get("role") == "user":
            content = msg.get("content")
            text = content if isinstance(content, str) else json.dumps(content)
            start = text.find("{")
            try:
                loaded = json.loads(text[start:]) if start >= 0 else {}
            except json.JSONDecodeError:
                return {}
            return loaded if isinstance(loaded, dict) else {}
    return {}


def default_payload(schema: str, data: dict[str, Any], *, hallucinate: bool = False) -> Any:
    """What a cooperative model would answer for our three schemas."""
    if schema == "GroundedReply":
        sources = data.get("sources") or []
        if not sources:
            return {"answerable": False, "answer": "", "cited_titles": []}
        first = sources[0]
        m = _FIRST_SENTENCE.search(str(first.get("text", "")))
        cited = [first.get("title", "")]
        if hallucinate:
            cited.append("不存在的文章：月球种植指南")
        return {"answerable": True, "answer": m.group(0) if m else "", "cited_titles": cited}
    if schema == "Standalone":
        history = data.get("history") or []
        last = history[-1].get("question", "") if history else ""
        return {"question": f"{last[:8]}{data.get('message', '')}"}
    return {}


@dataclass
class FakeLLM:
    """The server; ``start()`` runs it in a thread with its own event loop."""

    behaviour: str = "normal"
    delay: float = 3.0
    replies: dict[str, Any] = field(default_factory=dict)
    bodies: list[str] = field(default_factory=list)
    slow_done: int = 0  # slow requests that have waited their whole delay
    hook: Callable[[dict[str, Any]], None] | None = None
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: web.AppRunner | None = None
    _thread: threading.Thread | None = None
    _embedder: LocalHashEmbedder = field(default_factory=lambda: LocalHashEmbedder(dim=64))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat_bodies(self) -> list[dict[str, Any]]:
        out = []
        for raw in self.bodies:
            body = json.loads(raw)
            if "messages" in body:
                out.append(body)
        return out

    # ---- HTTP ----------------------------------------------------------------------------
    async def _chat(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.bodies.append(raw)
        body = json.loads(raw)
        if self.hook is not None:
            self.hook(body)
        if self.behaviour == "slow":
            await asyncio.sleep(self.delay)
            self.slow_done += 1
        if self.behaviour == "error500":
            return web.json_response({"error": {"message": "boom", "type": "server"}}, status=500)
        if self.behaviour == "rate429":
            return web.json_response(
                {"error": {"message": "slow down", "type": "rate_limit"}},
                status=429,
                headers={"retry-after": "1"},
            )
        schema, mode = _schema_of(body)
        data = _data_of(body)
        if schema in self.replies:
            payload = self.replies[schema]
        else:
            payload = default_payload(schema, data, hallucinate=self.behaviour == "hallucinate")
        text = "{not json: " if self.behaviour == "malformed" else json.dumps(payload)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if mode == "tools":
            message["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": schema, "arguments": text},
                }
            ]
            finish = "tool_calls"
        else:
            message["content"] = text if mode == "json_schema" else str(payload)
        prompt_tokens = len(raw) // 4
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": body.get("model", "fake"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": prompt_tokens + len(text) // 4,
                },
            }
        )

    async def _embeddings(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.bodies.append(raw)
        body = json.loads(raw)
        if self.behaviour == "error500":
            return web.json_response({"error": {"message": "boom"}}, status=500)
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        vectors = self._embedder.embed([str(t) for t in texts])
        return web.json_response(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": i, "embedding": [float(x) for x in vec]}
                    for i, vec in enumerate(vectors)
                ],
                "model": body.get("model", "fake"),
                "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
            }
        )

    # ---- life cycle ----------------------------------------------------------------------
    def start(self) -> FakeLLM:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_post("/v1/embeddings", self._embeddings)
            # a slow request in flight must not hold up stop() for a minute
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
            loop.run_until_complete(self._runner.setup())
            # port 0: the system picks a free port and the bound socket keeps it (no race)
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            loop.run_until_complete(site.start())
            self.port = int(self._runner.addresses[0][1])
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-llm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            msg = f"fake LLM server did not start on port {self.port}"
            raise RuntimeError(msg)
        return self

    def stop(self) -> None:
        """Stop serving: open connections get 0.2 s to finish, then the thread ends."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
            if self._thread.is_alive():
                msg = "fake LLM server did not stop within 5 s"
                raise RuntimeError(msg)

    def reset(self) -> None:
        self.behaviour = "normal"
        self.replies.clear()
        self.bodies.clear()
        self.slow_done = 0
        self.hook = None


def _schema_of(body: dict[str, Any]) -> tuple[str, str]:
    """(schema name, 'tools' | 'json_schema' | 'text') of a chat request."""
    tools = body.get("tools") or []
    if tools:
        return str(tools[0]["function"]["name"]), "tools"
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"]), "json_schema"
    return "", "text"
