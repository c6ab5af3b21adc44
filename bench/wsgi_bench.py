"""`wsgi:app` for the load drills, with one setting changed: the login rate limit.

The simulated users all sign in from 127.0.0.1 within seconds; the production limit (20 sign-ins
a minute per address, per worker with the in-memory store) would refuse most of them. Everything
else comes from the environment exactly as in production (`XIEHUI_ENV=production`).

    gunicorn -w 4 -b 127.0.0.1:8765 bench.wsgi_bench:app
"""

import os

from app import create_app

app = create_app({"RATELIMIT_LOGIN": os.environ.get("BENCH_RATELIMIT_LOGIN", "100000 per minute")})
