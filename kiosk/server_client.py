"""The kiosk agent's line to the server: the device token stays here, never in the browser.

Requests that are safe to repeat (GET, and POSTs carrying an Idempotency-Key) are retried on a
network failure, so a retried take-a-number never makes two tickets; when the server stays
unreachable the caller gets a `server_unreachable` refusal a citizen can read.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
UNREACHABLE = {"error": {"code": "server_unreachable",
                         "message": "网络连接中断，请稍后再试或联系工作人员"}}
RETRY_DELAYS = (0.3, 1.0, 2.0)


@dataclass
class Reply:
    status: int
    body: Any


class ServerClient:
    def __init__(self, base_url: str, token: str, timeout: float = 8.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the server URL must start with http:// or https://")
        self.base = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.reachable = True

    def request(self, method: str, path: str, body: Any = None,
                headers: dict[str, str] | None = None, query: str = "") -> Reply:
        """Call /api/v1`path`; retried on network failure when repeating it is safe."""
        url = f"{self.base}/api/v1{path}" + (f"?{query}" if query else "")
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                **(headers or {})}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        repeatable = method == "GET" or "Idempotency-Key" in sent
        delays = RETRY_DELAYS if repeatable else ()
        for attempt in range(len(delays) + 1):
            try:
                req = urllib.request.Request(url, data=data, method=method, headers=sent)  # noqa: S310 - http(s) only
                with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310
                    self.reachable = True
                    return Reply(r.status, _json(r.read()))
            except urllib.error.HTTPError as e:
                self.reachable = True
                return Reply(e.code, _json(e.read()))
            except (urllib.error.URLError, OSError) as e:
                log.warning("server %s unreachable (%s), attempt %d", self.base, e, attempt + 1)
                if attempt < len(delays):
                    time.sleep(delays[attempt])
        self.reachable = False
        return Reply(503, UNREACHABLE)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return {"error": {"code": "bad_reply", "message": "服务器应答异常，请稍后再试"}}
