"""ID card reader: §1.4 frames byte for byte, the §1.6 layout, and the real driver against a pty simulator."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from click.testing import CliRunner

from hardware.idcard import (
    AuthenticationFailed,
    CardDataError,
    CardKind,
    CardReadFailed,
    ChecksumMismatch,
    DeviceError,
    FrameError,
    IdCardError,
    IdCardReader,
    ReaderStatusError,
    ReaderTimeout,
    ReaderUnavailable,
    SamFailure,
    SamRejectedCommand,
    SerialIdCardReader,
    SimulatedReader,
    check_char,
    demo_card,
    id_number_valid,
    make_card,
    parse_card,
)
from hardware.idcard import protocol as p
from hardware.idcard.cli import command as idcard_cli
from hardware.idcard.text import NATIONS, encode_text

RESIDENT = {
    "name": "张三", "sex": "1", "nation": "01", "birth": "19900307",
    "address": "江苏省南京市玄武区北京东路41号", "id_number": "320102199003071239",
    "authority": "南京市公安局玄武分局", "valid_from": "20200101", "valid_to": "20400101",
}
FAST = {"probe_timeout": 0.15, "command_timeout": 0.5, "read_timeout": 1.0, "gap": 0.1, "poll_interval": 0.05}


# --- frames, byte for byte (hardware.md §1.4) ------------------------------------------------------

@pytest.mark.parametrize(("command", "frame"), [
    (p.RESET_SAM, "aaaaaa96690003 10ff ec"),
    (p.SAM_STATUS, "aaaaaa96690003 11ff ed"),
    (p.READ_SAM_ID, "aaaaaa96690003 12ff ee"),
    (p.FIND_CARD, "aaaaaa96690003 2001 22"),
    (p.SELECT_CARD, "aaaaaa96690003 2002 21"),
    (p.READ_BASE, "aaaaaa96690003 3001 32"),
    (p.READ_BASE_FINGERPRINT, "aaaaaa96690003 3010 23"),
    (p.READ_NEW_ADDRESS, "aaaaaa96690003 3003 30"),
])
def test_request_frames_match_the_table(command, frame):
    assert command.frame() == bytes.fromhex(frame)


def test_set_rf_frame_carries_its_data_byte():
    assert p.SET_RF_FRAME.frame(b"\x50").hex() == "aaaaaa9669000461ff50ca"


@pytest.mark.parametrize(("sw3", "data", "frame"), [
    (0x90, b"", "aaaaaa9669 0004 000090 94"),  # status ok
    (0x9F, bytes(4), "aaaaaa9669 0008 00009f 00000000 97"),  # card found
    (0x80, b"", "aaaaaa9669 0004 000080 84"),  # no card
    (0x90, bytes(8), "aaaaaa9669 000c 000090 0000000000000000 9c"),  # selected
    (0x81, b"", "aaaaaa9669 0004 000081 85"),
    (0x41, b"", "aaaaaa9669 0004 000041 45"),
])
def test_reply_frames_match_the_table_and_decode(sw3, data, frame):
    raw = bytes.fromhex(frame)
    assert p.response(sw3, data) == raw
    decoder = p.FrameDecoder(min_length=4)
    decoder.feed(raw)
    assert p.Response.from_body(decoder.next_frame()) == p.Response(0, 0, sw3, data)
    assert decoder.next_frame() is None


def test_decoder_resyncs_byte_by_byte_across_garbage_and_false_preambles():
    good = p.response(0x9F, bytes(4))
    stream = (b"\x01\xaa\xaa\x13"  # a partial preamble
              + p.PREAMBLE + b"\xff\xff"  # a preamble look-alike with an impossible length
              + p.PREAMBLE + b"\x00\x05\x01"  # a plausible length whose checksum fails
              + good + good)
    decoder = p.FrameDecoder(min_length=4)
    frames, bad = [], 0
    for b in stream:
        decoder.feed(bytes([b]))
        while True:
            try:
                body = decoder.next_frame()
            except ChecksumMismatch:
                bad += 1
                continue
            if body is None:
                break
            frames.append(body)
    assert frames == [b"\x00\x00\x9f" + bytes(4)] * 2
    assert bad == 1


def test_decoder_rejects_a_bad_checksum():
    frame = bytearray(p.response(0x90, bytes(8)))
    frame[9] ^= 0x01
    decoder = p.FrameDecoder(min_length=4)
    decoder.feed(bytes(frame))
    with pytest.raises(ChecksumMismatch):
        decoder.next_frame()


# --- the 1,295-byte base message and the text block (§1.6, §1.8, §1.9) --------------------------------

def _hand_block(fields: list[tuple[int, str]], flag: str = " ") -> bytes:
    """A text block laid out from the table's offsets directly, independent of `encode_text`."""
    block = bytearray(b" \x00" * 128)
    for offset, value in [*fields, (248, flag)]:
        raw = value.encode("utf-16-le")
        block[offset:offset + len(raw)] = raw
    return bytes(block)


def test_base_message_reply_has_the_documented_layout():
    text = _hand_block([(0, "李四"), (30, "2"), (32, "03"), (36, "19491231"), (52, "北京市东城区"),
                        (122, "11010519491231002X"), (158, "北京市公安局东城分局"), (188, "20100101"),
                        (204, "长期")])
    photo = bytes((i * 7) & 0xFF for i in range(1024))
    frame = p.response(p.OK, p.base_message_data(text, photo))
    assert len(frame) == 1295
    assert frame[:14].hex() == "aaaaaa9669" "0508" "000090" "0100" "0400"
    assert frame[14:270] == text and frame[270:1294] == photo
    assert frame[1294] == p.xor(frame[5:1294])

    decoder = p.FrameDecoder(min_length=4)
    decoder.feed(frame)
    card = parse_card(*p.split_base_message(p.Response.from_body(decoder.next_frame()).data))
    assert (card.name, card.sex, card.nation, card.birth_date) == ("李四", "女", "回族", date(1949, 12, 31))
    assert (card.address, card.id_number, card.authority) == ("北京市东城区", "11010519491231002X", "北京市公安局东城分局")
    assert (card.valid_from, card.valid_to, card.kind) == (date(2010, 1, 1), None, CardKind.RESIDENT)
    assert card.id_number_valid is True and card.problems == ()
    assert card.photo_wlt == photo and card.text_raw == text
    assert card.to_json()["valid_to"] == "长期"


@pytest.mark.parametrize(("first17", "check"), [
    ("11010519491231002", "X"), ("44052418800101001", "4"), ("32010219900307123", "9"),
])
def test_check_char_worked_examples(first17, check):
    assert check_char(first17) == check
    assert id_number_valid(first17 + check)


def test_bad_check_digit_is_flagged_not_hidden():
    card = make_card({**RESIDENT, "id_number": "320102199003071238"})
    assert card.id_number_valid is False
    assert "ID number fails the GB 11643 check digit" in card.problems
    assert card.to_json(show_id=True)["id_number_valid"] is False


def test_birth_date_and_sex_are_checked_against_the_number():
    card = make_card({**RESIDENT, "sex": "2", "birth": "19900308"})
    assert card.id_number_valid is True
    assert set(card.problems) == {"birth date differs from the ID number",
                                  "sex differs from the ID number's sequence parity"}


@pytest.mark.parametrize(("code", "shown"), [
    ("01", "汉族"), ("02", "蒙古族"), ("05", "维吾尔族"), ("29", "柯尔克孜族"), ("46", "德昂族"),
    ("56", "基诺族"), ("97", "其他"), ("98", "外国血统中国籍人士"),
])
def test_nation_codes(code, shown):
    assert make_card({**RESIDENT, "nation": code}).nation == shown


def test_nation_table_is_complete():
    assert len(NATIONS) == 58 and "德昴族" not in NATIONS.values()


def test_unknown_nation_code_is_a_problem():
    card = make_card({**RESIDENT, "nation": "77"})
    assert card.nation == "" and card.problems == ("unknown nation code '77'",)


def test_hk_mo_tw_permit():
    card = make_card({**RESIDENT, "nation": "", "id_number": "810000199003071237", "pass_number": "H12345678",
                      "issue_count": "01", "address": "广东省深圳市福田区"}, CardKind.HK_MO_TW)
    assert card.kind is CardKind.HK_MO_TW and card.nation == "" and card.problems == ()
    assert (card.pass_number, card.issue_count, card.id_number_valid) == ("H12345678", "01", True)
    assert card.to_json()["pass_number"] == "H123*5678"
    assert card.to_json()["kind"] == "hk_mo_tw"


def test_foreigner_permanent_residence_card_2017():
    card = make_card({"english_name": "SMITH, JOHN", "sex": "1", "id_number": "USA110090010001",
                      "nationality": "USA", "name": "史密斯", "valid_from": "20200101", "valid_to": "20300101",
                      "birth": "19900101", "card_version": "02", "authority": "1500"}, CardKind.FOREIGNER)
    assert (card.kind, card.name, card.english_name, card.nationality) == (
        CardKind.FOREIGNER, "史密斯", "SMITH, JOHN", "USA")
    assert card.id_number_valid is None and card.address == "" and card.nation == ""
    assert card.birth_date == date(1990, 1, 1) and card.valid_to == date(2030, 1, 1)
    assert card.text_raw[248:250] == "I".encode("utf-16-le")


def test_unsupported_card_flag_and_malformed_dates_are_errors():
    block = bytearray(encode_text(RESIDENT))
    block[248:250] = "Y".encode("utf-16-le")  # the 2023 foreigner card: layout not known here
    with pytest.raises(CardDataError):
        parse_card(bytes(block), b"")
    with pytest.raises(CardDataError, match="not a date"):
        make_card({**RESIDENT, "valid_to": "20401301"})


def test_rare_characters_survive_and_broken_ones_do_not_crash():
    assert make_card({**RESIDENT, "name": "王𠀀"}).name == "王𠀀"  # outside the BMP: a surrogate pair
    block = bytearray(encode_text(RESIDENT))
    block[2:4] = b"\x00\xd8"  # a lone high surrogate
    card = parse_card(bytes(block), b"")
    assert card.name == "张\ufffd" and card.text_raw == bytes(block)


def test_repr_masks_personal_data():
    card = demo_card()
    assert "320102199003071239" not in repr(card) and "张三" not in repr(card)
    assert card.masked_id == "3201**********1239"


# --- the driver against the simulator on a real pty ------------------------------------------------

@pytest.fixture
def sim() -> Iterator[SimulatedReader]:
    with SimulatedReader(demo_card(), seed=7) as s:
        yield s


@pytest.fixture
def reader(sim) -> Iterator[SerialIdCardReader]:
    r = SerialIdCardReader(sim.port, debounce=0, **FAST)
    yield r
    r.close()


def _commands(sim):
    return [(r.cmd, r.para) for r in sim.requests]


def test_full_read_through_the_pty(sim, reader):
    kiosk_side: IdCardReader = reader  # what the kiosk agent programs against
    card = kiosk_side.read_card(timeout=2)
    assert card is not None and card == demo_card()
    assert card.photo_wlt == demo_card().photo_wlt and len(card.photo_wlt) == 1024
    assert reader.baudrate == 115200
    assert _commands(sim) == [(0x11, 0xFF), (0x20, 0x01), (0x20, 0x02), (0x30, 0x01)]


def test_no_card_is_none_not_an_error(sim, reader):
    sim.remove()
    started = time.monotonic()
    assert reader.read_card(timeout=0.3) is None
    assert time.monotonic() - started < 0.8
    assert set(_commands(sim)[1:]) == {(0x20, 0x01)}  # only find-card, polled


def test_card_placed_while_polling_is_read(sim, reader):
    sim.remove()
    reader.open()
    timer = threading.Timer(0.2, sim.place, args=(demo_card(),))
    timer.start()
    try:
        assert reader.read_card(timeout=2) == demo_card()
    finally:
        timer.cancel()


def test_corrupted_reply_is_retried_and_the_right_card_returned(sim, reader):
    sim.faults.corrupt, sim.faults.corrupt_command = 1, 0x30  # flips a byte of the name
    card = reader.read_card(timeout=2)
    assert card is not None and card.name == "张三"
    assert _commands(sim).count((0x30, 0x01)) == 2


def test_always_corrupted_reply_is_an_error_never_wrong_data(sim, reader):
    sim.faults.corrupt, sim.faults.corrupt_command = -1, 0x30
    with pytest.raises(FrameError) as e:
        reader.read_card(timeout=2)
    assert e.value.code == "frame_error" and "3 attempts" in str(e.value)
    assert _commands(sim).count((0x30, 0x01)) == 3


def test_split_frames(sim, reader):
    sim.faults.split = True
    assert reader.read_card(timeout=3) == demo_card()


def test_garbage_before_the_preamble(sim, reader):
    sim.faults.garbage = b"\x00\x13\xaa\xaa\x96" + p.PREAMBLE + b"\x00\x05\x01"
    sim.faults.split = True
    assert reader.read_card(timeout=3) == demo_card()


def test_leftover_of_an_earlier_frame_is_skipped(sim, reader):
    # A bridge delivering the cut-off start of a previous 1,295-byte reply before the real one.
    leftover = p.response(p.OK, p.base_message_data(demo_card().text_raw, demo_card().photo_wlt))[:100]
    reader.open()
    sim.faults.garbage = leftover
    assert reader.read_card(timeout=3) == demo_card()


STATUS_CASES = [(sw3, (0x30, 0x01)) for sw3 in p.STATUS if sw3 not in (0x80, 0x81)] + [
    (0x81, (0x20, 0x02)), (0x80, (0x20, 0x02)), (0x55, (0x30, 0x01))]


@pytest.mark.parametrize(("sw3", "where"), STATUS_CASES, ids=[f"{s:02X}@{c:02X}{a:02X}" for s, (c, a) in STATUS_CASES])
def test_each_reader_status_gives_its_error(sim, reader, sw3, where):
    reader.open()
    sim.faults.status = {where: sw3}
    with pytest.raises(ReaderStatusError) as e:
        reader.read_card(timeout=1)
    code, cls, zh, en = p.STATUS.get(sw3, ("unknown_status", ReaderStatusError, "读卡器返回未知状态", "unknown"))
    assert type(e.value) is cls and e.value.code == code and e.value.sw3 == sw3
    assert zh in str(e.value) and en in str(e.value) and f"SW3=0x{sw3:02X}" in str(e.value)
    assert e.value.to_json() == {"code": code, "message": str(e.value), "sw3": f"0x{sw3:02X}"}
    assert isinstance(e.value, DeviceError)


@pytest.mark.parametrize(("sw3", "cls", "code"), [
    (0x41, CardReadFailed, "read_failed"), (0x31, AuthenticationFailed, "card_rejected_sam"),
    (0x32, AuthenticationFailed, "sam_rejected_card"), (0x60, SamFailure, "sam_self_test_failed"),
    (0x10, SamRejectedCommand, "sam_checksum_error"),
])
def test_status_classes(sw3, cls, code):
    error = p.status_error(sw3, "read")
    assert isinstance(error, cls) and error.code == code


def test_find_no_card_status_is_none(sim, reader):
    sim.faults.status = {(0x20, 0x01): 0x80}  # a card lies there but the SAM says no card (§1.4 note)
    assert reader.read_card(timeout=0.3) is None


def test_sam_self_test_failure_at_open(sim, reader):
    sim.faults.status = {(0x11, 0xFF): 0x60}
    with pytest.raises(SamFailure, match="自检失败") as e:
        reader.read_card(timeout=1)
    assert e.value.code == "sam_self_test_failed"


def test_sam_checksum_complaint_is_retried_then_reported(sim, reader):
    reader.open()
    sim.faults.status = {(0x30, 0x01): 0x10}
    with pytest.raises(SamRejectedCommand):
        reader.read_card(timeout=1)
    assert _commands(sim).count((0x30, 0x01)) == 3


def test_silent_reader_times_out_within_the_timeout(sim, reader):
    reader.open()
    sim.faults.silent = True
    started = time.monotonic()
    with pytest.raises(ReaderTimeout) as e:
        reader.read_card(timeout=0.4)
    assert time.monotonic() - started < 0.4 + 0.3
    assert e.value.code == "reader_timeout" and "无应答" in str(e.value)


def test_silent_reader_fails_the_baud_probe(sim):
    sim.faults.silent = True
    started = time.monotonic()
    reader = SerialIdCardReader(sim.port, **FAST)
    with pytest.raises(ReaderTimeout, match="115200/9600/57600/38400/19200"):
        reader.read_card(timeout=0.2)
    assert time.monotonic() - started < 5 * FAST["probe_timeout"] + 0.5


def test_missing_port_is_reader_unavailable():
    with pytest.raises(ReaderUnavailable) as e:
        SerialIdCardReader("/dev/does-not-exist-idcard").read_card(timeout=0.1)
    assert isinstance(e.value, IdCardError) and e.value.code == "reader_unavailable"


# Baud fallback: a pty moves bytes at any rate, so the simulator reads the rate the driver set
# (termios on the pty) and drops frames sent at another one, as a UART at the wrong rate would.
@pytest.mark.parametrize("rate", [9600, 19200])
def test_baud_fallback(rate):
    with SimulatedReader(demo_card(), baudrate=rate) as sim, SerialIdCardReader(sim.port, **FAST) as r:
        assert r.baudrate == rate and sim.current_baudrate() == rate
        assert sim.ignored >= 1
        assert r.read_card(timeout=2) == demo_card()


def test_fixed_baud_that_does_not_match_times_out():
    with SimulatedReader(demo_card(), baudrate=9600) as sim:
        reader = SerialIdCardReader(sim.port, baudrate=115200, **FAST)
        with pytest.raises(ReaderTimeout):
            reader.read_card(timeout=0.3)


def test_same_card_twice_within_the_window_acts_once(sim):
    now = [1000.0]
    other = make_card({**RESIDENT, "name": "李四", "id_number": "11010519491231002X", "birth": "19491231"})
    with SerialIdCardReader(sim.port, debounce=5, clock=lambda: now[0], **FAST) as reader:
        assert reader.read_card(timeout=1) == demo_card()
        assert reader.read_card(timeout=0.2) is None  # still lying there
        sim.remove()
        assert reader.read_card(timeout=0.1) is None
        sim.place(demo_card())  # lifted and put back within 5 s
        now[0] += 3
        assert reader.read_card(timeout=0.2) is None
        sim.place(other)  # another person's card acts at once
        assert reader.read_card(timeout=1) == other
        sim.place(demo_card())
        now[0] += 5.5  # 5.5 s after the last read of the first card
        assert reader.read_card(timeout=1) == demo_card()


# --- govhall hw idcard ----------------------------------------------------------------------------

def test_cli_sim_masks_by_default():
    result = CliRunner().invoke(idcard_cli, ["--port", "sim", "--timeout", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1
    out = json.loads(result.output)
    assert out["id_number"] == "3201**********1239"
    assert {k: out[k] for k in ("name", "sex", "nation", "birth_date", "valid_to", "kind", "photo_bytes")} == {
        "name": "张三", "sex": "男", "nation": "汉族", "birth_date": "1990-03-07", "valid_to": "2040-01-01",
        "kind": "resident", "photo_bytes": 1024}
    assert out["address"].startswith("江苏省南京市") and out["authority"] == "南京市公安局玄武分局"


def test_cli_show_id():
    result = CliRunner().invoke(idcard_cli, ["--port", "sim", "--show-id"])
    assert result.exit_code == 0
    assert json.loads(result.output)["id_number"] == "320102199003071239"


def test_cli_failure_is_json_and_nonzero():
    result = CliRunner().invoke(idcard_cli, ["--port", "/dev/does-not-exist-idcard"])
    assert result.exit_code == 1
    assert json.loads(result.output)["error"]["code"] == "reader_unavailable"
