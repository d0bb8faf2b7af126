"""Where photos, voice and documents go: the need being written, the latest open need, or a
new need."""

from __future__ import annotations

from dialogs import forms as engine
from dialogs.context import Turn
from dialogs.media import SLOT as MEDIA_SLOT
from dialogs.media import Kept
from dialogs.router import Router
from dialogs.routing import focus_query
from dialogs.state import FormState
from dialogs.types import Incoming, MediaIn
from store.media import latest_open_need
from store.validation import normalise_text


class MediaRouting(Router):
    """The assistant's routing of photos and voice."""

    __slots__ = ()

    def _on_media(self, turn: Turn, text: str) -> None:
        """Photos and voice (with a caption, or a transcript): kept on the need being
        written, added to the person's latest open need and forwarded to its experts, or
        the start of a new need. A transcript is understood like typed text."""
        st = turn.state
        form = st.form
        if form is not None and form.name != "need":
            turn.say(turn.t("media_other_form", form=turn.t(f"form_{form.name}")))
            self.forms.repeat(turn)
            return
        posted = None
        if form is None:
            posted = latest_open_need(session=turn.session, requester_id=turn.user.id or 0)
        if form is not None:
            have = self.media.form_counts(turn)
        elif posted is not None:
            have = self.media.need_counts(turn, posted[1])
        else:
            have = {}
        kept = self.media.keep(turn, have)
        heard = normalise_text(kept.transcript)
        if heard:
            turn.say(turn.t("voice_heard", text=heard))
        words = " ".join(x for x in (text, heard) if x)
        if not kept:
            if text:
                self._on_text(turn, text)
            elif form is not None:
                self.forms.repeat(turn)
            return
        if form is not None:
            self.media.to_form(turn, kept)
            self.media.say_in_form(turn, kept)
            if words:
                self._on_text(turn, words)
            else:
                self.forms.repeat(turn)
            return
        if posted is not None:
            self.media.to_need(turn, *posted, kept, note=words)
            return
        self._media_starts_need(turn, kept, words)

    def _media_starts_need(self, turn: Turn, kept: Kept, words: str) -> None:
        """Files with no need to go to: a new need, with them kept on its form."""
        st = turn.state
        if words and not kept.photos:
            # a voice with its words and no photo: whatever it says (a question too)
            self._on_text(turn, words)
            if st.form is not None and st.form.name == "need":
                self.media.to_form(turn, kept)
            return
        if words:
            parse = self.understand(words, turn)
            self.science.answer_quietly(turn, focus_query(words, parse), set(parse.slots.crops))
            self._start(turn, "need", words, parse, media=kept.ids)
            return
        if st.offer is not None:  # a photo right after "shall I find an expert?"
            self._accept_offer(turn, media=kept.ids)
            return
        st.clear_form()
        state = FormState("need", {**self.forms.prefill(turn, "need"), MEDIA_SLOT: kept.ids})
        if kept.photos:
            turn.say(turn.t("photo_starts_need"))
            self.forms.show(turn, engine.advance(state))
        else:
            state.awaiting = "problem"  # the voice reply asks for the problem in words
            st.form = state
            turn.say(turn.t("voice_kept"))


def attached_document(incoming: Incoming) -> MediaIn | None:
    return next((m for m in incoming.media if m.kind == "document"), None)
