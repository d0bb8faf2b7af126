"""Voice to text: ffmpeg conversion to 16 kHz mono WAV (real ffmpeg, skipped without it), the
optional vosk model's glue, and clear errors for a bad ASR_MODEL_DIR."""

from __future__ import annotations

import io
import json
import math
import shutil
import struct
import subprocess
import sys
import types
import wave
from pathlib import Path

import pytest

from retrieval.speech import (
    SpeechError,
    VoskTranscriber,
    open_transcriber,
    pcm_frames,
    to_wav16k,
)
from store.media import sniff_audio

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None,
    reason="ffmpeg is not installed (Debian package ffmpeg; .ci/ffmpeg.sh installs it)",
)


def tone(rate: int = 44_100, channels: int = 2, seconds: float = 0.5) -> bytes:
    """A 440 Hz tone as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = bytearray()
        for i in range(int(rate * seconds)):
            sample = int(12000 * math.sin(2 * math.pi * 440 * i / rate))
            frames += struct.pack("<h", sample) * channels
        w.writeframes(bytes(frames))
    return out.getvalue()


def shape(wav: bytes) -> tuple[int, int, int, float]:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes() / 16_000


@needs_ffmpeg
def test_wav_is_converted_to_16k_mono():
    channels, width, rate, seconds = shape(to_wav16k(tone()))
    assert (channels, width, rate) == (1, 2, 16_000)
    assert seconds == pytest.approx(0.5, abs=0.05)


@needs_ffmpeg
def test_ogg_opus_as_telegram_sends_it_is_converted(tmp_path: Path):
    src, ogg = tmp_path / "in.wav", tmp_path / "voice.ogg"
    src.write_bytes(tone(48_000, 1))
    made = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(src), "-c:a", "libopus", str(ogg)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"this ffmpeg has no Opus encoder: {made.stderr.decode()[-200:]}")
    data = ogg.read_bytes()
    assert sniff_audio(data) == "audio/ogg"  # a real file's magic bytes
    assert shape(to_wav16k(data))[:3] == (1, 2, 16_000)


@needs_ffmpeg
def test_garbage_is_a_clear_error():
    with pytest.raises(SpeechError, match="ffmpeg could not convert"):
        to_wav16k(b"#!AMR\n" + b"\x00garbage" * 3)


def test_missing_ffmpeg_is_named():
    with pytest.raises(SpeechError, match="not found: install the Debian package ffmpeg"):
        to_wav16k(tone(), ffmpeg="ffmpeg-that-is-not-there")


def test_only_16k_mono_wav_reaches_the_model():
    assert len(pcm_frames(tone(16_000, 1, 0.25))) == 4000 * 2
    with pytest.raises(SpeechError, match="expected 16 kHz mono"):
        pcm_frames(tone(44_100, 2))
    with pytest.raises(SpeechError, match="not a WAV"):
        pcm_frames(b"nope")


def test_no_model_no_transcriber(tmp_path: Path):
    assert open_transcriber(None) is None
    with pytest.raises(SpeechError, match="is not a folder"):
        open_transcriber(tmp_path / "no-model")


def test_a_model_without_vosk_says_how_to_install(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vosk", None)  # import vosk fails
    with pytest.raises(SpeechError, match="pip install vosk"):
        open_transcriber(tmp_path)


def test_settings_name_a_bad_model_dir(tmp_path: Path):
    from bot.app import open_speech
    from bot.settings import SettingsError
    from tests.bot.wiring import settings_for

    with pytest.raises(SettingsError, match="ASR_MODEL_DIR"):
        open_speech(settings_for(tmp_path, asr_model_dir=tmp_path / "missing"))
    assert open_speech(settings_for(tmp_path)) is None


@needs_ffmpeg
def test_vosk_gets_16k_samples_and_words_are_joined(tmp_path: Path, monkeypatch):
    fed: list[bytes] = []

    class Recognizer:
        def __init__(self, model, rate):  # type: ignore[no-untyped-def]
            assert rate == 16_000
            self.model = model

        def AcceptWaveform(self, data: bytes) -> bool:  # noqa: N802 - vosk's name
            fed.append(data)
            return False

        def FinalResult(self) -> str:  # noqa: N802 - vosk's name
            return json.dumps({"text": "李子 树 流胶 了 hello world"}, ensure_ascii=False)

    fake = types.SimpleNamespace(
        Model=lambda path: ("model", path),
        KaldiRecognizer=Recognizer,
        SetLogLevel=lambda level: None,
    )
    monkeypatch.setitem(sys.modules, "vosk", fake)
    text = VoskTranscriber(tmp_path).transcribe(tone(8_000, 1, 0.5), "audio/wav")
    assert text == "李子树流胶了 hello world"
    assert sum(len(b) for b in fed) == pytest.approx(16_000, abs=400)  # 0.5 s, 16-bit samples
