"""The yardstick for the member list's throughput: the same 20 rows of the same `members` table
rendered by the smallest Flask + Flask-SQLAlchemy page, with no tenancy, no sign-in, no
session, no translations, no row-level security (it connects as the owner).

    MINIMAL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/xiehui_list_bench \
    MINIMAL_ASSOCIATION_ID=3 gunicorn -w 4 bench.minimal_list_app:app

`bench/list_throughput_bench.py` serves it beside the real member list under the same gunicorn
settings and compares requests per second.
"""

import os

from flask import Flask, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import column, func, select, table

PAGE_SIZE = 20
members = table(
    "members",
    column("id"),
    column("association_id"),
    column("name"),
    column("gender"),
    column("joined_on"),
    column("status"),
    column("deleted_at"),
)
PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>会员</title></head>
<body><h1>会员 ({{ total }})</h1><table><thead><tr><th>姓名</th><th>性别</th><th>入会日期</th>
<th>状态</th></tr></thead><tbody>{% for m in rows %}<tr><td><a href="/members/{{ m.id }}">
{{ m.name }}</a></td><td>{{ m.gender }}</td><td>{{ m.joined_on }}</td><td>{{ m.status }}</td>
</tr>{% endfor %}</tbody></table><p>第 {{ page }} 页</p></body></html>"""

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["MINIMAL_DATABASE_URL"]
db = SQLAlchemy(app)
ASSOCIATION_ID = int(os.environ["MINIMAL_ASSOCIATION_ID"])


@app.get("/members/")
def member_list():
    page = max(1, request.args.get("page", 1, type=int))
    mine = (members.c.association_id == ASSOCIATION_ID) & members.c.deleted_at.is_(None)
    total = db.session.scalar(select(func.count()).select_from(members).where(mine))
    rows = db.session.execute(
        select(members)
        .where(mine)
        .order_by(members.c.name, members.c.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template_string(PAGE, rows=rows, total=total, page=page)
