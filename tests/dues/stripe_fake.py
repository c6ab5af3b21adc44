"""A small fake of Stripe's HTTP API for tests: the real stripe library builds and sends its
requests here (STRIPE_API_BASE), and tests assert what arrived — path, headers, parameters.

Only the endpoints the app calls are served: accounts, account links, Checkout Sessions and
payment intents (retrieve and list). Webhook payloads are built and signed by `signed_event`.
"""

import hashlib
import hmac
import html
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import db
from app.members.models import Member

WEBHOOK_SECRET = "whsec_test_secret_for_the_fake"  # noqa: S105 - test-only


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]  # flattened form keys as Stripe encodes them, e.g. "metadata[charge_id]"


@dataclass
class FakeStripe:
    url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    accounts: dict[str, dict] = field(default_factory=dict)
    # Payment intents per connected account: {"acct_…": [payment_intent dict, …]}
    payment_intents: dict[str, list[dict]] = field(default_factory=dict)
    sessions: dict[str, "ReceivedRequest"] = field(default_factory=dict)
    charges_enabled_on_create: bool = False
    fail_next: int | None = None  # answer the next request with this HTTP status

    _ids = itertools.count(1)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids)}"

    def received(self, method: str, path: str) -> list[ReceivedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def add_payment_intent(
        self, account: str, intent_id: str, amount: int, created: int, **fields
    ) -> dict:
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount,
            "currency": "cny",
            "status": "succeeded",
            "created": created,
            "metadata": {},
            **fields,
        }
        self.payment_intents.setdefault(account, []).append(intent)
        return intent

    # ---- routing ----------------------------------------------------------------------------

    def answer(self, request: ReceivedRequest) -> tuple[int, dict | str]:
        if self.fail_next:
            status, self.fail_next = self.fail_next, None
            return status, _error("api_error", "fake failure")
        account = request.headers.get("stripe-account")
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and request.path == "/v1/accounts":
            account_id = self.next_id("acct")
            self.accounts[account_id] = {
                "id": account_id,
                "object": "account",
                "type": request.params.get("type", "standard"),
                "charges_enabled": self.charges_enabled_on_create,
                "details_submitted": self.charges_enabled_on_create,
            }
            return 200, self.accounts[account_id]
        if request.method == "GET" and parts[:2] == ["v1", "accounts"] and len(parts) == 3:
            found = self.accounts.get(parts[2])
            return (200, found) if found else (404, _error("invalid_request_error", "No account"))
        if request.method == "POST" and request.path == "/v1/account_links":
            return 200, {
                "object": "account_link",
                "url": f"{self.url}/onboarding/{request.params.get('account')}",
                "created": int(time.time()),
                "expires_at": int(time.time()) + 300,
            }
        if request.method == "GET" and parts[0] == "checkout" and len(parts) == 2:
            return self._checkout_page(parts[1])
        if request.method == "POST" and request.path == "/v1/checkout/sessions":
            session_id = self.next_id("cs_test")
            self.sessions[session_id] = request
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "url": f"{self.url}/checkout/{session_id}",
                "amount_total": int(
                    request.params.get("line_items[0][price_data][unit_amount]", 0)
                ),
                "currency": request.params.get("line_items[0][price_data][currency]"),
                "payment_intent": None,
                "status": "open",
                "metadata": {
                    key[len("metadata[") : -1]: value
                    for key, value in request.params.items()
                    if key.startswith("metadata[")
                },
            }
        if request.method == "GET" and request.path == "/v1/payment_intents":
            return 200, self._list_payment_intents(account, request.params)
        if request.method == "GET" and parts[:2] == ["v1", "payment_intents"] and len(parts) == 3:
            for intent in self.payment_intents.get(account, []):
                if intent["id"] == parts[2]:
                    return 200, intent
            return 404, _error("invalid_request_error", "No such payment_intent")
        return 404, _error("invalid_request_error", f"Unrecognized request URL {request.path}")

    def _checkout_page(self, session_id: str) -> tuple[int, str]:
        """A stand-in for Stripe's hosted Checkout page, for browser tests."""
        created = self.sessions.get(session_id)
        if created is None:
            return 404, "<h1>No such session</h1>"
        amount = int(created.params["line_items[0][price_data][unit_amount]"])
        return 200, (
            "<!doctype html><title>Fake Checkout</title>"
            f"<h1>Fake Stripe Checkout</h1><p data-testid='amount'>{amount}</p>"
            f"<a data-testid='fake-pay' href='{html.escape(created.params['success_url'])}'>"
            "Pay</a> "
            f"<a data-testid='fake-cancel' href='{html.escape(created.params['cancel_url'])}'>"
            "Cancel</a>"
        )

    def _list_payment_intents(self, account: str | None, params: dict[str, str]) -> dict:
        low = int(params.get("created[gte]", 0))
        high = int(params.get("created[lt]", 2**62))
        matching = [i for i in self.payment_intents.get(account, []) if low <= i["created"] < high]
        matching.sort(key=lambda i: i["created"], reverse=True)
        start = 0
        if "starting_after" in params:
            ids = [i["id"] for i in matching]
            start = ids.index(params["starting_after"]) + 1
        limit = int(params.get("limit", 10))
        page = matching[start : start + limit]
        return {
            "object": "list",
            "url": "/v1/payment_intents",
            "has_more": start + limit < len(matching),
            "data": page,
        }


def _error(kind: str, message: str) -> dict:
    return {"error": {"type": kind, "message": message}}


def start_fake_stripe() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            params.update(parse_qsl(body, keep_blank_values=True))
            request = ReceivedRequest(
                method=self.command,
                path=split.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                params=params,
            )
            fake.requests.append(request)
            status, answer = fake.answer(request)
            is_page = isinstance(answer, str)
            data = answer.encode() if is_page else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if is_page else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", fake.next_id("req"))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _handle
        do_POST = _handle
        do_DELETE = _handle

        def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


# ---- webhook payloads, signed as Stripe signs them ----------------------------------------------


def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header: t=<unix time>,v1=<HMAC-SHA256 of "t.payload">."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(
    event_id: str, event_type: str, obj: dict, *, account: str | None, created: int | None = None
) -> str:
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()) if created is None else created,
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "data": {"object": obj},
    }
    if account:
        event["account"] = account
    return json.dumps(event)


# ---- fixtures and set-up shared by the Stripe tests ------------------------------------------


@pytest.fixture
def fake_stripe():
    fake, server = start_fake_stripe()
    yield fake
    server.shutdown()
    server.server_close()


def stripe_config(fake: FakeStripe) -> dict:
    return {
        "STRIPE_SECRET_KEY": "sk_test_fake",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": fake.url,
    }


@dataclass
class DuesSetUp:
    association_id: int
    account: str | None
    charge_id: int
    member_id: int
    amount_fen: int


def set_up_dues(
    association,
    user=None,
    *,
    account: str | None = "acct_village_a1",
    charges_enabled: bool | None = None,
    amount_fen: int = 3000,
    year: int = 2026,
    member_name: str = "会员甲",
) -> DuesSetUp:
    """Dues settings (with a connected account unless account=None), a plan and one member's
    open charge; the member is linked to `user` when given. Committed."""
    from app.dues.models import Charge, DuesPlan, DuesSettings
    from tenants.context import scope_for, tenant_context
    from tests.factories import create_member

    member_id = create_member(association, member_name).id
    with tenant_context(scope_for(association, writable=True)):
        if db.session.scalar(select(DuesSettings)) is None:
            db.session.add(
                DuesSettings(
                    amount_fen=amount_fen,
                    due_month=3,
                    due_day=31,
                    stripe_account_id=account,
                    stripe_charges_enabled=(
                        account is not None if charges_enabled is None else charges_enabled
                    ),
                )
            )
        if db.session.scalar(select(DuesPlan).where(DuesPlan.year == year)) is None:
            db.session.add(DuesPlan(year=year, amount_fen=amount_fen, due_on=date(year, 3, 31)))
        db.session.flush()
        if user is not None:
            db.session.get(Member, member_id).user_id = user.id
        charge = Charge(member_id=member_id, year=year, amount_due_fen=amount_fen)
        db.session.add(charge)
        db.session.commit()
        charge_id = charge.id
    return DuesSetUp(association.id, account, charge_id, member_id, amount_fen)


def post_event(client, payload: str, signature: str | None = "sign"):
    """POST a webhook body as Stripe does (raw JSON, Stripe-Signature header)."""
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = sign(payload)
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client._isolated(client.raw.post, "/stripe/webhook", data=payload, headers=headers)


def checkout_completed(dues: DuesSetUp, intent: str, *, amount: int | None = None, **fields):
    return {
        "id": fields.pop("session_id", f"cs_{intent}"),
        "object": "checkout.session",
        "payment_intent": intent,
        "payment_status": "paid",
        "status": "complete",
        "amount_total": dues.amount_fen if amount is None else amount,
        "currency": "cny",
        "metadata": {"association_id": str(dues.association_id), "charge_id": str(dues.charge_id)},
        **fields,
    }


def payment_intent_succeeded(dues: DuesSetUp, intent: str, *, amount: int | None = None):
    return {
        "id": intent,
        "object": "payment_intent",
        "amount": dues.amount_fen if amount is None else amount,
        "amount_received": dues.amount_fen if amount is None else amount,
        "currency": "cny",
        "status": "succeeded",
        "metadata": {"association_id": str(dues.association_id), "charge_id": str(dues.charge_id)},
    }


def charge_refunded(intent: str, amount_refunded: int, amount: int = 3000):
    return {
        "id": f"ch_{intent}",
        "object": "charge",
        "payment_intent": intent,
        "amount": amount,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= amount,
        "currency": "cny",
    }


def dispute(intent: str, status: str):
    return {
        "id": f"dp_{intent}",
        "object": "dispute",
        "payment_intent": intent,
        "charge": f"ch_{intent}",
        "amount": 3000,
        "currency": "cny",
        "status": status,
    }
