"""Importing a Q&A archive: row checks, near-duplicates, masking, the pesticide guard, answers
that cite the items, removal by source and a restart (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from knowledge.anonymise import mask_personal
from knowledge.pesticides import default_guard
from knowledge.qa import import_qa, remove_source, sync_qa
from retrieval.factory import open_index
from store.qa import qa_items, qa_sources
from tests.conftest import ephemeral_client, make_assistant
from tests.dialogs.chat import Chat

CSV = """question,answer,source
魔芋软腐病发病了咋个处理？,发现病株连土挖走带出地外深埋，病穴撒生石灰消毒；雨后及时排水，发病初期用氢氧化铜或春雷霉素灌根，每隔七天一次，连用两到三次。,宜宾农技站
魔芋软腐病发病了咋个处理,病株要带土挖除并撒石灰，田里不要积水。,宜宾农技站
,没有问题的答案,宜宾农技站
茶叶绿叶蝉用啥子药,茶园绿叶蝉发生高峰前用甲胺磷喷雾效果好，兑水一千倍。,宜宾农技站
"核桃黑斑病怎么防？联系人：张建国，电话13912345678",核桃黑斑病要在展叶前喷一次波尔多液，雨季前后再喷两次；剪除病枝病果集中烧毁，增强树势。,宜宾农技站
啥,太短的问题没法回答的哦好吧,宜宾农技站
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_checks_rows_merges_masks_and_answers_cite_the_source(
    engine, session: Session, tmp_path: Path
) -> None:
    index = open_index("qa", data_dir=tmp_path, client=ephemeral_client())
    guard = default_guard()
    report = import_qa(
        session=session, index=index, path=write(tmp_path, "a.csv", CSV), guard=guard
    )
    assert (report.read, report.added, report.merged) == (6, 2, 1)
    assert [(b.line, b.reason.split(" ")[0]) for b in report.bad] == [
        (4, "no"),  # no question
        (5, "the"),  # recommends 甲胺磷
        (7, "question"),  # too short
    ]
    assert "甲胺磷" in report.bad[1].reason
    assert report.masked == 1
    items = qa_items(session=session)
    konjac, walnut = items
    # the near-duplicate's different answer is kept with the first one
    assert "不要积水" in konjac.answer and "氢氧化铜" in konjac.answer
    assert "13912345678" not in walnut.question and "张建国" not in walnut.question
    assert "张某某" in walnut.question and "139******78" in walnut.question
    assert qa_sources(session=session) == [("宜宾农技站", 2)]

    # answers cite the item like an article, naming its source
    chat = Chat(make_assistant(engine, index, guard=guard), "老赵")
    reply = chat.send("魔芋软腐病咋个处理").text
    assert "生石灰" in reply
    assert "来源：《魔芋软腐病发病了咋个处理？》（宜宾农技站）" in reply

    # a restart: a new index filled from the database answers the same
    fresh = open_index("qa2", data_dir=tmp_path / "restart", client=ephemeral_client())
    assert sync_qa(session=session, index=fresh, guard=guard) == 2
    assert fresh.search("核桃黑斑病", k=1)[0].doc_id == walnut.doc_id

    # importing again updates rather than duplicating; removal by source takes all of it
    again = import_qa(
        session=session, index=index, path=write(tmp_path, "b.csv", CSV), guard=guard
    )
    assert (again.added, again.updated) == (0, 2) and len(qa_items(session=session)) == 2
    assert remove_source(session=session, index=index, source="宜宾农技站") == 2
    assert qa_items(session=session) == [] and len(index) == 0
    assert "这个问题我在知识库里没有找到可靠的答案" in chat.send("魔芋软腐病咋个处理").text


def test_jsonl_rows_take_the_default_source_and_report_bad_lines(
    session: Session, tmp_path: Path
) -> None:
    rows = [
        {
            "question": "鸡新城疫啥时候打疫苗",
            "answer": "雏鸡7至10日龄用弱毒苗滴鼻点眼，25至30日龄加强一次。",
        },
        "not an object",
        {"question": "猪发烧不吃食咋办", "answer": ["a list"]},
    ]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n"
    index = open_index("qa", data_dir=tmp_path, client=ephemeral_client())
    report = import_qa(
        session=session,
        index=index,
        path=write(tmp_path, "log.jsonl", text),
        guard=default_guard(),
        source="12316热线",
    )
    assert report.added == 1 and qa_items(session=session)[0].source == "12316热线"
    assert [b.line for b in report.bad] == [2, 3, 4]
    assert "not JSON" in report.bad[2].reason


def test_masking_names_and_chat_ids() -> None:
    assert mask_personal("户主：李四，微信 abc12345") == "户主：李某某，[联系方式已隐去]"
    assert mask_personal("我叫王小明，在合江") == "我叫王某某，在合江"
