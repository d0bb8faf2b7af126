"""`/wechat`: the WeChat Official Account's server URL.

WeChat posts each message signed (and in 安全模式 encrypted) and waits five seconds for the
answer; without one it tries twice more. So: verify, deduplicate on MsgId in the database,
run the turn, and answer with a passive reply when it is ready within ``reply_within``
(4.5 s); otherwise answer ``success`` and let the sender deliver the replies through the
customer-service API when the turn is done. A retry of a message being handled waits for
the first attempt's answer and gives the same one.

With REDIS_URL (issue 17) the turn runs in `tianfu worker` instead: the message is queued
(deduplicated on MsgId in Redis, then by the handled row), the worker commits the replies as
outbox rows held for this request until its deadline (store.replies), and the request takes
the first message's worth as the passive reply - one conditional UPDATE, so a retry and the
sender cannot deliver them again - and hands the rest to the sender at once. When the worker
is not done within ``reply_within`` the answer is ``success`` and the held rows fall due at
the deadline for the sender, as a slow turn's answer does in one process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from aiohttp import ClientError, web
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.cluster.apology import apologise
from bot.wechat.api import WechatAPI, WechatError
from bot.wechat.protocol import BadMessage, BadSignature, Codec, WechatMessage
from bot.wechat.render import Chunk, Item, item_of, item_of_json, pack
from dialogs.actions import Action, parse_action
from dialogs.i18n import t
from dialogs.types import Incoming, MediaIn, Outcome
from store.clock import utcnow
from store.outbox import block, enqueue_many, is_blocked, unblock
from store.replies import held_replies, record_replies, release_replies, take_replies
from store.updates import DONE, claim_update, finish_update, handled_update, was_handled
from store.wechat import CHANNEL, note_inbound, note_sent, offered

if TYPE_CHECKING:
    from bot.app import Services
    from bot.cluster.handoff import Handoff

log = logging.getLogger(__name__)

REPLY_WITHIN = 4.5  # seconds: WeChat gives up on an answer after 5
AMR = "audio/amr"
SUCCESS = "success"  # "received, no passive reply" (WeChat then neither retries nor shows)


@dataclass(eq=False)
class WechatChannel:
    """The account's inbound side; shares *wake* with its sender."""

    services: Services
    codec: Codec
    api: WechatAPI
    now: Callable[[], datetime] = utcnow
    reply_within: float = REPLY_WITHIN
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # answers being worked out in this process, by update key: a retry waits for them
    inflight: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    later: set[asyncio.Task[None]] = field(default_factory=set)  # slow turns still running
    # a lock per person with a turn in this process (gone with the last reference)
    people: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )
    turns: int = 0  # turns run (each update once)
    handoff: Handoff | None = None  # REDIS_URL: turns run in `tianfu worker`
    channel: ClassVar[str] = CHANNEL

    # ---- HTTP ------------------------------------------------------------------------------
    async def get(self, request: web.Request) -> web.Response:
        """WeChat checks the server URL: echo echostr when the signature is ours."""
        try:
            echo = self.codec.handshake(request.query)
        except BadSignature as exc:
            log.warning("WeChat URL check refused from %s: %s", request.remote, exc)
            return web.Response(status=403, text="forbidden")
        return web.Response(text=echo)

    async def post(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            message = self.codec.open(query, await request.read())
        except BadSignature as exc:
            log.warning("WeChat POST refused from %s: %s", request.remote, exc)
            return web.Response(status=403, text="forbidden")
        except BadMessage as exc:
            log.warning("WeChat POST unreadable from %s: %s", request.remote, exc)
            return web.Response(status=400, text=f"bad request: {exc}")
        text = await self.answer(message)
        if not text:
            return web.Response(text=SUCCESS)
        xml = self.codec.reply(message, text, query, encrypt=self.codec.encrypted(query))
        return web.Response(text=xml, content_type="application/xml")

    # ---- one message -----------------------------------------------------------------------
    async def answer(self, message: WechatMessage) -> str:
        """The passive reply's text for *message*, or "" to answer ``success``."""
        if message.kind == "event" and message.event != "subscribe":
            self._event(message)
            return ""
        if self.handoff is not None:
            answer = await self._answer_queued(self.handoff, message)
            if answer is not None:
                return answer
            # Redis away: WeChat cannot resend later, so this process handles it as without
        with self.services.session_factory() as s:
            first = claim_update(
                session=s, channel=CHANNEL, update_id=message.key, chat_id=message.openid
            )
        if not first:
            return await self._retry(message)
        decided: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.inflight[message.key] = decided
        try:
            text = await self._run(message)
        except Exception:
            log.exception("WeChat message %s from %s failed", message.key, message.openid)
            text = t("error", self.services.settings.locale)
        finally:
            self.inflight.pop(message.key, None)
        decided.set_result(text)
        with self.services.session_factory() as s:
            finish_update(session=s, channel=CHANNEL, update_id=message.key, result=text)
        return text

    async def _retry(self, message: WechatMessage) -> str:
        """The answer a retried message was given (or gets, if it is still being worked
        out here); "" when the first attempt went on without a passive reply."""
        log.info("WeChat retry of %s from %s", message.key, message.openid)
        running = self.inflight.get(message.key)
        if running is not None:
            try:
                return await asyncio.wait_for(asyncio.shield(running), self.reply_within)
            except TimeoutError:
                return ""
        with self.services.session_factory() as s:
            earlier = handled_update(session=s, channel=CHANNEL, update_id=message.key)
        # still running in another process: that one answers, later if need be
        return earlier.result if earlier is not None and earlier.status == DONE else ""

    async def _run(self, message: WechatMessage) -> str:
        task = asyncio.create_task(self._turn(message))
        done, _ = await asyncio.wait({task}, timeout=self.reply_within)
        if task in done:
            return self._passive(message.openid, task.result())
        log.info("WeChat turn %s is slow: answering later", message.key)
        later = asyncio.create_task(self._deliver_later(message.openid, task))
        self.later.add(later)
        later.add_done_callback(self.later.discard)
        return ""

    def _event(self, message: WechatMessage) -> None:
        if message.event == "unsubscribe":  # WeChat delivers nothing to them any more
            with self.services.session_factory() as s:
                block(session=s, channel=CHANNEL, external_id=message.openid)
            log.info("WeChat user %s unsubscribed", message.openid)

    async def _turn(self, message: WechatMessage) -> Outcome:
        # one person's messages one after the other (a photo and then its words, sent a
        # second apart, must not read and write their conversation at the same time)
        lock = self.people.setdefault(message.openid, asyncio.Lock())
        async with lock:
            return await self._turn_alone(message)

    async def _turn_alone(self, message: WechatMessage) -> Outcome:
        with self.services.session_factory() as s:
            if is_blocked(session=s, channel=CHANNEL, external_id=message.openid):
                unblock(session=s, channel=CHANNEL, external_id=message.openid)
            choices, ref = note_inbound(session=s, openid=message.openid, at=self.now())
        self.wake.set()  # their window is open again: what waited for it may go now
        incoming = await self.incoming(message, choices, ref)
        if incoming is None:
            out = Outcome()
            out.say(t("wechat_unsupported", self.services.settings.locale))
            return out
        self.turns += 1
        services = self.services

        def run() -> Outcome:
            with services.session_factory() as session:
                return services.assistant.handle(incoming, session=session)

        # a turn may wait for the model (LLM mode): the event loop keeps serving others
        outcome = await asyncio.to_thread(run)
        with services.session_factory() as s:
            if services.queue(s, outcome):
                self.wake.set()
        return outcome

    async def incoming(
        self, message: WechatMessage, choices: list[dict[str, str]], ref: str
    ) -> Incoming | None:
        """The assistant's view of a message: a number or label of an offered choice is
        that button; images and voice are downloaded. None for what we cannot read."""
        base = {"channel": CHANNEL, "user_id": message.openid}
        match message.kind:
            case "event":  # subscribe: the welcome and the three ways to start
                return Incoming(**base, text="/start")
            case "text":
                action = _chosen(message.text, choices)
                if action is not None:
                    return Incoming(**base, action=action)
                return Incoming(**base, text=message.text, reply_to_ref=ref)
            case "image" | "voice":
                photo = message.kind == "image"
                try:
                    data, mime = await self.api.download(
                        message.media_id, message.pic_url if photo else ""
                    )
                except (WechatError, ClientError, TimeoutError) as exc:
                    log.warning("WeChat %s %s not downloaded: %s", message.kind, message.key, exc)
                    return Incoming(**base, text=message.text)
                # WeChat's voice messages are AMR files, whatever the download's header says
                media = MediaIn("photo", data, mime) if photo else MediaIn("voice", data, AMR)
                return Incoming(**base, text=message.text, media=(media,), reply_to_ref=ref)
        return None

    # ---- through the workers (REDIS_URL) -----------------------------------------------------
    async def _answer_queued(self, handoff: Handoff, message: WechatMessage) -> str | None:
        """Queue *message* for a worker and give the passive reply when its turn committed
        within ``reply_within`` ("" otherwise); None when Redis cannot take it."""
        from redis.exceptions import RedisError

        until = handoff.deadline(self.reply_within)
        payload = {"m": asdict(message), "until": until.isoformat()}
        try:
            new = await handoff.queue(message.key, message.openid, payload)
        except (RedisError, OSError) as exc:
            log.warning("WeChat message %s not queued, Redis away: %s", message.key, exc)
            return None
        if not new:
            log.info("WeChat retry of %s from %s", message.key, message.openid)
        ids = await handoff.wait(message.key, self.reply_within)
        if ids is None:
            log.info("WeChat turn %s is slow: answering later", message.key)
            return ""
        text = self._take_passive(message.openid, ids)
        if text:
            await handoff.remember(message.key, text)
            return text
        # a retry whose first attempt took the replies: the same answer again
        return "" if new else await handoff.recall(message.key)

    def _take_passive(self, openid: str, ids: list[int]) -> str:
        """Take the first message's worth of the held replies as the passive reply (the rest
        goes to the sender now); "" when there is no text or another request took them."""
        with self.services.session_factory() as s:
            rows = held_replies(session=s, ids=ids)
            texts = [r for r in rows if r.text.strip() or r.buttons]
            if not texts:
                if release_replies(session=s, ids=[r.id or 0 for r in rows]):
                    self.wake.set()
                return ""
            items = [item_of_json(r.text, r.buttons) for r in texts]
            first = pack(items, start=offered(session=s, openid=openid) + 1, max_chunks=1)[0]
            taken = texts[: first.done]
            cut = None
            if first.rest and first.done < len(texts):
                row = texts[first.done]
                cut = (row.id or 0, row.text, first.rest)
            if not take_replies(session=s, ids=[r.id or 0 for r in taken], cut=cut):
                return ""
            note_sent(session=s, openid=openid, messages=0, choices=first.choices)
            took = {r.id for r in taken}
            rest = [r.id or 0 for r in rows if r.id not in took]
            if release_replies(session=s, ids=rest):
                self.wake.set()
        return first.text

    async def handle(self, fields: dict[bytes, bytes]) -> None:
        """(In `tianfu worker`) one queued message: the turn, then its replies held for the
        waiting request and the handled row, committed together; returns once committed."""
        payload = json.loads(fields[b"u"])
        message = WechatMessage(**payload["m"])
        with self.services.session_factory() as s:
            if was_handled(session=s, channel=CHANNEL, update_id=payload["id"]):
                return
            if is_blocked(session=s, channel=CHANNEL, external_id=message.openid):
                unblock(session=s, channel=CHANNEL, external_id=message.openid)
            choices, ref = note_inbound(session=s, openid=message.openid, at=self.now())
        self.wake.set()
        incoming = await self.incoming(message, choices, ref)
        services = self.services

        def run() -> bool:
            with services.session_factory() as session:
                if incoming is None:
                    outcome = Outcome()
                    outcome.say(t("wechat_unsupported", services.settings.locale))
                else:
                    outcome = services.assistant.handle(incoming, session=session)
                services.queue(session, outcome, commit=False)
                return self._commit_queued(session, payload, outcome)

        self.turns += 1
        if await asyncio.to_thread(run) and self.handoff is not None:
            await self.handoff.announce(payload["id"])

    async def give_up(self, fields: dict[bytes, bytes], exc: BaseException) -> None:
        """A queued message that keeps failing: the person gets an apology (once)."""
        await apologise(self.services, CHANNEL, fields, self._commit_queued, self.handoff)

    def _commit_queued(self, session: Session, payload: dict[str, Any], outcome: Outcome) -> bool:
        openid = str(payload["m"]["openid"])
        record_replies(
            session=session,
            channel=CHANNEL,
            update_id=payload["id"],
            chat_id=openid,
            rows=self._rows(openid, _items(outcome), _media(outcome)),
            until=datetime.fromisoformat(payload["until"]),
        )
        try:
            session.commit()
        except IntegrityError:  # handled meanwhile by another worker: that one counts
            session.rollback()
            return False
        return True

    async def close(self) -> None:
        await self.api.close()

    # ---- replies ---------------------------------------------------------------------------
    def _passive(self, openid: str, outcome: Outcome) -> str:
        """The first message's worth of the replies, as the passive reply; the rest is
        queued for the customer-service API."""
        items = _items(outcome)
        if not items:
            with self.services.session_factory() as s:
                if self._queue(s, openid, [], _media(outcome)):
                    self.wake.set()
            return ""
        with self.services.session_factory() as s:
            start = offered(session=s, openid=openid) + 1
            first = pack(items, start=start, max_chunks=1)[0]
            note_sent(session=s, openid=openid, messages=0, choices=first.choices)
            if self._queue(s, openid, _rest(items, first), _media(outcome)):
                self.wake.set()
        return first.text

    async def _deliver_later(self, openid: str, task: asyncio.Task[Outcome]) -> None:
        try:
            outcome = await task
        except Exception:
            log.exception("slow WeChat turn for %s failed", openid)
            outcome = Outcome()
            outcome.say(t("error", self.services.settings.locale))
        with self.services.session_factory() as s:
            if self._queue(s, openid, _items(outcome), _media(outcome)):
                self.wake.set()

    @staticmethod
    def _queue(session: Session, openid: str, items: list[Item], media: list[int]) -> int:
        """Queue *items* for the customer-service API, then one row with the photos and
        voice messages the replies showed."""
        return enqueue_many(session=session, messages=WechatChannel._rows(openid, items, media))

    @staticmethod
    def _rows(openid: str, items: list[Item], media: list[int]) -> list[dict[str, Any]]:
        """Outbox rows for *items*, then one with the photos and voice messages."""
        photos = {
            "channel": CHANNEL,
            "external_id": openid,
            "text": "",
            "media": media,
            "kind": "reply",
        }
        return [
            {
                "channel": CHANNEL,
                "external_id": openid,
                "text": item.text,
                "buttons": [[{"label": lb, "action": a} for lb, a in item.choices]]
                if item.choices
                else [],
                "kind": "reply",
            }
            for item in items
        ] + ([photos] if media else [])


def _items(outcome: Outcome) -> list[Item]:
    # a document (the /mydata JSON) cannot go as text; its reply's text stands alone
    return [item_of(r.text, r.buttons) for r in outcome.replies if r.text.strip() or r.buttons]


def _media(outcome: Outcome) -> list[int]:
    """The stored photos and voice the replies show, each once, in order."""
    return list(dict.fromkeys(m for r in outcome.replies for m in r.media))


def _rest(items: list[Item], sent: Chunk) -> list[Item]:
    rest = items[sent.done :]
    if sent.rest and rest:
        rest[0] = Item(sent.rest, rest[0].choices)
    return rest


def _chosen(text: str, choices: list[dict[str, str]]) -> Action | None:
    """The action of the choice *text* names by number ("1", "１") or by label."""
    said = text.strip().translate(_FULLWIDTH_DIGITS)
    picked: dict[str, str] | None = None
    if said.isdigit() and 1 <= int(said) <= len(choices):
        picked = choices[int(said) - 1]
    else:
        picked = next((c for c in choices if c.get("label") == said), None)
    return parse_action(picked.get("action", "")) if picked is not None else None


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
