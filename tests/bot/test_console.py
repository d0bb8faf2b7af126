"""The console chat: /as switches people, buttons by number or label, messages to others shown."""

from __future__ import annotations

import io

from bot.console import ConsoleChat
from dialogs.types import Outbound, Outcome
from tests.bot.wiring import make_services

SCRIPT = """\
/as 张老师
我是农技站的，搞果树病虫害防治和土壤改良十几年了，宜宾翠屏一带都能跑，电话13900001111，我叫张建国
跳过
确认
/as 老王
我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234
跳过
1
/as 张老师
接单
/as 老王
同意交换联系方式
/as 张老师
已解决 1 已指导撒石灰改良
/as 老王
5星
/order 1
/quit
这一行不会被处理
"""


def test_console_plays_a_whole_need(engine, kb_index, tmp_path):
    services = make_services(engine, tmp_path, kb_index)
    out = io.StringIO()
    chat = ConsoleChat(
        services.assistant, me="老王", out=out, interactive=False, on_turn=services.run_due
    )
    chat.run(io.StringIO(SCRIPT))
    text = out.getvalue()
    assert "（已切换为：张老师）" in text
    assert "登记成功" in text
    assert "[1] 确认  [2] 修改  [3] 取消" in text
    assert "需求已发布（编号 1）" in text
    assert "→ 发给 张老师：【新需求 #1】" in text
    assert "接单成功" in text
    assert "→ 发给 老王：您的需求 #1 已由专家 张建国" in text
    assert "[1] 同意交换联系方式  [2] 换一位" in text
    assert "→ 发给 张老师：需求方已同意交换联系方式：需求 #1，老王，电话：13800001234" in text
    assert "感谢评价" in text and "完成并评价" in text
    assert "这一行不会被处理" not in text


def test_console_numbers_every_button_of_a_turn(engine, kb_index, tmp_path):
    services = make_services(engine, tmp_path, kb_index)
    out = io.StringIO()
    chat = ConsoleChat(services.assistant, me="老王", out=out, interactive=False)
    chat.run(io.StringIO("李子树流胶怎么办\n2\n1\n"))
    text = out.getvalue()
    # 有用 / 没用 under the answer, 找专家 / 不用了 under the offer: one numbering
    assert "[1] 有用  [2] 没用" in text and "[3] 找专家  [4] 不用了" in text
    assert "要把您的问题发给专家吗" in text  # 2 = 没用
    assert "[1] 找专家  [2] 不用了" in text
    assert "请问在哪个地方" in text  # then 1 = 找专家: the need form, problem filled in


def readme_conversation() -> list[str]:
    """The lines of the README's "A first conversation", without the ``-> …`` notes."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## A first conversation", 1)[1].split("```text\n", 1)[1]
    block = block.split("```", 1)[0]
    return [line.split("->")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_conversation_runs_as_written(engine, kb_index, tmp_path):
    services = make_services(engine, tmp_path, kb_index)
    out = io.StringIO()
    chat = ConsoleChat(
        services.assistant, me="farmer1", out=out, interactive=False, on_turn=services.run_due
    )
    lines = readme_conversation()
    assert lines[0] == "/as 张老师" and "/order 1" in lines
    chat.run(io.StringIO("\n".join(lines) + "\n"))
    text = out.getvalue()
    assert "登记成功" in text
    assert "需求已发布（编号 1）" in text
    notice = text.split("→ 发给 张老师：【新需求 #1】", 1)[1].split("\n[", 1)
    assert "13800001234" not in notice[0]
    assert notice[1].startswith("1] 接单  [2] 不合适")
    accepted = text.split("接单成功", 1)[1].split("[1] 同意交换联系方式", 1)[0]
    assert "13800001234" not in accepted  # no phone before the farmer agrees (issue 15)
    assert "→ 发给 老王：您的需求 #1 已由专家 张建国" in text and "未认证" in text
    agreed = text.split("[1] 同意交换联系方式  [2] 换一位", 1)[1]
    assert "13900001111" in agreed and "电话：13800001234" in agreed  # both have the contact
    assert "感谢评价！需求 #1 已完成。" in text
    assert "需求 #1（已完成）进度：" in text and "完成并评价" in text


def test_chat_on_a_fresh_data_dir_prepares_the_knowledge_base(
    tianfu, tmp_path, monkeypatch, capsys
):
    import io as _io
    import sys

    monkeypatch.setattr(sys, "stdin", _io.StringIO("稻瘟病怎么防治\n"))
    run = tianfu("chat", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    first, *rest = run.stdout.splitlines()
    assert first.startswith("知识库是空的，已导入内置科普文章 ") and first.endswith(" 篇。")
    answer = "\n".join(rest)
    assert "没有找到可靠的答案" not in answer
    assert "《水稻稻瘟病的识别与防治》" in answer
    # the second time the index is there: nothing to prepare, no announcement
    monkeypatch.setattr(sys, "stdin", _io.StringIO("稻瘟病怎么防治\n"))
    again = tianfu("chat", cwd=tmp_path)
    assert "知识库是空的" not in again.stdout and "稻瘟病" in again.stdout


def test_chat_keeps_the_log_off_the_terminal(tianfu, tmp_path, monkeypatch, caplog):
    """What the assistant logs while someone chats (here: their data forgotten) goes to
    DATA_DIR/logs/chat.log, not between the replies."""
    import io as _io
    import logging
    import sys

    caplog.set_level(logging.INFO)
    monkeypatch.setattr(sys, "stdin", _io.StringIO("你好\n删除我的数据\n确认删除\n"))
    run = tianfu("chat", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "已删除您的个人信息" in run.stdout
    assert "forgot user" not in run.stdout + run.stderr
    log = (tmp_path / "var" / "logs" / "chat.log").read_text(encoding="utf-8")
    assert "forgot user" in log
    handlers = logging.getLogger().handlers
    assert not any(getattr(h, "baseFilename", "").endswith("chat.log") for h in handlers)


# ---- issue 18: the README's enterprise example, played as written there ----
def _readme_enterprise_script() -> str:
    """The README's enterprise conversation, without its "-> what happens" notes."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("An enterprise looking for technology")
    block = readme[readme.index("```text\n", start) + 8 : readme.index("```\n", start + 60)]
    return "\n".join(re.split(r"\s{2,}->", line)[0].rstrip() for line in block.splitlines())


def test_console_plays_the_readme_enterprise_example(engine, tmp_path):
    from sqlmodel import Session, select

    from store.achievements import Achievement
    from store.enterprises import Enterprise
    from store.order_tables import Order

    services = make_services(engine, tmp_path)
    out = io.StringIO()
    chat = ConsoleChat(services.assistant, me="老王", out=out, interactive=False)
    chat.run(io.StringIO(_readme_enterprise_script() + "\n"))
    text = out.getvalue()
    assert "团队「川味发酵团队」组建好了" in text
    assert "成果《泡菜低盐快速发酵工艺》已登记（编号 1）" in text
    assert "需求已发布（编号 1）" in text
    # the enterprise's project reaches the team, with its terms and without its phone
    told = text[text.index("→ 发给 李教授：【新需求 #1】") :].split("\n[1]")[0]
    assert "企业项目，预算10万元，期限三个月内，签有偿合同" in told
    assert "团队「川味发酵团队」" in told and "13800003333" not in told
    assert "#1《泡菜低盐快速发酵工艺》技术 · 示范应用 · 技术服务 · 3万–8万元" in text
    assert "持有人：李明" in text and "[1] 对接 #1" in text
    assert "接单成功" in text
    with Session(engine) as s:
        order = s.exec(select(Order)).one()
        company = s.exec(select(Enterprise)).one()
        assert order.team_id is not None  # taken on the team's behalf
        assert company.name == "眉山蜀香泡菜食品有限公司"
        assert s.exec(select(Achievement)).one().transfer_mode == "service"


def test_console_sends_photos_and_voice_from_files(engine, kb_index, tmp_path):
    from tests import media_files as f

    photo, voice, bad = tmp_path / "leaf.jpg", tmp_path / "say.amr", tmp_path / "x.pdf"
    photo.write_bytes(f.jpeg_with_gps())
    voice.write_bytes(f.AMR)
    bad.write_bytes(f.PDF)
    services = make_services(engine, tmp_path, kb_index)
    out = io.StringIO()
    chat = ConsoleChat(services.assistant, me="老王", out=out, interactive=False)
    script = (
        f"/photo {photo}\n/voice {voice}\n/photo {bad}\n/photo {tmp_path / 'missing.jpg'}\n"
        "/photo\n"
    )
    chat.run(io.StringIO(script))
    text = out.getvalue()
    assert "看到您发了照片，是作物出了问题吗？" in text
    assert "语音已保存" in text
    assert "不是能打开的照片" in text
    assert "读不了文件" in text and "用法：/photo 文件路径" in text
    # the order card after posting shows the stored photo as [照片 #id]
    chat.run(
        io.StringIO(
            "我在宜宾翠屏区，李子园土壤酸化板结，想请专家来看看，电话13800001234\n跳过\n1\n/order 1\n"
        )
    )
    assert "需求已发布（编号 1）" in out.getvalue()
    assert "[照片 #1] [语音 #2]" in out.getvalue()


def test_scheduled_notices_for_people_not_in_the_session_are_counted_not_printed(
    engine, kb_index, tmp_path
):
    # after `tianfu demo seed` the first turn's due jobs notify thousands of seeded experts
    services = make_services(engine, tmp_path, kb_index)
    notices = Outcome()
    for i in range(3):
        notices.outbound.append(Outbound("console", f"种子专家{i}", f"【新需求 #{i}】"))
    notices.outbound.append(Outbound("console", "老王", "您的需求 #9 已过期"))
    runs = iter([notices])
    out = io.StringIO()
    chat = ConsoleChat(
        services.assistant,
        me="老王",
        out=out,
        interactive=False,
        on_turn=lambda: next(runs, None),
    )
    chat.run(io.StringIO("你好\n"))
    text = out.getvalue()
    assert "种子专家" not in text and "另发出 3 条消息" in text
    assert "→ 发给 老王：您的需求 #9 已过期" in text
