"""A small fake of Alibaba Cloud SMS's HTTP API (`SendSms`, RPC style) for tests: the app's
backend sends its signed GET here (ALIYUN_SMS_ENDPOINT) and the fake checks it as Alibaba does —
the HMAC-SHA1 signature computed here independently of the app's code, the access key, a fresh
timestamp, a nonce never seen before — then answers OK, or the next scripted error code.
"""

import base64
import hashlib
import hmac
import itertools
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

ACCESS_KEY_ID = "LTAI-test-key"
ACCESS_KEY_SECRET = "test-secret-for-the-fake"  # noqa: S105 - test-only
SIGN_NAME = "协会通"
TEMPLATES = {"sign_in_code": "SMS_100000001", "staff_use_password": "SMS_100000002"}


def environ(url: str) -> dict[str, str]:
    """The environment an app needs to send to this fake."""
    return {
        "ALIYUN_SMS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": SIGN_NAME,
        "ALIYUN_SMS_ENDPOINT": url,
        **{f"ALIYUN_SMS_TEMPLATE_{name.upper()}": code for name, code in TEMPLATES.items()},
    }


def _encode(value: str) -> str:
    # As Alibaba's own documentation writes it, not as the app does.
    encoded = urllib.parse.quote_plus(value.encode("utf-8"))
    return encoded.replace("+", "%20").replace("*", "%2A").replace("%7E", "~")


def expected_signature(params: dict[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "Signature")
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
    to_sign = "GET&%2F&" + _encode(canonical)
    digest = hmac.new((ACCESS_KEY_SECRET + "&").encode(), to_sign.encode(), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode()


@dataclass
class FakeAliyunSms:
    url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)  # accepted messages
    refused: list[str] = field(default_factory=list)  # codes answered
    script: list[str] = field(default_factory=list)  # next answers' codes, then "OK"
    nonces: set[str] = field(default_factory=set)
    connections: set[tuple] = field(default_factory=set)  # client (host, port) seen
    _ids = itertools.count(1)

    def sent_with(self, out_id: str) -> list[dict[str, str]]:
        return [params for params in self.received if params.get("OutId") == out_id]

    def answer(self, params: dict[str, str]) -> tuple[int, dict]:
        if params.get("AccessKeyId") != ACCESS_KEY_ID:
            return self._error(404, "InvalidAccessKeyId.NotFound")
        if not hmac.compare_digest(params.get("Signature", ""), expected_signature(params)):
            return self._error(400, "SignatureDoesNotMatch")
        stamp = datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if abs((datetime.now(UTC) - stamp).total_seconds()) > 900:
            return self._error(400, "InvalidTimeStamp.Expired")
        if params["SignatureNonce"] in self.nonces:
            return self._error(400, "SignatureNonceUsed")
        self.nonces.add(params["SignatureNonce"])
        if params.get("SignName") != SIGN_NAME:
            return self._error(200, "isv.SMS_SIGNATURE_ILLEGAL")
        if params.get("TemplateCode") not in TEMPLATES.values():
            return self._error(200, "isv.SMS_TEMPLATE_ILLEGAL")
        json.loads(params["TemplateParam"])  # must be JSON
        if self.script:
            code = self.script.pop(0)
            if code != "OK":
                return self._error(503 if code.startswith("HTTP") else 200, code)
        self.received.append(params)
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": f"{next(self._ids)}^0",
            "RequestId": "fake",
        }

    def _error(self, status: int, code: str) -> tuple[int, dict]:
        self.refused.append(code)
        return status, {"Code": code, "Message": code, "RequestId": "fake"}


def start_fake_aliyun() -> tuple[FakeAliyunSms, ThreadingHTTPServer]:
    fake = FakeAliyunSms()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API: the client reuses it
        # The headers and the body leave in two writes: with Nagle's algorithm the second
        # waits for the client's delayed ACK (40 ms a request on a kept-open connection).
        disable_nagle_algorithm = True

        def do_GET(self):  # noqa: N802 - the http.server API
            fake.connections.add(self.client_address)
            params = dict(parse_qsl(urlsplit(self.path).query, keep_blank_values=True))
            status, body = fake.answer(params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


@pytest.fixture
def fake_aliyun():
    fake, server = start_fake_aliyun()
    yield fake
    server.shutdown()
    server.server_close()
