"""gunicorn settings for Xiehui behind nginx (deploy/nginx/xiehui.conf).

`gunicorn -c deploy/gunicorn.conf.py wsgi:app`, started by deploy/systemd/xiehui-web.service.
Figures behind the choices: bench/README.md (load and fault drills, 2 cores).
"""

import multiprocessing
import os

# nginx talks to gunicorn on loopback only; the app trusts its X-Forwarded-* (PROXY_FIX_HOPS=1).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Sync workers: nginx buffers slow clients (request and response), so a worker is busy only
# while the app works. The load drill: 4 sync workers on 2 cores served 100 users at p95 52 ms
# (PostgreSQL); what queues pages is a rush of sign-ins (argon2id, ~0.4 s of CPU each), which
# more workers than cores cannot speed up. So: 2 per core, and at least 4.
worker_class = "sync"
workers = int(os.environ.get("GUNICORN_WORKERS", max(4, 2 * multiprocessing.cpu_count())))

# A request running longer than this is killed (its worker replaced); nginx's
# proxy_read_timeout (35 s) is a little longer so the client gets gunicorn's answer.
timeout = 30
# On SIGHUP/SIGTERM workers finish the request in hand for up to 10 s (graceful restarts:
# `systemctl reload xiehui-web` starts new workers with the new code, then stops the old ones).
graceful_timeout = 10
# Keep-alive towards nginx (its upstream keepalive pool).
keepalive = 30

# Recycle workers now and then (jittered so they do not all restart at once): bounds the
# memory a long-lived worker can accumulate.
max_requests = 2000
max_requests_jitter = 200

# Import the app once in the master: faster worker (re)starts, a broken release fails at start.
# Database connections are opened lazily, per worker, after the fork.
preload_app = True

# Logs go to the journal (systemd); the access log gives time inside gunicorn (%(D)s µs).
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sµs'
forwarded_allow_ips = "127.0.0.1"
