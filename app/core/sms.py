"""The SMS channel's backends: console (development), memory (tests) and Alibaba Cloud SMS.

A backend has one method, `send(request) -> provider message id`, and answers failures with
one of three exceptions, because what the outbox may do next depends on them:
`SmsRetryLater` (the provider answered and did not take the message: throttling, its own
outage — safe to send again later), `SmsRejected` (it never will: bad number, unknown template)
and `SmsUncertain` (the request left and no answer came back: it may have been delivered, so it
is never sent again automatically — "never twice" wins over "always").

Alibaba Cloud SMS is called over its plain HTTP API (`SendSms`, RPC style, signature version 1.0)
with `requests`, not with the `alibabacloud_dysmsapi20170525` SDK: the SDK brings the Tea /
Darabonba runtime (about a dozen packages and an HTTP client of its own) for one GET request
whose signing is twenty lines below; those twenty lines are easy to read, and to test against
a local fake of the API, which the SDK's own client would make harder to point elsewhere.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import requests
from flask import current_app

from app.core.clock import utcnow


@dataclass(frozen=True)
class SmsRequest:
    phone: str
    template: str  # our name of the template, e.g. "sign_in_code"
    params: dict[str, str]
    reference: str  # the outbox's idempotency key, sent as Alibaba's OutId
    text: str = ""  # the message as the console shows it


class SmsError(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class SmsRetryLater(SmsError):
    """Not taken (throttled, provider outage): send again after a pause."""


class SmsRejected(SmsError):
    """Refused for good (invalid number, unknown template or sign name)."""


class SmsUncertain(SmsError):
    """No answer: it may have gone out, so it is not sent again automatically."""


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


class ConsoleSmsBackend:
    def send(self, request: SmsRequest) -> str:
        print(
            f"\n--- sms to {mask_phone(request.phone)} ({request.template}): {request.text}\n---",
            file=sys.stderr,
        )
        return f"console-{request.reference}"


@dataclass
class MemorySmsBackend:
    outbox: list[SmsRequest] = field(default_factory=list)

    def send(self, request: SmsRequest) -> str:
        self.outbox.append(request)
        return f"memory-{len(self.outbox)}"


def percent_encode(value: str) -> str:
    """Alibaba's encoding: RFC 3986 unreserved characters stay, everything else is %XX of its
    UTF-8 bytes (so a space is %20, never +; '*' is %2A; '~' stays)."""
    return quote(value, safe="~")


def rpc_signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """HMAC-SHA1 over METHOD&%2F&encode(sorted, encoded query), keyed with secret + '&'."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params)
    )
    to_sign = f"{method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Answers that mean "not now" (Alibaba's error codes); any other non-OK code is a rejection.
RETRY_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "Throttling.User",
        "Throttling",
        "isp.SYSTEM_ERROR",
        "ServiceUnavailable",
        "InternalError",
    }
)


class AliyunSmsBackend:
    """Alibaba Cloud SMS (阿里云短信服务). Keys and names from the environment:
    ALIYUN_SMS_ACCESS_KEY_ID, ALIYUN_SMS_ACCESS_KEY_SECRET, ALIYUN_SMS_SIGN_NAME (the approved
    签名), ALIYUN_SMS_TEMPLATE_<NAME> per template (e.g. ALIYUN_SMS_TEMPLATE_SIGN_IN_CODE =
    SMS_123456789) and ALIYUN_SMS_ENDPOINT (a fake in tests)."""

    def __init__(self, environ=None, *, timeout: float = 10.0) -> None:
        environ = os.environ if environ is None else environ
        self.access_key_id = environ["ALIYUN_SMS_ACCESS_KEY_ID"]
        self.access_key_secret = environ["ALIYUN_SMS_ACCESS_KEY_SECRET"]
        self.sign_name = environ["ALIYUN_SMS_SIGN_NAME"]
        self.endpoint = environ.get("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
        self.templates = {
            key.removeprefix("ALIYUN_SMS_TEMPLATE_").lower(): value
            for key, value in environ.items()
            if key.startswith("ALIYUN_SMS_TEMPLATE_")
        }
        self.timeout = timeout
        self._local = threading.local()

    def http(self) -> requests.Session:
        """This thread's HTTP session: its connection to the provider is kept open and reused
        (a worker's batch costs one TLS handshake, not one per message); one per thread,
        because a requests Session is not meant to be shared between threads."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def signed_query(self, request: SmsRequest, *, now: datetime | None = None) -> dict[str, str]:
        template_code = self.templates.get(request.template)
        if template_code is None:
            raise SmsRejected("template", f"no ALIYUN_SMS_TEMPLATE_{request.template.upper()}")
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": request.reference,
            "PhoneNumbers": request.phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template_code,
            "TemplateParam": json.dumps(request.params, ensure_ascii=False, sort_keys=True),
            "Timestamp": (now or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = rpc_signature(params, self.access_key_secret)
        return params

    def send(self, request: SmsRequest) -> str:
        query = self.signed_query(request)
        try:
            response = self.http().get(self.endpoint, params=query, timeout=self.timeout)
        except requests.ConnectTimeout as error:
            raise SmsRetryLater("connect_timeout") from error
        except requests.Timeout as error:
            # The request left and no answer came: the provider may have taken it.
            raise SmsUncertain("timeout") from error
        except requests.ConnectionError as error:
            if "NewConnectionError" in repr(error):  # refused before anything was sent
                raise SmsRetryLater("connection") from error
            raise SmsUncertain("connection_lost") from error
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        code = str(answer.get("Code") or f"HTTP{response.status_code}")
        if response.status_code == 200 and code == "OK":
            return str(answer.get("BizId", ""))
        if code in RETRY_CODES or response.status_code >= 500 or response.status_code == 429:
            raise SmsRetryLater(code, str(answer.get("Message", "")))
        raise SmsRejected(code, str(answer.get("Message", "")))


BACKENDS = {"console": ConsoleSmsBackend, "memory": MemorySmsBackend, "aliyun": AliyunSmsBackend}


def sms_backend():
    """The app's SMS backend: SMS_BACKEND (config or environment), else the same kind as the
    e-mail backend (so tests get the memory backend and development the console)."""
    backend = current_app.extensions.get("sms")
    if backend is None:
        name = (
            current_app.config.get("SMS_BACKEND")
            or os.environ.get("SMS_BACKEND")
            or current_app.config["NOTIFICATION_BACKEND"]
        )
        backend = current_app.extensions["sms"] = BACKENDS[name]()
    return backend
