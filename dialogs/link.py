"""`/link`: one person across channels. `/link` gives a one-time code; `/link 123456` on
another channel joins the two accounts (store/links.py does the joining)."""

from __future__ import annotations

import re

from dialogs.context import Turn
from dialogs.i18n import t
from dialogs.types import Outbound
from store.links import CODE_MINUTES, LinkResult, issue_code, redeem_code
from store.users import get_user

LINK = re.compile(r"^\s*(?:/link|关联账号|绑定账号)(?:\s+(\S+))?\s*$", re.I)
CODE = re.compile(r"^\d{6}$")


def is_link_command(text: str) -> bool:
    return bool(LINK.match(text))


def on_link(turn: Turn, text: str) -> None:
    """Issue a code, or redeem the one given."""
    m = LINK.match(text)
    if m is None:
        return
    given = m.group(1)
    incoming = turn.incoming
    if given is None:
        row = issue_code(
            session=turn.session,
            user=turn.user,
            channel=incoming.channel,
            external_id=incoming.user_id,
        )
        turn.say(turn.t("link_code", code=row.code, minutes=CODE_MINUTES))
        return
    if not CODE.match(given):
        turn.say(turn.t("link_usage"))
        return
    done = redeem_code(session=turn.session, user=turn.user, code=given)
    match done.result:
        case LinkResult.LINKED:
            turn.user = get_user(session=turn.session, user_id=done.user_id or 0)
            turn.say(turn.t("link_done"))
            if done.issuer is not None and done.issuer != (incoming.channel, incoming.user_id):
                channel, external_id = done.issuer
                turn.out.outbound.append(
                    Outbound(channel, external_id, t("link_done_other", turn.user.locale))
                )
        case LinkResult.UNKNOWN:
            turn.say(turn.t("link_unknown", minutes=CODE_MINUTES))
        case LinkResult.SAME:
            turn.say(turn.t("link_same"))
        case LinkResult.TWO_EXPERTS:
            turn.say(turn.t("link_two_experts"))
        case LinkResult.TOO_MANY:
            turn.say(turn.t("link_too_many"))
