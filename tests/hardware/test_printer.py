"""Ticket printer: layout, rendering, the real ESC/POS bytes, DLE EOT status, links, the CLI."""

from __future__ import annotations

import json
import os
import re
import select
import socket
import threading
import time
import tty
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image, ImageOps

from hardware.printer import (
    BigNumber,
    Condition,
    Document,
    EscposPrinter,
    Mode,
    Paper,
    PrinterError,
    PrinterState,
    SimulatedPrinter,
    encode,
    notice_layout,
    open_printer,
    parse_spec,
    receipt_layout,
    render,
    ticket_layout,
)
from hardware.printer.cli import command
from hardware.printer.escpos_printer import (
    FileLink,
    NetworkLink,
    SerialLink,
    UsbLink,
    read_status,
    status_from_bytes,
)
from hardware.printer.render import find_cjk_font, qr_module_size, render_blocks, render_slips, wrap

HALL = "示范市政务服务中心"
BUNDLE = "新生儿出生一件事"
URL = "http://192.168.10.20:5000/t/Xq3vJ9kLmN0pQrStUvWx2A"  # a real track_token is 22 characters
TAKEN = datetime(2026, 11, 23, 9, 41, tzinfo=ZoneInfo("Asia/Shanghai"))


def ticket(paper: int = 80, url: str = URL) -> Document:
    return ticket_layout(paper, hall=HALL, bundle=BUNDLE, number="A012", people_ahead=5, wait_min=15,
                         taken_at=TAKEN, track_url=url)


def decode_qr(img: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found]


def raster_blocks(data: bytes) -> tuple[list[tuple[int, int, bytes]], int]:
    """Every GS v 0 image in the job as (width bytes, rows, bits), and where the last one ends."""
    out, i, end = [], 0, 0
    while (i := data.find(b"\x1dv0", i)) >= 0:
        m, xl, xh, yl, yh = data[i + 3:i + 8]
        assert m == 0  # normal density
        w, h = xl + 256 * xh, yl + 256 * yh
        end = i + 8 + w * h
        out.append((w, h, data[i + 8:end]))
        i = end
    return out, end


def chinese_runs(data: bytes) -> list[str]:
    return [m.decode("gb18030") for m in re.findall(rb"\x1c&(.*?)\x1c\.", data, re.S)]


# --- layout and rendering ---------------------------------------------------------------------


@pytest.mark.parametrize(("paper", "dots"), [(58, 384), (80, 576)])
def test_ticket_renders_at_the_paper_width_with_every_element(paper: int, dots: int, tmp_path: Path) -> None:
    doc = ticket(paper)
    img = render(doc)
    assert img.mode == "1"
    assert img.width == dots
    assert 500 < img.height < 1100
    assert [t for t in doc.texts() if t] == [
        HALL, BUNDLE, "A012", "前面还有 5 人", "预计等候 15 分钟", "取号时间 2026-11-23 09:41",
        "扫码查看排队进度", "请留意叫号，过号请到服务台重新排队",
    ]
    img.save(tmp_path / "t.png")
    assert decode_qr(Image.open(tmp_path / "t.png")) == [URL]


@pytest.mark.parametrize("paper", [Paper.MM58, Paper.MM80])
def test_number_is_at_least_96_dots_high_and_qr_modules_at_least_4(paper: Paper) -> None:
    for number in ("A012", "B1234", "AB123456"):
        img = render_blocks([BigNumber(number)], paper).convert("L")
        _left, top, right, bottom = ImageOps.invert(img).getbbox() or (0, 0, 0, 0)
        assert bottom - top >= 96
        assert right <= paper.dots
    assert qr_module_size(URL, paper) >= 4


def test_wrap_keeps_punctuation_off_line_starts_and_balances_centred_lines() -> None:
    assert wrap("请留意叫号，过号请到服务台重新排队", 5, len) == ["请留意叫", "号，过号请", "到服务台重", "新排队"]
    assert wrap("请留意叫号，过号请到服务台重新排队", 16, len, balance=True) == ["请留意叫号，过号请", "到服务台重新排队"]
    assert wrap("see https://example.com/t/abcdefghijklmnop", 12, len)[1:] == ["example.com/", "t/abcdefghij", "klmnop"]


def test_receipt_and_notice_builders_render_on_both_widths() -> None:
    for paper in (58, 80):
        receipt = receipt_layout(paper, hall=HALL, bundle=BUNDLE, application_number="YJS-20261123-0042",
                                 applicant="张*三", submitted_at=TAKEN, progress_url=URL, promised="5个工作日",
                                 notes=["请保管好本回执"])
        notice = notice_layout(paper, hall=HALL, bundle=BUNDLE, matters=["出生医学证明", "出生落户"],
                               materials=["父母双方居民身份证", "入户方居民户口簿（首页、户主页及本人页）"],
                               conditions=["申请人为新生儿父亲或母亲"], time_limit="即办", fees="不收费",
                               url=URL, printed_at=TAKEN)
        for doc in (receipt, notice):
            img = render(doc)
            assert img.width == Paper.of(paper).dots
            assert decode_qr(img) == [URL]
        assert "申请人：张*三" in receipt.texts()
        assert "2. 入户方居民户口簿（首页、户主页及本人页）" in notice.texts()


def test_ticket_shows_the_lane_and_an_unknown_wait_honestly() -> None:
    doc = ticket_layout(58, hall=HALL, bundle=BUNDLE, number="A003", people_ahead=0, wait_min=None,
                        taken_at=TAKEN, track_url=URL, lane="绿色通道")
    assert "【绿色通道】" in doc.texts()
    assert "预计等候时间暂无法估算" in doc.texts()
    assert decode_qr(render(doc)) == [URL]


def test_ticket_prints_the_quoted_wait_range() -> None:
    def printed(**kw: object) -> list[str]:
        return ticket_layout(58, hall=HALL, bundle=BUNDLE, number="A004", people_ahead=3, wait_min=12,
                             taken_at=TAKEN, track_url=URL, **kw).texts()

    assert "预计等候 14–22 分钟" in printed(wait_range=(14, 22))
    assert "预计等候 8 分钟以内" in printed(wait_range=(0, 8))
    assert "预计等候 12 分钟" in printed()  # no range from the server: the estimate alone


def test_naive_times_and_odd_paper_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        ticket_layout(80, hall=HALL, bundle=BUNDLE, number="A1", people_ahead=0, wait_min=None,
                      taken_at=datetime(2026, 11, 23, 9, 0), track_url=URL)  # noqa: DTZ001
    with pytest.raises(ValueError, match="58 or 80"):
        Paper.of(76)


def test_font_override_must_exist() -> None:
    assert find_cjk_font().path
    with pytest.raises(FileNotFoundError):
        find_cjk_font("/nonexistent/font.ttc")
    with pytest.raises(PrinterError) as e:
        open_printer("sim", font="/nonexistent/font.ttc")
    assert e.value.code == "bad_spec"


# --- the ESC/POS bytes, kept by the simulator -------------------------------------------------


@pytest.mark.parametrize(("paper", "dots"), [(58, 384), (80, 576)])
def test_raster_job_is_the_rendered_image_then_a_cut(paper: int, dots: int) -> None:
    sim = SimulatedPrinter(paper)
    sim.print_document(ticket(paper))
    out = sim.output
    assert out.startswith(b"\x1b@")
    images, end = raster_blocks(out)
    [(slip, _cut)] = render_slips(ticket(paper))
    assert {w for w, _, _ in images} == {dots // 8}
    assert sum(h for _, h, _ in images) == slip.height
    # GS v 0 bits are 1 = black; a "1" image stores 0 = black: the job is the image, inverted
    assert b"".join(bits for _, _, bits in images) == bytes(b ^ 0xFF for b in slip.tobytes())
    assert out[end:] == b"\x1bd\x06\x1dV\x00"  # feed past the cutter, full cut, nothing after
    assert b"\x1bt" not in out  # no single-byte code page switching (hardware.md §2.2)


@pytest.mark.parametrize(("paper", "size"), [(58, 0x33), (80, 0x44)])
def test_text_job_uses_gb18030_between_fs_and_and_fs_dot(paper: int, size: int) -> None:
    sim = SimulatedPrinter(paper, Mode.TEXT)
    sim.print_document(ticket(paper))
    out = sim.output
    runs = chinese_runs(out)
    assert HALL in runs
    assert BUNDLE in runs
    assert "前面还有 5 人" in runs
    assert "请留意叫号，过号请到服务台重新排队" in "".join(runs)
    assert HALL.encode("gb18030") in out
    assert b"\x1d!" + bytes((size,)) + b"\x1c&A012\x1c." in out  # GS ! n: the number 4× / 5×
    images, _ = raster_blocks(out)
    assert len(images) == 1  # the QR, as an image: every printer can print it
    assert out.endswith(b"\x1bd\x06\x1dV\x00")
    assert b"\x1bt" not in out


def test_text_job_with_native_qr_sends_gs_paren_k() -> None:
    out = encode(ticket(80), Mode.TEXT, native_qr=True)
    assert b"\x1d(k" + (len(URL) + 3).to_bytes(2, "little") + b"1P0" + URL.encode() in out
    assert raster_blocks(out)[0] == []


def test_serial_defaults_to_text_mode_and_others_to_raster() -> None:
    assert EscposPrinter(SerialLink("/dev/ttyS9")).mode is Mode.TEXT
    assert EscposPrinter(NetworkLink("10.0.0.9")).mode is Mode.RASTER
    assert open_printer("sim").mode is Mode.RASTER


# --- status -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("online", "paper", "cause", "state"), [
    (0x12, 0x12, None, PrinterState.OK),
    (0x12, 0x1E, None, PrinterState.PAPER_LOW),
    (0x12, 0x72, None, PrinterState.PAPER_OUT),
    (0x1A, 0x7E, 0x32, PrinterState.PAPER_OUT),
    (0x1A, 0x12, 0x32, PrinterState.PAPER_OUT),  # stopped at paper end, sensor not wired
    (0x1A, 0x12, 0x16, PrinterState.OFFLINE),  # cover open
    (0x1A, 0x12, None, PrinterState.OFFLINE),
    (None, None, None, PrinterState.UNKNOWN),  # no answer is not "plenty of paper" (§2.4)
    (0x12, None, None, PrinterState.UNKNOWN),
    (0xFF, 0x12, None, PrinterState.UNKNOWN),  # not a status byte
])
def test_dle_eot_answers_map_to_states(online: int | None, paper: int | None, cause: int | None,
                                       state: PrinterState) -> None:
    status = status_from_bytes(online, paper, cause)
    assert status.state is state
    assert status.message
    assert status.can_print is (state in (PrinterState.OK, PrinterState.PAPER_LOW, PrinterState.UNKNOWN))


def test_cover_open_says_so() -> None:
    assert status_from_bytes(0x1A, 0x12, 0x16).message == "打印机盖未合上"


@pytest.mark.parametrize(("condition", "state", "code"), [
    (Condition.OK, PrinterState.OK, None),
    (Condition.PAPER_LOW, PrinterState.PAPER_LOW, None),
    (Condition.SILENT, PrinterState.UNKNOWN, None),
    (Condition.PAPER_OUT, PrinterState.PAPER_OUT, "paper_out"),
    (Condition.COVER_OPEN, PrinterState.OFFLINE, "offline"),
    (Condition.OFFLINE, PrinterState.OFFLINE, "offline"),
])
def test_simulator_conditions_are_checked_before_printing(condition: Condition, state: PrinterState,
                                                          code: str | None) -> None:
    sim = SimulatedPrinter(58)
    sim.condition = condition
    assert sim.status().state is state
    if code is None:
        sim.print_document(ticket(58))
        assert sim.output
        return
    with pytest.raises(PrinterError) as e:
        sim.print_document(ticket(58))
    assert e.value.code == code
    assert e.value.status is not None
    assert e.value.status.state is state
    assert sim.output == b""  # nothing sent: the ticket stays valid on screen


# --- links: tcp, file, pty --------------------------------------------------------------------


class FakeNetworkPrinter:
    """A JetDirect-style printer on 127.0.0.1: answers DLE EOT n from `answers`, keeps what it gets."""

    def __init__(self, answers: dict[int, int], greeting: bytes = b""):
        self.answers, self.greeting = answers, greeting
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.sendall(self.greeting)
                self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        scanned = len(self.received)
        conn.settimeout(0.1)
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            self.received += chunk
            while (i := self.received.find(b"\x10\x04", scanned)) >= 0 and i + 2 < len(self.received):
                scanned = i + 3
                if (answer := self.answers.get(self.received[i + 2])) is not None:
                    try:
                        conn.sendall(bytes((answer,)))
                    except OSError:
                        return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()


@pytest.fixture
def fake_printer() -> Iterator[type[FakeNetworkPrinter]]:
    made: list[FakeNetworkPrinter] = []

    class Made(FakeNetworkPrinter):
        def __init__(self, answers: dict[int, int], greeting: bytes = b""):
            super().__init__(answers, greeting)
            made.append(self)

    yield Made
    for p in made:
        p.close()


def wait_for(predicate: object, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.01)


def test_tcp_printer_ok_receives_the_job(fake_printer: type[FakeNetworkPrinter]) -> None:
    fake = fake_printer({1: 0x12, 4: 0x12})
    printer = open_printer(f"tcp:127.0.0.1:{fake.port}", 58)
    assert printer.status().state is PrinterState.OK
    printer.print_document(ticket(58))
    job = encode(ticket(58))
    wait_for(lambda: len(fake.received) >= len(job) + 12)
    assert bytes(fake.received).endswith(job)
    assert bytes(fake.received)[:-len(job)] == b"\x10\x04\x01\x10\x04\x04" * 2  # status(), then the job's check


def test_tcp_paper_out_is_detected_before_anything_is_sent(fake_printer: type[FakeNetworkPrinter]) -> None:
    fake = fake_printer({1: 0x1A, 4: 0x72, 2: 0x32})
    printer = open_printer(f"tcp:127.0.0.1:{fake.port}")
    status = printer.status()
    assert status.state is PrinterState.PAPER_OUT
    assert status.message == "打印机缺纸，请联系工作人员换纸"
    with pytest.raises(PrinterError) as e:
        printer.print_document(ticket())
    assert e.value.code == "paper_out"
    wait_for(lambda: fake.connections == 2 and len(fake.received) >= 18)
    assert bytes(fake.received) == b"\x10\x04\x01\x10\x04\x04\x10\x04\x02" * 2  # queries only


def test_tcp_printer_that_never_answers_is_unknown_not_ok(fake_printer: type[FakeNetworkPrinter]) -> None:
    fake = fake_printer({})
    printer = open_printer(f"tcp:127.0.0.1:{fake.port}")
    started = time.monotonic()
    status = printer.status()
    assert time.monotonic() - started < 1.5
    assert status.state is PrinterState.UNKNOWN
    assert status.message == "打印机未应答状态查询"


def test_stale_input_is_drained_before_a_query(fake_printer: type[FakeNetworkPrinter]) -> None:
    fake = fake_printer({1: 0x12, 4: 0x12}, greeting=b"\x14\x00\x00\x0f")  # automatic status back
    link = NetworkLink("127.0.0.1", fake.port)
    dev = link.open()
    try:
        time.sleep(0.1)  # the stale bytes are waiting in our socket
        assert read_status(link, dev).state is PrinterState.OK
    finally:
        link.close(dev)


def test_unreachable_tcp_printer_is_offline_quickly() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        closed_port = s.getsockname()[1]
    # A listener whose accept queue is full drops SYNs: a connect hangs as to a switched-off printer.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    filler = socket.create_connection(silent.getsockname())
    try:
        for spec in (f"tcp:127.0.0.1:{closed_port}", f"tcp:127.0.0.1:{silent.getsockname()[1]}"):
            printer = open_printer(spec)
            started = time.monotonic()
            assert printer.status().state is PrinterState.OFFLINE
            assert time.monotonic() - started < 2
            started = time.monotonic()
            with pytest.raises(PrinterError) as e:
                printer.print_document(ticket())
            assert time.monotonic() - started < 2
            assert e.value.code == "offline"
            assert e.value.status is not None
            assert e.value.status.state is PrinterState.OFFLINE
    finally:
        filler.close()
        silent.close()


def test_file_printer_writes_the_job_and_cannot_tell_its_status(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    printer = open_printer(f"file:{out}", 58)
    status = printer.status()
    assert status.state is PrinterState.UNKNOWN
    assert status.message == "此连接无法读取打印机状态"
    printer.print_document(ticket(58))
    assert out.read_bytes() == encode(ticket(58))
    sim = SimulatedPrinter(58)
    sim.print_document(ticket(58))
    assert sim.output == out.read_bytes()  # the simulator keeps exactly what a printer gets


def test_file_printer_on_a_character_device_reads_status(tmp_path: Path) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)  # no echo, no line buffering: bytes as a printer port would pass them
    path = os.ttyname(slave)
    stop = threading.Event()
    received = bytearray()

    def answer() -> None:  # a printer out of paper behind /dev/usb/lp0
        while not stop.is_set():
            if select.select([master], [], [], 0.05)[0]:
                data = os.read(master, 4096)
                received.extend(data)
                for n in re.findall(rb"\x10\x04([\x01\x02\x04])", data):
                    os.write(master, bytes(({1: 0x1A, 2: 0x32, 4: 0x72}[n[0]],)))

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        printer = open_printer(f"file:{path}")
        assert printer.status().state is PrinterState.PAPER_OUT
        with pytest.raises(PrinterError) as e:
            printer.print_document(ticket())
        assert e.value.code == "paper_out"
    finally:
        stop.set()
        thread.join(1)
        os.close(master)
        os.close(slave)
    assert b"\x1dv0" not in received


def test_specs_parse() -> None:
    assert parse_spec("usb:0416:5011") == UsbLink(0x0416, 0x5011)
    assert parse_spec("usb:0416:5011:81:03") == UsbLink(0x0416, 0x5011, 0x81, 0x03)
    assert parse_spec("serial:/dev/ttyUSB0") == SerialLink("/dev/ttyUSB0", 9600)
    assert parse_spec("serial:/dev/ttyS1@115200") == SerialLink("/dev/ttyS1", 115200)
    assert parse_spec("tcp:10.0.0.9:9100") == NetworkLink("10.0.0.9", 9100)
    assert parse_spec("tcp:printer.local") == NetworkLink("printer.local", 9100)
    assert parse_spec("file:/dev/usb/lp0") == FileLink("/dev/usb/lp0")
    for bad in ("usb:zz:1", "usb:1", "tcp:", "serial:", "lpt:1", "tcp:host:port"):
        with pytest.raises(PrinterError) as e:
            parse_spec(bad)
        assert e.value.code == "bad_spec"


def test_missing_serial_port_is_offline_not_a_crash() -> None:
    printer = open_printer("serial:/dev/nonexistent-printer")
    assert printer.status().state is PrinterState.OFFLINE
    with pytest.raises(PrinterError) as e:
        printer.print_document(ticket())
    assert e.value.code == "offline"


def test_usb_printer_absent_is_reported_not_raised_raw() -> None:
    printer = open_printer("usb:0416:5011")  # no such device here, maybe not even libusb
    status = printer.status()
    assert status.state is PrinterState.OFFLINE
    assert "usb:0416:5011" in status.detail
    with pytest.raises(PrinterError) as e:
        printer.print_document(ticket())
    assert e.value.code in ("offline", "unsupported")


def test_too_long_qr_is_a_printer_error_and_nothing_is_sent() -> None:
    sim = SimulatedPrinter(58)
    with pytest.raises(PrinterError) as e:
        sim.print_document(ticket(58, url="https://example.cn/t/" + "x" * 600))
    assert e.value.code == "render_failed"
    assert sim.output == b""


def test_link_breaking_mid_job_is_write_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    sim = SimulatedPrinter(80)
    sent: list[bytes] = []

    def unplugged_after_one_chunk(data: bytes) -> None:
        if sent:
            raise BrokenPipeError(32, "Broken pipe")
        sent.append(data)

    monkeypatch.setattr(sim.sim_link.dummy, "_raw", unplugged_after_one_chunk)
    with pytest.raises(PrinterError) as e:
        sim.print_document(ticket(80))
    assert e.value.code == "write_failed"  # the slip may be half printed: the kiosk shows the ticket
    assert e.value.status is not None
    assert e.value.status.state is PrinterState.OFFLINE
    assert len(sent) == 1


def test_document_for_other_paper_is_refused() -> None:
    with pytest.raises(PrinterError) as e:
        SimulatedPrinter(58).print_document(ticket(80))
    assert e.value.code == "bad_document"


# --- CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "mode"), [("58", "raster"), ("80", "text")])
def test_cli_sim_prints_a_sample_ticket_and_writes_the_preview(width: str, mode: str, tmp_path: Path) -> None:
    preview = tmp_path / f"ticket-{width}.png"
    result = CliRunner().invoke(command, ["--printer", "sim", "--test", "--width", width, "--mode", mode,
                                          "--preview", str(preview), "--base-url", "https://hall.example.cn/"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["printer"] == "sim"
    assert out["status"]["state"] == "ok"
    assert out["bytes"] > 1000
    assert out["preview"] == str(preview)
    assert re.fullmatch(r"https://hall\.example\.cn/t/test-[\w-]{16}", out["url"])
    img = Image.open(preview)
    assert img.width == {"58": 384, "80": 576}[width]
    assert decode_qr(img) == [out["url"]]


def test_cli_sim_default_preview_goes_to_the_temp_directory(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    result = CliRunner().invoke(command, ["--printer", "sim", "--test"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["preview"] == str(tmp_path / "govhall-ticket-80mm.png")
    assert (tmp_path / "govhall-ticket-80mm.png").exists()


def test_cli_status_only_and_failures_are_json() -> None:
    ok = CliRunner().invoke(command, ["--printer", "sim"])
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["status"]["state"] == "ok"
    assert "bytes" not in json.loads(ok.stdout)
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    down = CliRunner().invoke(command, ["--printer", f"tcp:127.0.0.1:{port}", "--test"])
    assert down.exit_code == 1
    assert json.loads(down.stdout)["error"]["code"] == "offline"
    bad = CliRunner().invoke(command, ["--printer", "lpt:1", "--test"])
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["error"]["code"] == "bad_spec"
