"""Expert answers become knowledge: from a resolved order to a published, searchable article
(SQLite and PostgreSQL), with nobody's name or phone in it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from dialogs.actions import parse_action
from dialogs.curation import Shelf
from dialogs.i18n import t
from dialogs.types import Incoming, Outcome
from knowledge.pesticides import default_guard
from retrieval.factory import open_index
from store import orders as o
from store.cases import CaseStatus, KnowledgeCase, open_cases
from store.trust import Decision, review_expert
from tests.conftest import ephemeral_client, make_assistant
from tests.dialogs.chat import Chat
from tests.factories import make_expert, make_user, post

NEED = "我家的李子树树干流胶，流出黄色的胶，叶子也发黄，联系人：王德明，电话13800001234"
NOTE = (
    "这是李树流胶病，雨水多、伤口多时容易发生。我现场指导刮除流胶部位的病皮和胶块，伤口涂抹"
    "石硫合剂原液保护；开沟排水，增施有机肥和钾肥，少施氮肥；修剪时剪口要平，避免造成新伤口；"
    "发病初期可以用甲基硫菌灵涂抹病斑，每隔十天一次，连续两到三次。"
)


def resolved_order(engine: Engine, *, verified: bool) -> tuple[int, str]:
    with Session(engine, expire_on_commit=False) as s:
        farmer = make_user(s, "王德明")
        expert = make_expert(s, "张老师")
        posted = post(s, farmer, text=NEED, crop="李", problem="流胶", category="disease")
        order_id = posted.order.id or 0
        o.accept(session=s, order_id=order_id, expert=expert)
        if verified:
            review_expert(
                session=s,
                expert_id=expert.id or 0,
                decision=Decision.VERIFIED,
                decided_by=None,
                unit="宜宾市农技站",
            )
        return order_id, expert.external_id


def press(chat: Chat, data: str) -> Outcome:
    action = parse_action(data)
    assert action is not None, data
    chat.last = chat.assistant.handle(
        Incoming(chat.channel, chat.user, action=action, display_name=chat.user)
    )
    return chat.last


def test_a_resolved_order_becomes_a_published_searchable_article(
    engine: Engine, tmp_path: Path
) -> None:
    index = open_index("shelf", data_dir=tmp_path, client=ephemeral_client())
    assistant = make_assistant(
        engine,
        None,
        tmp_path,
        guard=default_guard(),
        shelf=Shelf(index, tmp_path / "corpus"),
        is_admin=lambda user: user.external_id == "admin",
    )
    order_id, expert_id = resolved_order(engine, verified=True)
    expert = Chat(assistant, expert_id)

    # the expert resolves with a note and is asked whether it may be shared
    out = expert.send(f"已解决 {order_id} {NOTE}")
    assert "标记为已解决" in out.text and "匿名分享到知识库" in out.text
    assert expert.buttons() == ["同意分享", "不分享"]
    assert "谢谢！" in expert.press("同意分享").text
    assert "没有需要您回答" in press(expert, f"share_case:{order_id}").text  # answered once

    # administrators only
    assert Chat(assistant, "someone").send("/kb review").text == t("admin_denied")
    admin = Chat(assistant, "admin")
    listing = admin.send("/kb review")
    assert "等待整理的专家案例（1 条）" in listing.text
    assert "13800001234" not in listing.text and "王德明" not in listing.text
    assert admin.buttons() == ["起草", "发布", "驳回"]

    # the dashboard lists it too, without personal data
    from bot.web.dashboard import cases_json

    with Session(engine) as s:
        (row,) = cases_json(s)
    assert row["status_label"] == "待起草" and "流胶" in row["problem"]
    assert "13800001234" not in str(row) and "王德明" not in str(row)

    draft = admin.press("起草")
    text = draft.text
    assert "李流胶的处理办法" in text and "作物：李" in text and "地区：宜宾市" in text
    assert "13800001234" not in text and "王德明" not in text and "张老师" not in text
    assert draft.replies[-1].ref.startswith("case:")

    # a reply to the draft edits it: the title, then it is published
    ref = draft.replies[-1].ref
    edited = assistant.handle(
        Incoming(
            "test", "admin", "标题：李树流胶病的现场处理", display_name="admin", reply_to_ref=ref
        )
    )
    assert "标题：李树流胶病的现场处理" in edited.text
    admin.last = edited
    published = admin.press("发布")
    assert "已发布为《李树流胶病的现场处理》" in published.text
    assert any("已整理成科普文章" in m.text for m in published.outbound)  # the expert hears

    # the article is on disk, names its case and nobody, and answers at once
    files = list((tmp_path / "corpus").glob("case-*.md"))
    assert len(files) == 1
    article = files[0].read_text(encoding="utf-8")
    assert "来自宜宾市一位认证专家的实践" in article and "updated:" in article
    assert "13800001234" not in article and "王德明" not in article
    reply = Chat(assistant, "farmer2").send("李子树流胶咋个处理").text
    assert "来源：《李树流胶病的现场处理》" in reply
    with Session(engine) as s:
        case = s.get(KnowledgeCase, 1)
        assert case is not None and case.status == CaseStatus.PUBLISHED
        assert open_cases(session=s) == []
    assert "已经处理过了" in press(admin, "kb_publish:1").text


def test_declined_and_rejected_cases_are_not_published(engine: Engine, tmp_path: Path) -> None:
    index = open_index("shelf", data_dir=tmp_path, client=ephemeral_client())
    assistant = make_assistant(
        engine,
        None,
        tmp_path,
        shelf=Shelf(index, tmp_path / "corpus"),
        is_admin=lambda user: user.external_id == "admin",
    )
    first, expert_id = resolved_order(engine, verified=False)
    expert = Chat(assistant, expert_id)
    expert.send(f"已解决 {first} {NOTE}")
    assert "不会分享" in expert.press("不分享").text
    admin = Chat(assistant, "admin")
    assert "没有等待整理" in admin.send("/kb review").text

    second, other = resolved_order(engine, verified=False)
    Chat(assistant, other).send(f"已解决 {second} {NOTE}")
    press(Chat(assistant, other), f"share_case:{second}")
    admin.send("/kb review")
    assert "已驳回" in admin.press("驳回").text
    assert "没有等待整理" in admin.send("/kb review").text
    assert len(index) == 0 and not (tmp_path / "corpus").exists()


def test_the_model_drafts_when_configured_and_a_bad_draft_is_refused(
    engine: Engine, tmp_path: Path, fake_llm
) -> None:
    from tests.dialogs.test_llm import model_for

    index = open_index("shelf", data_dir=tmp_path, client=ephemeral_client())
    assistant = make_assistant(
        engine,
        None,
        tmp_path,
        llm=model_for(fake_llm),
        guard=default_guard(),
        shelf=Shelf(index, tmp_path / "corpus"),
        is_admin=lambda user: user.external_id == "admin",
    )
    body = (
        "李树流胶多在雨季发生，树干伤口处流出黄色胶液，树势弱、排水差的园子更重。"
        + NOTE
        + "平时要注意防治天牛等蛀干害虫，冬季树干涂白，防冻防日灼。处理后仍不好转，请在平台上发布需求，请专家到现场查看。"
    )
    admin = Chat(assistant, "admin")
    for title, answer, shown in (
        ("李树流胶的现场处理", body, "标题：李树流胶的现场处理"),
        # a phone in the model's draft: the offline draft is used
        ("李树流胶", body + "有问题打13912345678。", "李流胶的处理办法"),
        # a banned product in it: the offline draft is used
        ("李树流胶", body + "也可以用甲胺磷喷雾，效果好。", "李流胶的处理办法"),
    ):
        fake_llm.replies["DraftReply"] = {
            "title": title,
            "body": answer,
            "questions": ["李子树流胶咋个办？", "流胶病用啥子药？"],
        }
        order_id, expert_id = resolved_order(engine, verified=False)
        expert = Chat(assistant, expert_id)
        expert.send(f"已解决 {order_id} {NOTE}")
        expert.press("同意分享")
        admin.send("/kb review")
        draft = admin.press("起草").text
        assert shown in draft and "13912345678" not in draft and "甲胺磷" not in draft
        admin.press("驳回")
