"""`tianfu chat`: the assistant in a terminal, Chinese by default.

`/as NAME` switches between people in one session (a farmer, an expert...). Buttons are shown
numbered (one numbering across all replies of a turn, so 有用 / 没用 under an answer and 找专家
under the next reply can all be pressed) and pressed by number or by their text. Messages for
other people are printed with their recipient. When stdin is not a terminal, one line is read
per turn and replies are printed plainly, so a script can drive it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dialogs.assistant import Assistant
from dialogs.types import Button, Incoming, MediaIn, Outcome
from store.media import media_kinds

CHANNEL = "console"
HELP = (
    "命令：/as 名字 切换身份（如 /as 农户老王、/as 专家李工）；/who 显示当前身份；/quit 退出。\n"
    "按钮显示为 [1] 确认 这样，输入序号或按钮文字即可点击。\n"
    "/photo 文件路径 [说明] 发一张照片；/voice 文件路径 发一段语音（照片显示为 [照片 #编号]）。"
)
_MEDIA_COMMANDS = {"/photo": "photo", "/voice": "voice"}
_MARK = {"photo": "照片", "voice": "语音"}


@dataclass(slots=True)
class ConsoleChat:
    assistant: Assistant
    me: str = "farmer1"
    out: TextIO = sys.stdout
    interactive: bool = True
    buttons: dict[str, list[Button]] = field(default_factory=dict)  # per person: last buttons
    refs: dict[str, str] = field(default_factory=dict)  # per person: last notification ref
    on_turn: Callable[[], Outcome | None] | None = None  # e.g. run due scheduler jobs
    people: set[str] = field(default_factory=set)  # who has spoken in this session

    def run(self, lines: Iterable[str]) -> None:
        if self.interactive:
            self._print(f"天府科技助手 · 控制台（当前身份：{self.me}）。{HELP}")
        for raw in lines:
            line = raw.rstrip("\n")
            if not self.step(line):
                break

    def step(self, line: str) -> bool:
        """One line of input. False when the user quits."""
        text = line.strip()
        if text in ("/quit", "/exit", "退出聊天"):
            return False
        if text.startswith("/as"):
            name = text[3:].strip()
            if name:
                self.me = name
                self._print(f"（已切换为：{self.me}）")
            else:
                self._print("用法：/as 名字")
            return True
        if text == "/who":
            self._print(f"（当前身份：{self.me}）")
            return True
        if text == "/console-help":
            self._print(HELP)
            return True
        command, _, rest = text.partition(" ")
        if command in _MEDIA_COMMANDS:
            incoming = self._media(_MEDIA_COMMANDS[command], rest.strip())
            if incoming is None:
                return True
        else:
            incoming = self._incoming(text)
        self.people.add(self.me)
        self._show(self.assistant.handle(incoming))
        if self.on_turn is not None:
            extra = self.on_turn()
            if extra is not None:
                self._show(extra, scheduled=True)
        return True

    def _incoming(self, text: str) -> Incoming:
        mine = self.buttons.get(self.me, [])
        pressed: Button | None = None
        if text.isdigit() and mine and 1 <= int(text) <= len(mine):
            pressed = mine[int(text) - 1]
        else:
            pressed = next((b for b in mine if b.label == text), None)
        if pressed is not None:
            return Incoming(CHANNEL, self.me, action=pressed.action, display_name=self.me)
        return Incoming(
            CHANNEL,
            self.me,
            text=text,
            display_name=self.me,
            # the message right after a notification answers it; later ones do not
            reply_to_ref=self.refs.pop(self.me, ""),
        )

    def _media(self, kind: str, args: str) -> Incoming | None:
        """/photo PATH [caption] or /voice PATH: the file as this person's message."""
        raw, _, caption = args.partition(" ")
        path = Path(raw).expanduser()
        if not raw:
            self._print(f"用法：/{kind} 文件路径")
            return None
        try:
            data = path.read_bytes()
        except OSError as exc:
            self._print(f"（读不了文件 {path}：{exc.strerror or exc}）")
            return None
        return Incoming(
            CHANNEL,
            self.me,
            text=caption.strip(),
            display_name=self.me,
            media=(MediaIn(kind, data),),
        )

    def _marks(self, ids: tuple[int, ...]) -> str:
        """ "[照片 #3] [语音 #4]" for the stored media a message shows."""
        if not ids:
            return ""
        with self.assistant.session_factory() as session:
            kinds = media_kinds(session=session, media_ids=list(ids))
        return "\n" + " ".join(f"[{_MARK.get(kinds.get(i, ''), '文件')} #{i}]" for i in ids)

    def _show(self, outcome: Outcome, *, scheduled: bool = False) -> None:
        """Print replies and messages for others. Of the scheduler's messages only those for
        people of this session are printed (after `tianfu demo seed` thousands of notices go
        to seeded people at the first turn): the rest are counted, their buttons still kept
        for `/as`."""
        shown: list[Button] = []
        for reply in outcome.replies:
            self._print(self._label("助手") + reply.text + self._marks(reply.media))
            row = [b for r in reply.buttons for b in r]
            if row:
                self._print(self._buttons(row, start=len(shown) + 1))
                shown.extend(row)
        if outcome.replies:
            self.buttons[self.me] = shown
        refs = [r.ref for r in outcome.replies if r.ref]
        if refs:  # e.g. a draft: the next line edits it
            self.refs[self.me] = refs[-1]
        elif outcome.replies and self.refs.get(self.me, "").startswith("case:"):
            del self.refs[self.me]  # a draft answered by a button is no longer being edited
        unseen = 0
        for msg in outcome.outbound:
            flat = [b for r in msg.buttons for b in r]
            if flat:
                self.buttons[msg.external_id] = flat
            if msg.ref:
                self.refs[msg.external_id] = msg.ref
            if scheduled and msg.external_id not in self.people:
                unseen += 1
                continue
            to = self._label(f"→ 发给 {msg.external_id}")
            self._print(to + msg.text + self._marks(msg.media))
            if flat:
                self._print(self._buttons(flat))
        if unseen:
            self._print(
                f"（定时任务另发出 {unseen} 条消息给本次未登场的人，未显示；/as 名字 看其按钮）"
            )

    def _label(self, who: str) -> str:
        return f"{who}：" if not self.interactive else f"\n【{who}】"

    @staticmethod
    def _buttons(row: list[Button], start: int = 1) -> str:
        return "  ".join(f"[{i}] {b.label}" for i, b in enumerate(row, start))

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def terminal_lines(prompt: Callable[[], str]) -> Iterable[str]:
    while True:
        try:
            yield input(prompt())
        except EOFError:
            return
