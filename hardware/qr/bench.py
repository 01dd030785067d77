"""`govhall bench qr`: decoders and chains on generated phone-screen camera frames.

Per chain × distortion class: the share of frames decoded to exactly their token, on frames at
640x480 and at 1280x720 (`--per-class` of each); median milliseconds per 640x480 and 1280x720
frame with a code (half clean, half perspective) and without one (a phone showing no code). The set
is generated from the seed, so a rerun with the same seed measures the same images.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when the benchmark runs: `govhall` must start without OpenCV
    from .base import Gray
    from .decoders import Chain
    from .synth import Frame

CANDIDATES = (
    "zxing",
    "pyzbar",
    "opencv",
    "zxing-roi",
    "zxing+sharpen",
    "zxing+up2",
    "zxing+deblur",
    "zxing>pyzbar",
    "pyzbar>zxing",
    "zxing>zxing+up2",
    "zxing>zxing+up2+sharpen",
    "zxing-roi>pyzbar",
    "zxing-roi>zxing+up2",
    "zxing-roi>zxing+deblur",
)
# A kiosk decodes every frame of a 30 fps stream (33 ms) on a PC 1-3x slower than the build machine
# (hardware.md §3), and most frames show no code: a chain must stay under this on a 720p frame here.
BUDGET_MS = 10.0
# Shares closer than this are one binomial standard error apart on 400 frames (≈ 1.6 points at
# 88 %): not worth paying more CPU on every frame for.
TIE = 0.02
SEED = 20261123
BOTH = "both"
SIZES = ("640x480", "1280x720")  # synth.SIZES, named here so the CLI loads without OpenCV

Sets = dict[str, dict[str, list["Frame"]]]  # size → class → frames


@dataclass(slots=True)
class Score:
    chain: str
    decoded: dict[str, float] = field(default_factory=dict)  # class, size or "all" → share read
    misreads: int = 0  # texts that are not the frame's token (incl. any text on a no-code frame)
    ms: dict[str, dict[str, float]] = field(default_factory=dict)  # size → {"code", "no_code"}


Progress = Callable[[str], None]


def run(
    chains: Sequence[str],
    seed: int = SEED,
    per_class: int = 25,
    timing_frames: int = 20,
    size: str = BOTH,
    progress: Progress = lambda _: None,
) -> dict[str, Any]:
    """Measure every chain on the generated set; the result as plain JSON-able data."""
    from . import synth
    from .decoders import DEFAULT_CHAIN, Chain

    built = {spec: Chain.from_spec(spec) for spec in chains}
    usable = {spec: c for spec, c in built.items() if len(c.stages) == len(spec.replace("→", ">").split(">"))}
    sizes = list(SIZES) if size == BOTH else [size]
    sets = {sz: _class_sets(seed, per_class, sz, progress) for sz in sizes}
    timing = _timing_sets(seed, timing_frames, progress)
    scores = []
    for spec, chain in usable.items():
        progress(f"decoding with {spec}")
        scores.append(_score(spec, chain, sets, timing))
    return {
        "seed": seed,
        "per_class": per_class,
        "timing_frames": timing_frames,
        "sizes": sizes,
        "classes": list(synth.CLASSES),
        "unavailable": [spec for spec in chains if spec not in usable],
        "chains": {s.chain: {"decoded": s.decoded, "misreads": s.misreads, "ms": s.ms} for s in scores},
        "budget_ms": BUDGET_MS,
        "best": choose(scores),
        "default": DEFAULT_CHAIN,
    }


def choose(scores: Sequence[Score]) -> str | None:
    """Among chains within BUDGET_MS per 720p frame and without misreads, the cheapest per codeless
    720p frame of those reading within TIE of the most frames."""
    fit = [s for s in scores if max(s.ms["1280x720"].values()) <= BUDGET_MS and not s.misreads]
    if not fit:
        return None
    top = max(s.decoded["all"] for s in fit)
    near = [s for s in fit if s.decoded["all"] >= top - TIE - 1e-9]
    return min(near, key=lambda s: (s.ms["1280x720"]["no_code"], -s.decoded["all"])).chain


def _class_sets(seed: int, n: int, size: str, progress: Progress) -> dict[str, list[Frame]]:
    from . import synth

    out = {}
    for kind in synth.CLASSES:
        progress(f"generating {size} {kind} frames")
        out[kind] = synth.frames(seed, kind, n, synth.SIZES[size])
    return out


def _timing_sets(seed: int, n: int, progress: Progress) -> Sets:
    from . import synth

    out: Sets = {}
    for name, wh in synth.SIZES.items():
        progress(f"generating {name} timing frames")
        half = (n + 1) // 2
        code = synth.frames(seed, "clean", half, wh) + synth.frames(seed, "perspective", n - half, wh)
        out[name] = {"code": code, "no_code": synth.frames(seed, "none", n, wh)}
    return out


def _score(spec: str, chain: Chain, sets: Sets, timing: Sets) -> Score:
    score = Score(spec)
    hits: dict[str, list[bool]] = {}
    for size, by_kind in sets.items():
        for kind, frames in by_kind.items():
            for f in frames:
                texts = chain.decode(f.image)
                hit = f.token in texts
                score.misreads += sum(t != f.token for t in texts)
                for key in (kind, size, "all"):
                    hits.setdefault(key, []).append(hit)
    score.decoded = {key: sum(h) / len(h) for key, h in hits.items()}
    for name, by_kind in timing.items():
        score.ms[name] = {}
        for kind, frames in by_kind.items():
            score.ms[name][kind] = _median_ms(chain, [f.image for f in frames])
            if kind == "no_code":
                score.misreads += sum(len(chain.decode(f.image)) for f in frames)
    return score


def _median_ms(chain: Chain, images: Sequence[Gray]) -> float:
    if not images:
        return 0.0
    chain.decode(images[0])  # warm-up: first-call allocations are not what a running kiosk pays
    times = []
    for img in images:
        t0 = time.perf_counter()
        chain.decode(img)
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


SHORT = {"clean": "clean", "rotation": "rot", "perspective": "persp", "blur": "blur",
         "low_contrast": "lowc", "noise": "noise", "moire_glare": "moire", "small": "small",
         "640x480": "480p", "1280x720": "720p", "all": "ALL"}


def table(result: dict[str, Any]) -> str:
    """The result as a fixed-width table: shares in %, then median ms per frame."""
    cols = [*result["classes"], *result["sizes"], "all"]
    width = max([len(c) for c in result["chains"]] + [5])
    sizes = " + ".join(result["sizes"])
    lines = [
        f"share of frames read ({result['per_class']} per class at {sizes}, seed {result['seed']}); "
        f"median ms per frame ({result['timing_frames']} per set)",
        f"{'chain':<{width}} " + " ".join(f"{SHORT[c]:>5}" for c in cols)
        + "  ms 480:code nocode  720:code nocode  misreads",
    ]
    for name, r in result["chains"].items():
        row = f"{name:<{width}} " + " ".join(f"{r['decoded'][c] * 100:>4.0f}%" for c in cols)
        small, big = r["ms"]["640x480"], r["ms"]["1280x720"]
        row += f"  {small['code']:>11.1f} {small['no_code']:>6.1f} {big['code']:>9.1f} {big['no_code']:>6.1f}"
        lines.append(row + f"  {r['misreads']:>8}")
    if result["unavailable"]:
        lines.append("unavailable (library missing): " + ", ".join(result["unavailable"]))
    lines.append(
        f"choice (≤ {result['budget_ms']:g} ms per 720p frame, no misread, within {TIE:.0%} of the best, "
        f"then cheapest): {result['best']}; current default: {result['default']}"
    )
    return "\n".join(lines)


@click.command("qr")
@click.option("--seed", type=int, default=SEED, show_default=True, help="Same seed, same frames.")
@click.option("--per-class", type=click.IntRange(1), default=25, show_default=True)
@click.option("--timing-frames", type=click.IntRange(1), default=20, show_default=True,
              help="Frames per timing set (each size, with and without a code).")
@click.option("--size", type=click.Choice([BOTH, *SIZES]), default=BOTH, show_default=True,
              help="Frame size(s) of the distortion set.")
@click.option("--chain", "chains", multiple=True, metavar="SPEC",
              help='A decoder chain such as "zxing>zxing+up2" (repeatable); default: the candidates.')
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
def command(seed: int, per_class: int, timing_frames: int, size: str,
            chains: tuple[str, ...], as_json: bool) -> None:
    """Share of generated camera frames each QR decoder chain reads, and its milliseconds per frame."""
    def progress(msg: str) -> None:
        click.echo(f"\r\033[K{msg}…", err=True, nl=False)

    try:
        result = run(chains or CANDIDATES, seed, per_class, timing_frames, size, progress)
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    click.echo("\r\033[K", err=True, nl=False)
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else table(result))
