"""Photos and voice in the conversation: a photo starts a need, photos go with the need to
its experts (at most six), refusals are said in Chinese, voice is kept or understood."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from dialogs.actions import parse_action
from dialogs.assistant import Assistant
from dialogs.types import Incoming, MediaIn
from store.media import MediaFile, MediaStorage, media_for_need
from store.needs import Need
from tests import media_files as f
from tests.conftest import make_assistant
from tests.dialogs.chat import Chat

NEED = "我在宜宾翠屏区，李子树流胶很严重，想请专家来看看，电话13912345678"
EXPERT = "我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900000001，我叫张建国"
SOIL_NEED = "我在宜宾翠屏区，李子园土壤酸化板结，果子产量低，想请专家来看看，电话13800001234"
PHOTO = MediaIn("photo", f.jpeg_with_gps(), "image/jpeg")


class FakeTranscriber:
    """Says what it was told to hear; records what it was given."""

    def __init__(self, text: str = NEED, fail: bool = False) -> None:
        self.text, self.fail = text, fail
        self.heard: list[tuple[int, str]] = []

    def transcribe(self, data: bytes, mime: str) -> str:
        self.heard.append((len(data), mime))
        if self.fail:
            msg = "model crashed"
            raise RuntimeError(msg)
        return self.text


def storage_at(tmp_path: Path) -> MediaStorage:
    return MediaStorage(root=tmp_path / "media", max_photo_bytes=300_000, max_voice_bytes=100_000)


@pytest.fixture
def assistant(engine, kb_index, tmp_path) -> Assistant:
    return make_assistant(engine, kb_index, tmp_path, media=storage_at(tmp_path))


@pytest.fixture
def chat(assistant: Assistant) -> Chat:
    return Chat(assistant, "老王")


def finish(chat: Chat, summary: str = "") -> int:
    """Answer the optional questions and confirm; the posted order's number. *summary* is
    expected in the summary shown before confirming."""
    for _ in range(6):
        if "确认" in chat.buttons():
            assert summary in chat.text, chat.text
            out = chat.press("确认")
            assert "需求已发布" in out.text, out.text
            return int(out.text.split("编号 ")[1].split("）")[0])
        chat.send("跳过")
    raise AssertionError(chat.text)


def need_media(assistant: Assistant, kind: str | None = None) -> list[MediaFile]:
    with assistant.session_factory() as s:
        need = s.exec(select(Need)).one()
        return media_for_need(session=s, need_id=need.id, kind=kind)


def test_a_photo_alone_starts_a_need_and_goes_with_it(chat: Chat, assistant) -> None:
    out = chat.send_media(PHOTO)
    assert out.replies[0].text.startswith("看到您发了照片，是作物出了问题吗？")
    assert "描述一下遇到的问题" in out.text
    chat.send(NEED)
    finish(chat, summary="· 照片：1 张")
    photos = need_media(assistant, "photo")
    assert len(photos) == 1 and photos[0].mime == "image/jpeg"


def test_a_photo_with_a_caption_starts_the_need_from_the_caption(chat: Chat, assistant) -> None:
    chat.send_media(PHOTO, text=NEED)
    finish(chat)
    with assistant.session_factory() as s:
        need = s.exec(select(Need)).one()
        assert "流胶" in need.text and need.county == "翠屏区"
    assert len(need_media(assistant)) == 1


def test_the_seventh_photo_is_refused_politely(chat: Chat, assistant) -> None:
    chat.send(NEED)
    out = chat.send_media(*[PHOTO] * 5)
    assert "这个需求已有 5 张" in out.text
    out = chat.send_media(PHOTO, PHOTO)
    assert "已有 6 张" in out.text
    assert "每个需求最多附 6 张照片，这张就不收了" in out.text
    finish(chat)
    assert len(need_media(assistant, "photo")) == 6
    # the need is full: one more after posting is refused too
    out = chat.send_media(PHOTO)
    assert "最多附 6 张照片" in out.text
    assert len(need_media(assistant, "photo")) == 6


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (f.PDF, "不是能打开的照片"),
        (f.HEIC, "HEIC 格式"),
        (f.noisy_jpeg(600, 600), "这张照片太大了（超过 0.3 MB）"),
    ],
)
def test_a_refused_photo_gets_a_chinese_reply_and_nothing_starts(chat: Chat, data, said) -> None:
    out = chat.send_media(MediaIn("photo", data, "image/jpeg"))
    assert said in out.text
    assert "看到您发了照片" not in out.text
    assert chat.assistant.handle(Incoming("test", "老王", text="你好")).text  # still fine


def test_photos_after_posting_reach_the_notified_then_the_accepting_expert(
    chat: Chat, assistant
) -> None:
    expert = Chat(assistant, "张老师")
    expert.send(EXPERT)
    expert.send("跳过")
    assert "登记成功" in expert.press("确认").text
    chat.send_media(PHOTO)
    chat.send(SOIL_NEED)
    order_id = finish(chat)
    notices = [m for m in chat.last.outbound if m.kind == "new_need"]
    assert [m.external_id for m in notices] == ["张老师"]
    first = need_media(assistant)[0].id
    assert notices[0].media == (first,)

    out = chat.send_media(PHOTO, text="叶子背面也有，电话13800001234")
    assert f"照片已补充到需求 #{order_id}（共 2 张），已转给专家" in out.text
    (fwd,) = out.outbound
    assert fwd.external_id == "张老师" and len(fwd.media) == 1 and fwd.media[0] != first
    assert "叶子背面也有" in fwd.text and "13800001234" not in fwd.text

    win = assistant.handle(
        Incoming(
            "test", "张老师", action=parse_action(f"accept:{order_id}"), display_name="张老师"
        )
    )
    card = next(r for r in win.replies if "接单成功" in r.text)
    assert set(card.media) == {m.id for m in need_media(assistant)}

    out = chat.send_media(PHOTO)
    assert [m.external_id for m in out.outbound] == ["张老师"]
    shown = Chat(assistant, "张老师").send(f"/order {order_id}")
    assert len(shown.replies[0].media) == 3


def test_a_voice_without_a_model_is_kept_and_asks_for_words(chat: Chat, assistant) -> None:
    out = chat.send_media(MediaIn("voice", f.AMR, "audio/amr", duration_s=4))
    assert out.text == "语音已保存，会转给专家；麻烦再用几个字说说是什么作物、什么问题。"
    chat.send(NEED)
    finish(chat)
    (voice,) = need_media(assistant, "voice")
    assert voice.mime == "audio/amr" and voice.transcript == ""


def test_a_voice_with_a_transcriber_is_understood(engine, kb_index, tmp_path) -> None:
    heard = FakeTranscriber()
    assistant = make_assistant(
        engine, kb_index, tmp_path, media=storage_at(tmp_path), transcriber=heard
    )
    chat = Chat(assistant, "老王")
    out = chat.send_media(MediaIn("voice", f.OGG_OPUS, "audio/ogg"))
    assert heard.heard == [(len(f.OGG_OPUS), "audio/ogg")]
    assert out.replies[0].text.startswith("听到您说：“我在宜宾翠屏区")
    assert "流胶" in out.text and "语音已保存" not in out.text
    finish(chat)
    (voice,) = need_media(assistant, "voice")
    assert "流胶" in voice.transcript
    with assistant.session_factory() as s:
        assert s.exec(select(Need)).one().county == "翠屏区"


def test_a_failing_transcriber_keeps_the_voice(engine, kb_index, tmp_path) -> None:
    assistant = make_assistant(
        engine,
        kb_index,
        tmp_path,
        media=storage_at(tmp_path),
        transcriber=FakeTranscriber(fail=True),
    )
    out = Chat(assistant, "老王").send_media(MediaIn("voice", f.AMR))
    assert "语音已保存，会转给专家" in out.text


def test_a_bad_voice_is_refused(chat: Chat) -> None:
    out = chat.send_media(MediaIn("voice", f.PDF, "audio/amr"))
    assert "这段语音的格式识别不了" in out.text


def test_without_storage_media_are_refused(engine, kb_index, tmp_path) -> None:
    chat = Chat(make_assistant(engine, kb_index, tmp_path), "老王")
    assert "暂时收不了照片和语音" in chat.send_media(PHOTO).text


def test_mydata_lists_the_files_and_delete_me_removes_them(chat: Chat, assistant) -> None:
    chat.send_media(PHOTO)
    chat.send(NEED)
    finish(chat)
    chat.send_media(MediaIn("voice", f.AMR))
    out = chat.send("/mydata")
    assert "照片 1 张、语音 1 段" in out.replies[0].text
    data = json.loads(out.replies[1].document[1])
    assert {m["kind"] for m in data["media"]} == {"photo", "voice"}
    assert all(m["url"].startswith("/media/") for m in data["media"])
    storage = assistant.media.storage
    files = [storage.root / m["path"] for m in data["media"]]
    assert all(p.exists() for p in files)

    chat.send("/delete_me")
    chat.press("确认删除")
    assert "已删除" in chat.text
    assert not any(p.exists() for p in files)
    with assistant.session_factory() as s:
        assert s.exec(select(MediaFile)).all() == []
