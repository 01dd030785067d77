"""`govhall kiosk`: the agent on each self-service terminal.

It serves the touch UI to the local Chromium (kiosk mode), drives the devices, and talks to the
server with the terminal's device token. Personal data stays out of the browser: a scanned code or
a read ID card goes from the agent straight to the server's /identify, and the UI only receives
the masked name, the priority and a short-lived identity token. Device and network faults are
shown to the citizen in plain words, never crash the agent, and are logged for the technician in
`<instance>/kiosk-faults.log` (one JSON object a line).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, redirect, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from .devices import Devices
from .printing import register_printing
from .server_client import ServerClient

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parent.parent
IDLE_SECONDS = 90  # the UI wipes what a citizen entered after this long without a touch
PROXIED = ("GET", "POST", "PUT")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LANES = {"elderly": "老年人优先", "disabled": "残疾人优先", "appointment": "预约优先"}  # printed, in Chinese


@dataclass
class AgentConfig:
    server: str
    token: str
    instance: Path
    paper: int = 80
    idle_seconds: int = IDLE_SECONDS


class Hub:
    """Events for the UI (Server-Sent Events): identified, device state, scanned booking codes."""

    def __init__(self) -> None:
        self._subscribers: list[queue.SimpleQueue[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def subscribe(self) -> queue.SimpleQueue[dict[str, Any]]:
        q: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        with self._lock:
            self._subscribers.append(q)
        return q

    def unsubscribe(self, q: queue.SimpleQueue[dict[str, Any]]) -> None:
        with self._lock:
            if q in self._subscribers:
                self._subscribers.remove(q)

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            for q in self._subscribers:
                q.put(event)


class Agent:
    def __init__(self, config: AgentConfig, devices: Devices) -> None:
        self.config = config
        self.devices = devices
        self.server = ServerClient(config.server, config.token)
        self.hub = Hub()
        self.faults_path = config.instance / "kiosk-faults.log"
        self.device_state: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()

    # --- faults and device state -------------------------------------------------------------

    def fault(self, device: str, code: str, message: str, detail: str = "") -> None:
        """Log a fault for the technician and tell the UI which way of identifying is down."""
        entry = {"at": datetime.now(UTC).isoformat(), "device": device, "code": code,
                 "message": message, "detail": detail}
        try:
            self.config.instance.mkdir(parents=True, exist_ok=True)
            with self.faults_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
        except OSError:
            log.exception("cannot write the fault log")
        log.warning("device fault %s %s: %s %s", device, code, message, detail)
        self._set_state(device, False, message)

    def _set_state(self, device: str, ok: bool, message: str = "") -> None:
        before = self.device_state.get(device, {}).get("ok")
        self.device_state[device] = {"ok": ok, "message": message}
        if before != ok:
            self.hub.publish({"type": "device", "device": device, "ok": ok, "message": message})

    # --- identification ------------------------------------------------------------------------

    def identify(self, body: dict[str, Any], how: str, card: dict[str, str] | None = None) -> None:
        """Verify on the server; the UI gets the masked name, the token and, from an ID card that
        the server accepted, the card's text fields for the form (never the ID number in clear)."""
        reply = self.server.request("POST", "/identify", body)
        if reply.status == 200:
            ident = reply.body
            event = {"type": "identified", "via": how, "masked_name": ident["masked_name"],
                     "masked_id": ident["masked_id"], "priority": ident["priority"],
                     "age": ident["age"], "identity_token": ident["identity_token"]}
            if card:
                event["card"] = card
            self.hub.publish(event)
            return
        error = (reply.body or {}).get("error", {}) if isinstance(reply.body, dict) else {}
        if reply.status == 503 and error.get("code") == "server_unreachable":  # not sfm_unavailable
            self.fault("server", "server_unreachable", error.get("message", ""))
        self.hub.publish({"type": "identify_failed", "via": how,
                          "code": error.get("code", "error"),
                          "message": error.get("message", "身份核验失败，请重试或联系工作人员")})

    def qr_loop(self) -> None:
        source = self.devices.qr
        if source is None:
            return
        self._set_state("qr", True)
        while not self._stop.is_set():
            text = source.read(0.5)
            error = getattr(source, "error", None)
            if error is not None:
                self.fault("qr", getattr(error, "code", "camera_unavailable"),
                           "扫码器暂不可用，请使用身份证或联系工作人员", str(error))
            elif self.device_state.get("qr", {}).get("ok") is False:
                self._set_state("qr", True)
            if not text:
                continue
            if text.startswith("GH1:"):
                self.identify({"kind": "sfm", "code": text}, "sfm")
            else:  # a booking code or another code the UI may know
                self.hub.publish({"type": "qr", "text": text[:200]})

    def card_loop(self) -> None:
        reader = self.devices.idcard
        if reader is None:
            return
        from hardware.idcard import IdCardError

        self._set_state("idcard", True)
        while not self._stop.is_set():
            try:
                card = reader.read_card(1.0)
            except IdCardError as e:
                self.fault("idcard", e.code, "身份证读卡器暂不可用，请扫码或联系工作人员", str(e))
                time.sleep(2.0)
                continue
            except Exception as e:  # a driver bug must not kill the loop
                # the type only: an unexpected driver error could carry card fields
                self.fault("idcard", "device_error", "身份证读卡器暂不可用，请扫码或联系工作人员",
                           type(e).__name__)
                time.sleep(2.0)
                continue
            if self.device_state.get("idcard", {}).get("ok") is False:
                self._set_state("idcard", True)
            if card is None:
                continue
            self.identify({"kind": "idcard", "card": {
                "name": card.name, "id_number": card.id_number,
                "birth_date": card.birth_date.strftime("%Y%m%d"), "sex": card.sex}}, "idcard",
                card=form_fields(card))

    def start(self) -> None:
        for loop in (self.qr_loop, self.card_loop):
            threading.Thread(target=loop, daemon=True, name=loop.__name__).start()

    def stop(self) -> None:
        self._stop.set()
        self.devices.close()

    # --- printing ---------------------------------------------------------------------------

    def print_ticket(self, ticket: dict[str, Any], hall_name: str) -> dict[str, Any]:
        """Print a ticket; when the printer cannot, say so — the ticket stays valid on screen."""
        from hardware.printer import PrinterError, ticket_layout

        printer = self.devices.printer
        if printer is None:
            return {"printed": False, "message": "本机未连接打印机，请拍下屏幕上的号码和二维码"}
        status = printer.status()
        if not status.can_print:
            self.fault("printer", status.state.value, status.message, status.detail or "")
            return {"printed": False, "status": status.state.value,
                    "message": f"{status.message}。号票已生效，请拍下屏幕上的号码和二维码"}
        try:
            printer.print_document(ticket_layout(
                printer.paper, hall=hall_name, bundle=ticket["bundle_name"], number=ticket["number"],
                people_ahead=ticket.get("people_ahead") or 0, wait_min=ticket.get("wait_min"),
                taken_at=datetime.fromisoformat(ticket["taken_at"]),
                track_url=f"{self.config.server.rstrip('/')}/t/{ticket['track_token']}",
                lane=LANES.get(str(ticket.get("priority"))), wait_range=_range(ticket.get("wait_range"))))
        except PrinterError as e:
            self.fault("printer", e.code, "打印失败", str(e))
            return {"printed": False, "message": "打印失败，号票已生效，请拍下屏幕上的号码和二维码"}
        self._set_state("printer", True)
        return {"printed": True, "status": status.state.value, "message": status.message}


def form_fields(card: Any) -> dict[str, str]:
    """What the card gives the merged form, for this transaction's page only (the UI wipes it)."""
    return {"name": card.name, "sex": card.sex, "nation": card.nation,
            "birth_date": card.birth_date.isoformat(), "address": card.address}


def create_agent_app(agent: Agent) -> Flask:
    app = Flask("govhall-kiosk", static_folder=str(ROOT / "assets" / "web"), static_url_path="/static",
                template_folder=str(ROOT / "kiosk" / "templates"))
    app.jinja_loader.searchpath.append(str(ROOT / "queue_server" / "templates"))  # type: ignore[union-attr]
    app.config["JSON_AS_ASCII"] = False

    @app.before_request
    def _only_this_terminal() -> ResponseReturnValue | None:
        # The agent holds the device token and sees citizens' identity tokens: answer only pages
        # served from this machine under its own name, so a web page elsewhere cannot reach it
        # through DNS rebinding (its requests would carry a foreign Host header).
        host = (request.host or "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in LOCAL_HOSTS:
            return {"error": {"code": "forbidden", "message": "only the terminal's own browser"}}, 403
        return None

    @app.get("/")
    def home() -> ResponseReturnValue:
        return redirect("/kiosk/")

    @app.get("/kiosk/")
    def kiosk_page() -> ResponseReturnValue:
        return render_template("kiosk.html", version="agent", agent=True,
                               idle_seconds=agent.config.idle_seconds)

    @app.route("/agent/api/<path:path>", methods=PROXIED)
    def proxy(path: str) -> ResponseReturnValue:
        """The server's API with this terminal's device token added."""
        headers = {k: v for k, v in request.headers.items() if k in ("Idempotency-Key", "X-Identity-Token")}
        body = request.get_json(silent=True) if request.method != "GET" else None
        reply = agent.server.request(request.method, f"/{path}", body, headers,
                                     request.query_string.decode())
        if reply.status == 503 and isinstance(reply.body, dict) and \
                reply.body.get("error", {}).get("code") == "server_unreachable":
            agent.fault("server", "server_unreachable", "服务器无法连接", agent.config.server)
        return Response(json.dumps(reply.body, ensure_ascii=False), status=reply.status,
                        mimetype="application/json")

    @app.get("/agent/events")
    def events() -> ResponseReturnValue:
        q = agent.hub.subscribe()

        def stream() -> Iterator[str]:
            try:
                yield f"data: {json.dumps({'type': 'hello', 'devices': agent.device_state})}\n\n"
                while True:
                    try:
                        event = q.get(timeout=15)
                    except queue.Empty:
                        yield ": keep-alive\n\n"
                        continue
                    yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
            finally:
                agent.hub.unsubscribe(q)

        return Response(stream_with_context(stream()), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/agent/print/ticket")
    def print_ticket() -> ResponseReturnValue:
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("ticket"), dict):
            return {"error": {"code": "bad_request", "message": "需要号票信息"}}, 400
        ticket = data["ticket"]
        missing = [k for k in ("number", "bundle_name", "track_token", "taken_at") if not ticket.get(k)]
        if missing:
            return {"error": {"code": "bad_request", "message": f"号票缺少 {', '.join(missing)}"}}, 400
        return agent.print_ticket(ticket, str(data.get("hall_name") or "政务服务中心"))

    @app.get("/agent/status")
    def status() -> ResponseReturnValue:
        printer = agent.devices.printer
        state = printer.status().state.value if printer is not None else "none"
        return {"server": agent.config.server.rstrip("/"), "server_reachable": agent.server.reachable,
                "devices": agent.device_state, "printer": state}

    @app.get("/agent/qr.png")
    def qr_png() -> ResponseReturnValue:
        """A QR of a tracking or progress URL on this hall's server (for the citizen to photograph)."""
        import io

        import segno

        data = request.args.get("data", "")
        if not data.startswith(agent.config.server.rstrip("/") + "/") or len(data) > 300:
            return {"error": {"code": "bad_request", "message": "只能生成本大厅服务器的链接二维码"}}, 400
        buf = io.BytesIO()
        segno.make(data, error="m").save(buf, kind="png", scale=8, border=2)
        return Response(buf.getvalue(), mimetype="image/png", headers={"Cache-Control": "no-store"})

    @app.get("/agent/voice.wav")
    def voice_wav() -> ResponseReturnValue:
        """A spoken prompt for 长辈模式 (espeak-ng, offline, cached); 503 when no voice is installed."""
        from display.voice import Voice, VoiceUnavailable

        text = request.args.get("text", "").strip()
        if not text or len(text) > 60:
            return {"error": {"code": "bad_request", "message": "提示语应为1至60个字"}}, 400
        try:
            wav = Voice(agent.config.instance / "audio").prompt_wav(text)
        except (VoiceUnavailable, ValueError) as e:
            return {"error": {"code": "voice_unavailable", "message": str(e)}}, 503
        return Response(wav, mimetype="audio/wav", headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/static/vendor/<name>")
    def vendor(name: str) -> ResponseReturnValue:
        """The server's allow-list of npm browser files (display/pages.py), served offline here too."""
        from flask import send_from_directory

        from display.pages import VENDOR

        folder = VENDOR.get(name)
        if folder is None:
            return {"error": {"code": "not_found", "message": "没有该文件"}}, 404
        return send_from_directory(folder, name, max_age=3600)

    register_printing(app, agent)

    @app.get("/agent/ready")
    def ready() -> ResponseReturnValue:
        return {"ready": True}

    @app.post("/agent/sim/scan")
    def sim_scan() -> ResponseReturnValue:
        """Simulated devices only: put a scanned text in front of the QR source."""
        if agent.devices.qr_sim is None:
            return {"error": {"code": "not_simulated", "message": "no simulated QR source"}}, 404
        text = str((request.get_json(silent=True) or {}).get("text", ""))[:400]
        agent.devices.qr_sim.codes.put(text)
        return {"ok": True}

    @app.post("/agent/sim/card")
    def sim_card() -> ResponseReturnValue:
        """Simulated devices only: place a sample ID card on the simulated reader."""
        sim = agent.devices.card_sim
        if sim is None:
            return {"error": {"code": "not_simulated", "message": "no simulated ID card reader"}}, 404
        from hardware.idcard import demo_card, make_card

        who = (request.get_json(silent=True) or {}).get("who", "adult")
        card = demo_card() if who != "elderly" else make_card({
            "name": "王建国", "sex": "2", "nation": "01", "birth": "19491231",
            "address": "北京市朝阳区示例路1号", "id_number": "11010519491231002X",
            "authority": "北京市公安局朝阳分局", "valid_from": "20150101", "valid_to": "长期"})
        sim.remove()
        if agent.devices.idcard is not None:
            agent.devices.idcard.debounce.clear()
        sim.place(card)
        return {"ok": True}

    return app


def run_agent(config: AgentConfig, devices: Devices, host: str, port: int) -> None:
    from werkzeug.serving import make_server

    agent = Agent(config, devices)
    agent.start()
    app = create_agent_app(agent)
    server = make_server(host, port, app, threaded=True)
    log.info("kiosk agent on http://%s:%s/kiosk/ (server %s)", host, port, config.server)
    try:
        server.serve_forever()
    finally:
        agent.stop()


def _range(value: object) -> tuple[int, int] | None:
    """The server's quoted wait range ({lo, hi}) as printed; None when absent or malformed."""
    if isinstance(value, dict) and isinstance(value.get("lo"), int) and isinstance(value.get("hi"), int):
        return value["lo"], value["hi"]
    return None
