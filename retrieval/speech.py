"""Speech to text for voice messages: a small :class:`Transcriber` interface and an optional
offline implementation over a vosk model the operator installs (ASR_MODEL_DIR).

Nothing is downloaded: without a model there is no transcriber and the assistant keeps the
voice for the expert. vosk is imported only when a model is configured (not a dependency);
audio is converted with ffmpeg (the Debian package) to 16 kHz mono WAV, what the model reads.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
# vosk's Chinese models put spaces between words: drop them between Chinese characters
_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")


class SpeechError(RuntimeError):
    """Audio could not be converted or recognised (the message names why)."""


class Transcriber(Protocol):
    """Turns one voice message into text ("" when nothing was understood)."""

    def transcribe(self, data: bytes, mime: str) -> str: ...


def to_wav16k(data: bytes, *, ffmpeg: str = "ffmpeg", timeout: float = 60.0) -> bytes:
    """*data* (AMR, OGG/Opus, MP3, M4A, WAV, WebM ...) as 16 kHz mono 16-bit WAV.

    Input and output go through temporary files: M4A keeps its index at the end, which
    ffmpeg cannot reach on a pipe, and a WAV written to a pipe has no sizes in its header.

    Raises:
        SpeechError: ffmpeg is missing, fails on the data, or takes longer than *timeout*.
    """
    exe = shutil.which(ffmpeg)
    if exe is None:
        msg = f"{ffmpeg!r} not found: install the Debian package ffmpeg (.ci/ffmpeg.sh)"
        raise SpeechError(msg)
    with tempfile.TemporaryDirectory(prefix="tianfu-voice-") as tmp:
        src, dst = Path(tmp) / "in.audio", Path(tmp) / "out.wav"
        src.write_bytes(data)
        try:
            done = subprocess.run(
                [
                    exe,
                    "-nostdin",
                    "-hide_banner",
                    "-loglevel",
                    "error",
                    "-i",
                    str(src),
                    "-ac",
                    "1",
                    "-ar",
                    str(SAMPLE_RATE),
                    "-sample_fmt",
                    "s16",
                    "-f",
                    "wav",
                    str(dst),
                ],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            msg = f"ffmpeg took longer than {timeout:.0f} s on {len(data)} bytes of audio"
            raise SpeechError(msg) from None
        if done.returncode != 0 or not dst.exists():
            lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = lines[-1] if lines else f"exit code {done.returncode}"
            msg = f"ffmpeg could not convert the audio: {reason}"
            raise SpeechError(msg)
        return dst.read_bytes()


def pcm_frames(wav: bytes) -> bytes:
    """The samples of a 16 kHz mono 16-bit WAV (raises SpeechError for anything else)."""
    try:
        with wave.open(io.BytesIO(wav)) as w:
            shape = (w.getnchannels(), w.getsampwidth(), w.getframerate())
            if shape != (1, 2, SAMPLE_RATE):
                msg = f"expected 16 kHz mono 16-bit WAV, got {shape}"
                raise SpeechError(msg)
            return w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise SpeechError(f"not a WAV file: {exc}") from None


class VoskTranscriber:
    """Offline recognition with a vosk model directory (e.g. vosk-model-small-cn-0.22).

    The model is loaded on first use and shared; one recogniser per message.
    """

    def __init__(self, model_dir: Path, *, ffmpeg: str = "ffmpeg") -> None:
        self.model_dir = model_dir
        self.ffmpeg = ffmpeg
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import vosk  # lazy: only operators who configured a model need it

                vosk.SetLogLevel(-1)
                self._model = vosk.Model(str(self.model_dir))
            return self._model

    def transcribe(self, data: bytes, mime: str) -> str:
        import vosk

        frames = pcm_frames(to_wav16k(data, ffmpeg=self.ffmpeg))
        recognizer = vosk.KaldiRecognizer(self._load(), SAMPLE_RATE)
        step = 8000  # 0.25 s of samples per call
        for start in range(0, len(frames), step):
            recognizer.AcceptWaveform(frames[start : start + step])
        text = str(json.loads(recognizer.FinalResult()).get("text", ""))
        return _CJK_GAP.sub("", text).strip()


def open_transcriber(model_dir: Path | None, *, ffmpeg: str = "ffmpeg") -> Transcriber | None:
    """The transcriber for ASR_MODEL_DIR, or None when no model is configured.

    Raises:
        SpeechError: the folder is missing, vosk is not installed, or ffmpeg is missing
            (each named, so the operator can fix the setting).
    """
    if model_dir is None or not str(model_dir).strip():
        return None
    if not model_dir.is_dir():
        msg = f"ASR_MODEL_DIR {str(model_dir)!r} is not a folder (a vosk model directory)"
        raise SpeechError(msg)
    try:
        import vosk  # noqa: F401 - checked at start-up, used per message
    except ImportError:
        msg = f"ASR_MODEL_DIR={str(model_dir)!r} needs the vosk package: pip install vosk"
        raise SpeechError(msg) from None
    if shutil.which(ffmpeg) is None:
        msg = "voice transcription needs ffmpeg: install the Debian package ffmpeg"
        raise SpeechError(msg)
    log.info("voice messages are transcribed with the vosk model in %s", model_dir)
    return VoskTranscriber(model_dir, ffmpeg=ffmpeg)
