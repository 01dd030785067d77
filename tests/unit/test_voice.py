"""Spoken calls: the text espeak-ng reads, the chime, and the cached call clips (display/voice.py)."""

from __future__ import annotations

import array
import io
import math
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Sequence
from pathlib import Path

import pytest

from display import voice
from display.voice import Voice, VoiceUnavailable, chime, spoken_text

REQUIRE = os.environ.get("GOVHALL_TEST_REQUIRE_SERVICES") == "1"


def read(data: bytes) -> tuple[int, array.array[int]]:
    """(sample rate, samples) of a mono 16-bit PCM WAV file, checking that it is one."""
    with wave.open(io.BytesIO(data)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getcomptype()) == (1, 2, "NONE")
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        assert len(frames) == 2 * w.getnframes()
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return rate, samples


def rms(samples: Sequence[int]) -> float:
    """Root mean square on a 0..1 scale (sox's `RMS amplitude`)."""
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples))) / 32768


@pytest.mark.parametrize(("number", "window", "recall", "text"), [
    ("A012", 5, False, "请A零一二号到五号窗口办理"),
    ("A012", 5, True, "再次呼叫，请A零一二号到五号窗口办理"),
    ("B1234", 12, False, "请B一二三四号到十二号窗口办理"),
    ("Z000", 20, False, "请Z零零零号到二十号窗口办理"),
    ("C101", 105, False, "请C一零一号到一百零五号窗口办理"),
    ("A010", 10, False, "请A零一零号到十号窗口办理"),
    ("A100", 1, False, "请A一零零号到一号窗口办理"),
    ("A111", 110, False, "请A一一一号到一百一十号窗口办理"),
    ("A999", 999, False, "请A九九九号到九百九十九号窗口办理"),
    ("A999", 100, False, "请A九九九号到一百号窗口办理"),
])
def test_spoken_text_reads_digits_one_by_one_and_the_window_as_a_cardinal(
        number, window, recall, text):
    assert spoken_text(number, window, recall=recall) == text


@pytest.mark.parametrize(("number", "window"), [
    ("a012", 5), ("A12", 5), ("A12345", 5), ("AB12", 5), ("012", 5), ("", 5),
    ("A012\n", 5), (" A012", 5), ("A01２", 5), ("Ａ012", 5),
    ("A012", 0), ("A012", -1), ("A012", 1000), ("A012", True),
])
def test_spoken_text_refuses_bad_input(number, window):
    with pytest.raises(ValueError, match="must"):
        spoken_text(number, window)


def test_chime_is_a_short_audible_wav_that_fades_in():
    rate, samples = read(chime())
    assert rate == 22050
    assert 0.5 <= len(samples) / rate <= 1.2
    peak = max(abs(s) for s in samples)
    assert peak > 0.2 * 32768
    assert rms(samples) > 0.05
    # fades in, no click: silent first sample, the first millisecond well below the peak
    assert samples[0] == 0
    assert max(abs(s) for s in samples[: rate // 1000]) < 0.2 * peak


def test_chime_follows_the_sample_rate_asked_for():
    rate, samples = read(chime(16000))
    assert rate == 16000
    assert 0.5 <= len(samples) / rate <= 1.2


@pytest.fixture
def espeak() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        why = "espeak-ng is not installed (Debian package espeak-ng)"
        if REQUIRE:
            pytest.fail(f"{why}; required here (GOVHALL_TEST_REQUIRE_SERVICES=1)")
        pytest.skip(why)
    return path


@pytest.fixture
def real_voice(espeak: str, tmp_path: Path) -> Voice:
    v = Voice(tmp_path / "audio")
    assert v.available
    return v


def test_call_clip_is_chime_pause_then_speech(real_voice):
    rate, samples = read(real_voice.call_wav("A012", 5))
    assert len(samples) / rate > 1.5
    assert rms(samples[: int(0.3 * rate)]) > 0.05  # the chime
    assert rms(samples[int(0.72 * rate): int(0.98 * rate)]) == 0  # the pause
    speech = samples[int(1.0 * rate):]
    assert rms(speech) > 0.05
    # speech all along, not one burst: most half-second stretches of it are audible
    halves = [speech[i: i + rate // 2] for i in range(0, len(speech) - rate // 2, rate // 2)]
    assert sum(rms(h) > 0.02 for h in halves) >= 0.7 * len(halves)


def test_second_call_comes_from_the_cache_without_running_espeak(real_voice, monkeypatch):
    first = real_voice.call_wav("A012", 5)
    cached = sorted(real_voice.cache_dir.iterdir())
    assert [p.suffix for p in cached] == [".wav"]  # no temporary file left behind

    def no_espeak(*args, **kwargs):
        raise AssertionError("espeak-ng ran again for a cached sentence")

    monkeypatch.setattr(voice.subprocess, "run", no_espeak)
    assert real_voice.call_wav("A012", 5) == first
    # the display builds a Voice per request: a new one shares the cache
    assert Voice(real_voice.cache_dir).call_wav("A012", 5) == first
    assert sorted(real_voice.cache_dir.iterdir()) == cached


def test_each_sentence_has_its_own_cache_entry(real_voice):
    plain = real_voice.call_wav("A012", 5)
    recall = real_voice.call_wav("A012", 5, recall=True)
    other = real_voice.call_wav("A013", 5)
    assert len({plain, recall, other}) == 3
    assert len(list(real_voice.cache_dir.glob("*.wav"))) == 3


def test_recall_clip_is_longer(real_voice):
    plain_rate, plain = read(real_voice.call_wav("A012", 5))
    recall_rate, recall = read(real_voice.call_wav("A012", 5, recall=True))
    assert plain_rate == recall_rate
    assert len(recall) > len(plain) + plain_rate // 2  # 再次呼叫 takes well over half a second


def test_bogus_engine_path_is_unavailable(tmp_path):
    v = Voice(tmp_path / "audio", engine=str(tmp_path / "no-such-espeak-ng"))
    assert not v.available
    with pytest.raises(VoiceUnavailable, match="not found"):
        v.call_wav("A012", 5)
    assert not (tmp_path / "audio").exists()


def test_bad_input_is_refused_before_the_engine(tmp_path):
    v = Voice(tmp_path / "audio", engine=str(tmp_path / "no-such-espeak-ng"))
    with pytest.raises(ValueError, match="must"):
        v.call_wav("A12", 5)


def fake_engine(tmp_path: Path, body: str) -> str:
    """An executable Python script standing in for espeak-ng."""
    script = tmp_path / "fake-espeak-ng"
    script.write_text(f"#!{sys.executable}\nimport sys, wave\n{body}\n")
    script.chmod(0o755)
    return str(script)


def test_failing_engine_raises_voice_unavailable_with_its_message(tmp_path):
    engine = fake_engine(tmp_path, "sys.exit('Error: voice does not exist.')")
    with pytest.raises(VoiceUnavailable, match="voice does not exist"):
        Voice(tmp_path / "audio", engine=engine).call_wav("A012", 5)


def test_engine_that_writes_no_audio_raises_voice_unavailable(tmp_path):
    engine = fake_engine(tmp_path, "pass")
    with pytest.raises(VoiceUnavailable, match="could not be run or read"):
        Voice(tmp_path / "audio", engine=engine).call_wav("A012", 5)


def test_engine_timeout_raises_voice_unavailable(tmp_path, monkeypatch):
    def slow(argv, **kwargs):
        assert kwargs["timeout"] == 5
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    monkeypatch.setattr(voice.subprocess, "run", slow)
    engine = fake_engine(tmp_path, "pass")
    with pytest.raises(VoiceUnavailable, match="longer than 5 s"):
        Voice(tmp_path / "audio", engine=engine).call_wav("A012", 5)


def test_chime_is_made_at_the_engine_sample_rate(tmp_path):
    # Writes 1 s of a 16 kHz tone where `-w` says, and records the arguments it got.
    body = """
open(sys.argv[0] + ".args", "w").write("\\n".join(sys.argv[1:]))
out = sys.argv[sys.argv.index("-w") + 1]
with wave.open(out, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"\\x00\\x40\\x00\\xc0" * 8000)
"""
    engine = fake_engine(tmp_path, body)
    rate, samples = read(Voice(tmp_path / "audio", engine=engine).call_wav("A012", 5))
    assert rate == 16000
    assert len(samples) == len(read(chime(16000))[1]) + int(0.3 * 16000) + 16000
    args = Path(engine + ".args").read_text().split("\n")
    assert args[:4] == ["-v", "cmn-latn-pinyin", "-s", "130"]
    assert args[-1] == "请A零一二号到五号窗口办理"


def test_prune_deletes_only_clips_not_played_for_long(tmp_path):
    import os
    import time

    from display.voice import prune

    old, new = tmp_path / "old.wav", tmp_path / "new.wav"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    past = time.time() - 5 * 86400
    os.utime(old, (past, past))
    assert prune(tmp_path, 3 * 86400) == 1
    assert not old.exists() and new.exists()


@pytest.mark.parametrize("text", ["", "x" * 61, "-v en", "请<script>"])
def test_prompt_refuses_bad_text(tmp_path, text):
    from display.voice import Voice

    with pytest.raises(ValueError, match="prompt must be"):
        Voice(tmp_path).prompt_wav(text)
