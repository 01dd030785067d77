"""Spoken calls for the hall displays: a chime, then the call in Mandarin, made offline by espeak-ng.

Nothing is downloaded: the chime is synthesised here and the speech by the local espeak-ng
(Debian package `espeak-ng`). Each clip is made once and kept in a cache directory.
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import io
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

log = logging.getLogger(__name__)

# Debian 12's espeak-ng 1.51 says the tone numbers of `-v cmn` aloud in English (好 -> "hao two",
# espeak-ng issues #1028, #1236); `cmn-latn-pinyin` is the same Mandarin voice without that bug,
# and it still says a ticket's letter by its name (A -> "ei").
VOICE = "cmn-latn-pinyin"
RATE = 130  # espeak's words per minute; about 2.5 syllables a second, unhurried for older listeners
TIMEOUT = 5.0  # seconds espeak-ng may take for one sentence
GAP = 0.3  # seconds of silence between the chime and the speech
CLIP_FORMAT = 1  # bump when the chime or the layout of a clip changes: old cache entries then miss
CACHE_DAYS = 3  # a clip not played for this long is deleted (tomorrow's numbers are mostly new)
PRUNE_EVERY = 50  # look for old clips after this many new ones

_NUMBER = re.compile(r"[A-Z][0-9]{3,4}")
_DIGITS = "零一二三四五六七八九"


class VoiceUnavailable(Exception):
    """Speech could not be made; the display shows the call as text only."""


def _cardinal(n: int) -> str:
    """`n` (1..999) as a spoken Chinese cardinal: 5 五, 12 十二, 20 二十, 105 一百零五."""
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    words = ""
    if hundreds:
        words += _DIGITS[hundreds] + "百" + ("零" if rest and not tens else "")
    if tens:
        # 12 is 十二 but 112 is 一百一十二: the leading 一 is dropped only at the front
        words += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if ones:
        words += _DIGITS[ones]
    return words


def spoken_text(number: str, window_number: int, recall: bool = False) -> str:
    """The call as the speech engine should read it: 请A零一二号到五号窗口办理."""
    if not isinstance(number, str) or not _NUMBER.fullmatch(number):
        raise ValueError(f"ticket number must look like A012 or A0123, not {number!r}")
    if type(window_number) is not int or not 1 <= window_number <= 999:  # bool is no window
        raise ValueError(f"window number must be 1..999, not {window_number!r}")
    # Digits are read one by one, as callers read a ticket. 1 is 一, not 幺: 幺 is radio and phone
    # jargon that some older citizens do not know, and the ticket in their hand shows a plain 1.
    digits = "".join(_DIGITS[int(d)] for d in number[1:])
    text = f"请{number[0]}{digits}号到{_cardinal(window_number)}号窗口办理"
    return f"再次呼叫，{text}" if recall else text


PROMPT_MAX = 60  # characters; a prompt is one short sentence, never a document
_PROMPT = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff5ea-zA-Z0-9 ，。、！？：；（）·\-]+")


def _prompt_text(text: object) -> str:
    """`text` checked as a prompt: 1..60 characters of Chinese, letters, digits and punctuation."""
    if not isinstance(text, str):
        raise ValueError("prompt must be text")
    text = text.strip()
    if not 1 <= len(text) <= PROMPT_MAX or not _PROMPT.fullmatch(text) or text.startswith("-"):
        # espeak takes the text as an argument: a leading '-' would read as an option
        raise ValueError(f"prompt must be 1..{PROMPT_MAX} Chinese characters, letters or digits")
    return text


def _tone(freq: float, seconds: float, rate: int, peak: float) -> array.array[int]:
    """A struck-bell sine: 8 ms fade-in, exponential decay, 20 ms fade-out (no clicks)."""
    n = int(seconds * rate)
    fade_in, fade_out = int(0.008 * rate), int(0.02 * rate)
    out = array.array("h")
    for i in range(n):
        t = i / rate
        envelope = math.exp(-3.0 * t / seconds) * min(1.0, i / fade_in, (n - 1 - i) / fade_out)
        sound = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
        out.append(int(32767 * peak * envelope * sound / 1.25))
    return out


def _chime_samples(rate: int) -> array.array[int]:
    """Ding (880 Hz) then dong (660 Hz), 0.35 s each."""
    return _tone(880.0, 0.35, rate, 0.5) + _tone(660.0, 0.35, rate, 0.5)


def _frames(samples: array.array[int]) -> bytes:
    """`samples` as WAV frame bytes (little-endian 16-bit)."""
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    return samples.tobytes()


def _wav(frames: bytes, rate: int) -> bytes:
    """A complete mono 16-bit PCM WAV file holding `frames`."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def chime(sample_rate: int = 22050) -> bytes:
    """The two-tone ding-dong played before a call, as a mono 16-bit WAV file (0.7 s)."""
    return _wav(_frames(_chime_samples(sample_rate)), sample_rate)


class Voice:
    """Call clips (chime, pause, Mandarin sentence) made by espeak-ng and cached in `cache_dir`."""

    def __init__(self, cache_dir: Path, engine: str | None = None) -> None:
        self.cache_dir = cache_dir
        self.engine_name = engine or "espeak-ng"
        self.engine = shutil.which(self.engine_name)

    @property
    def available(self) -> bool:
        """True if the speech engine (espeak-ng, or the path given) was found and is executable."""
        return self.engine is not None

    def call_wav(self, number: str, window_number: int, recall: bool = False) -> bytes:
        """One WAV file announcing the call; raises VoiceUnavailable if speech cannot be made."""
        text = spoken_text(number, window_number, recall)
        key = repr((CLIP_FORMAT, text, self.engine, VOICE, RATE, GAP)).encode()
        path = self.cache_dir / f"{hashlib.sha256(key).hexdigest()[:32]}.wav"
        with contextlib.suppress(FileNotFoundError):
            clip = path.read_bytes()
            with contextlib.suppress(OSError):
                os.utime(path)  # played again: keep it
            return clip
        rate, speech = self._speak(text)
        # The chime is made at espeak's rate, so nothing is resampled; espeak's frames are
        # already little-endian 16-bit mono and go in as they are.
        silence = bytes(2 * round(GAP * rate))
        clip = _wav(_frames(_chime_samples(rate)) + silence + speech, rate)
        _store(path, clip)
        self._made = getattr(self, "_made", 0) + 1
        if self._made % PRUNE_EVERY == 0:
            prune(self.cache_dir, CACHE_DAYS * 86400)
        return clip

    def prompt_wav(self, text: str) -> bytes:
        """A short spoken prompt for 长辈模式 (no chime), cached; VoiceUnavailable if speech fails."""
        text = _prompt_text(text)
        key = repr((CLIP_FORMAT, "prompt", text, self.engine, VOICE, RATE)).encode()
        path = self.cache_dir / f"p-{hashlib.sha256(key).hexdigest()[:32]}.wav"
        with contextlib.suppress(FileNotFoundError):
            clip = path.read_bytes()
            with contextlib.suppress(OSError):
                os.utime(path)  # played again: keep it
            return clip
        rate, speech = self._speak(text)
        clip = _wav(speech, rate)
        _store(path, clip)
        return clip

    def _speak(self, text: str) -> tuple[int, bytes]:
        """(sample rate, 16-bit mono frames) of `text` spoken by espeak-ng."""
        if self.engine is None:
            raise VoiceUnavailable(f"speech engine {self.engine_name!r} not found "
                                   "(Debian package espeak-ng); showing the call as text only")
        with tempfile.TemporaryDirectory(prefix="govhall-voice-") as tmp:
            out = Path(tmp) / "speech.wav"
            # An argv list without a shell, and `text` is built only from validated parts.
            argv = [self.engine, "-v", VOICE, "-s", str(RATE), "-w", str(out), text]
            try:
                subprocess.run(argv, check=True, capture_output=True, timeout=TIMEOUT)  # noqa: S603
                with wave.open(str(out), "rb") as r:
                    if r.getnchannels() != 1 or r.getsampwidth() != 2:
                        raise VoiceUnavailable(f"espeak-ng wrote {r.getnchannels()} channel(s) of "
                                               f"{8 * r.getsampwidth()}-bit audio, not mono 16-bit")
                    return r.getframerate(), r.readframes(r.getnframes())
            except subprocess.CalledProcessError as e:
                why = e.stderr.decode(errors="replace").strip() or f"exit status {e.returncode}"
                raise VoiceUnavailable(f"espeak-ng failed: {why}") from e
            except subprocess.TimeoutExpired as e:
                raise VoiceUnavailable(f"espeak-ng took longer than {TIMEOUT:g} s") from e
            except (OSError, EOFError, wave.Error) as e:
                raise VoiceUnavailable(f"espeak-ng could not be run or read: {e}") from e


def prune(cache_dir: Path, max_age_s: float) -> int:
    """Delete cached clips not played for `max_age_s` seconds; returns how many went."""
    removed = 0
    cutoff = time.time() - max_age_s
    for clip in cache_dir.glob("*.wav"):
        with contextlib.suppress(OSError):
            if clip.stat().st_mtime < cutoff:
                clip.unlink()
                removed += 1
    return removed


def _store(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically; a failed write only costs a later re-synthesis."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as e:
        log.warning("voice clip not cached in %s: %s", path.parent, e)
