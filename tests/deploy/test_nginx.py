"""The shipped nginx site (deploy/nginx/xiehui.conf) in front of the app, on loopback:
HTTPS redirect, the app's own 413 page, one trusted proxy hop, static caching."""

import http.client
import socket
import ssl
import threading
import time

import pytest
from werkzeug.serving import make_server

from tests.deploy.nginx_site import NGINX, free_port, start_site

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt install nginx)")


@pytest.fixture
def app_config():
    return {"RATELIMIT_LOGIN": "3 per minute", "PROXY_FIX_HOPS": 1, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def site(app, tmp_path):
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    running = start_site(tmp_path / "nginx", f"127.0.0.1:{server.server_port}")
    yield running
    running.stop()
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def one_worker_site(app, tmp_path):
    """The site in front of a server that handles ONE request at a time, like a sync worker."""
    server = make_server("127.0.0.1", free_port(), app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    running = start_site(tmp_path / "nginx", f"127.0.0.1:{server.server_port}")
    yield running
    running.stop()
    server.shutdown()
    thread.join(timeout=5)


def _tls_socket(port: int):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=15))


def fetch(port: int, method: str, path: str, *, tls: bool = True, headers=None, body=None):
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=15)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text
    finally:
        connection.close()


def test_plain_http_is_redirected_to_https(site):
    status, headers, _ = fetch(site.http_port, "GET", "/login?next=/x", tls=False)
    assert status == 301
    assert headers["location"].startswith("https://") and headers["location"].endswith(
        "/login?next=/x"
    )


def test_an_oversize_upload_is_refused_by_nginx_with_the_apps_translated_page(site):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", site.https_port), timeout=15)
    with context.wrap_socket(raw) as tls:
        # Announce 25 MB (over the 20 MB limit); nginx answers before reading any of it.
        tls.sendall(
            b"POST /a/village/activities/new HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 26214400\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    page = body.decode(errors="replace")
    assert "文件或表单过大" in page  # the app's own page, in the default language
    assert "nginx" not in page


def test_a_forged_x_forwarded_for_through_nginx_cannot_escape_the_login_limit(site):
    statuses = [
        fetch(
            site.https_port,
            "POST",
            "/login",
            headers={
                "X-Forwarded-For": f"198.51.100.{i}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body=f"login=nobody{i}%40test.cn&password=x",
        )[0]
        for i in range(4)
    ]
    assert statuses == [422, 422, 422, 429]


def test_static_files_come_from_nginx_cached_for_a_year_when_versioned(site, app):
    status, headers, _ = fetch(site.https_port, "GET", "/static/css/app.css?v=0123456789ab")
    assert status == 200
    assert headers["cache-control"] == "public, max-age=31536000, immutable"
    status, headers, _ = fetch(site.https_port, "GET", "/static/css/app.css")
    assert status == 200 and headers["cache-control"] == "no-cache"
    # The pages link the versioned URLs.
    _, _, page = fetch(site.https_port, "GET", "/login")
    assert "/static/css/app.css?v=" in page


def test_the_app_sees_https_and_sets_its_security_headers(site):
    status, headers, _ = fetch(site.https_port, "GET", "/login")
    assert status == 200
    assert "content-security-policy" in headers
    # The app builds absolute redirects on the scheme nginx reports.
    status, headers, _ = fetch(site.https_port, "GET", "/")
    assert status in (302, 303) and not headers["location"].startswith("http://")


def test_a_slow_upload_does_not_hold_the_worker(one_worker_site):
    """nginx reads the whole body before it passes the request on: a phone sending its form
    slowly occupies nginx, not the one worker, which goes on serving everyone else."""
    with _tls_socket(one_worker_site.https_port) as slow:
        slow.sendall(
            b"POST /login HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\nConnection: close\r\n\r\nlogin=slow"
        )
        time.sleep(0.5)  # the rest of the body has not come yet
        started = time.monotonic()
        status, _, _ = fetch(one_worker_site.https_port, "GET", "/login")
        assert status == 200
        assert time.monotonic() - started < 5
