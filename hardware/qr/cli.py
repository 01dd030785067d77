"""`govhall hw qr`: decode image files (or watch a camera) with the kiosk's decoder chain; JSON lines."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported when the command runs: `govhall` must start without OpenCV
    from .decoders import Chain


def _emit(record: dict[str, Any]) -> None:
    click.echo(json.dumps(record, ensure_ascii=False))


def _decode_files(chain: Chain, files: tuple[str, ...]) -> bool:
    """One line per file, in order; True if every file gave a code."""
    import cv2

    from .decoders import to_gray

    all_ok = True
    for name in files:
        image = cv2.imread(name, cv2.IMREAD_GRAYSCALE)
        texts = chain.decode(to_gray(image)) if image is not None else []
        if texts:
            _emit({"file": name, "text": texts[0]})
            continue
        all_ok = False
        error = "cannot read image" if image is None else "no QR code found"
        _emit({"file": name, "error": error})
    return all_ok


def _watch(chain: Chain, device: str, seconds: float) -> bool:
    """One line per new code (and per camera problem) for `seconds`; True if any code was read."""
    from .base import DeviceError
    from .camera import CameraQrSource

    def report(e: DeviceError) -> None:
        _emit({"camera": device, "error": str(e)})

    source = CameraQrSource(int(device) if device.isdigit() else device, chain, on_error=report)
    read = False
    deadline = time.monotonic() + seconds
    with source:
        while (left := deadline - time.monotonic()) > 0:
            done = source.finite and not source.running  # a video file played to its end
            text = source.read(timeout=0 if done else min(left, 0.2))
            if text is not None:
                read = True
                _emit({"camera": device, "text": text})
            elif done:
                break
    click.echo(f"{source.frames} frames decoded", err=True)
    return read


@click.command("qr")
@click.option("--image", "image_mode", is_flag=True, help="Decode the image FILEs (the default mode).")
@click.option("--camera", metavar="DEVICE", help="Watch a camera (index, /dev/videoN or a video file).")
@click.option("--seconds", type=click.FloatRange(min=0), default=10.0, show_default=True,
              help="How long --camera watches.")
@click.option("--chain", "spec", metavar="SPEC",
              help='Decoder chain, e.g. "zxing>pyzbar"; default: the benchmark\'s choice.')
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def command(image_mode: bool, camera: str | None, seconds: float, spec: str | None,
            files: tuple[str, ...]) -> None:
    """Decode QR codes in image files, one JSON line each: {"file", "text"} or {"file", "error"}.

    Exits 1 if any file gave no code (or --camera read none).
    """
    if camera is None and not files:
        raise click.UsageError("give image FILEs (govhall hw qr --image FILE...) or --camera DEVICE")
    if camera is not None and (files or image_mode):
        raise click.UsageError("--camera and image FILEs are separate modes")
    from .decoders import Chain, default_chain

    try:
        chain = Chain.from_spec(spec) if spec else default_chain()
    except ValueError as e:
        raise click.UsageError(str(e)) from e
    ok = _watch(chain, camera, seconds) if camera is not None else _decode_files(chain, files)
    if not ok:
        raise SystemExit(1)
