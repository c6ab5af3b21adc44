"""Benchmark of the statistics reports at province scale (run by hand, never in tests).

Builds the province tree of bench/dashboards_bench.py (16 cities, 105 counties, 1,500
townships, 20,000 grassroots associations; with few members, which the reports do not read),
a province-wide quarterly report form, and an accepted report from every association below
the province (figures and numeric fields), written with COPY. Then it prints, through the
whole app (in-process WSGI: tenant resolver, session, access, SQL with row-level security,
templates):
  - p50/p95 of opening the province's form page (its 16 cities' submissions and their sum),
  - p50/p95 of a county's own report page (its townships' accepted reports summed),
  - the time of summing the accepted reports of a subtree (a city: ≈1,350 reports; and a
    made-up county of 2,000 grassroots associations added for it), as the export does,
  - the time of the province's .xlsx export (one row per grassroots association, once).

    .venv/bin/python bench/reports_bench.py                  # PostgreSQL: XIEHUI_BENCH_PG_URL
    .venv/bin/python bench/reports_bench.py --reuse          # time again on the set built before

The script drops and creates its own database `xiehui_reports_bench`.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

import bench.dashboards_bench as base  # noqa: E402
from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.reports import subtree  # noqa: E402
from app.reports.models import Report, ReportForm  # noqa: E402
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context  # noqa: E402
from tenants.models import Association  # noqa: E402

base.DATABASE = "xiehui_reports_bench"
# The province's tree as in the dashboards bench; members, households, activities and payments
# kept small (the reports read none of them).
base.SCALES["province"] = (16, 105, 1_500, 20_000, 40_000, 20_000, 20_000, 20_000)
BIG_COUNTY = 2_000
FIGURES = ["members", "new_members", "activities", "households"]
FIELDS = [
    {"key": "m1", "label": "宣传次数", "kind": "number", "choices": [], "required": True},
    {"key": "m2", "label": "入户宣传", "kind": "number", "choices": [], "required": False},
    {"key": "m3", "label": "说明", "kind": "text", "choices": [], "required": False},
]


def build_reports(raw_url: str, rng: random.Random) -> None:
    """A big county (2,000 grassroots under 20 townships) beside the others, the province's
    form and an accepted report of every association below the province."""
    writer = base.Writer("postgresql", raw_url)
    cursor = writer.connection.cursor()
    (top_id, top_path), (city_id, city_path) = cursor.execute(
        "SELECT id, path FROM associations WHERE slug IN ('p', 'c0') ORDER BY depth"
    ).fetchall()
    next_id = cursor.execute("SELECT max(id) FROM associations").fetchone()[0] + 1
    tree = []
    county_id = next_id
    county_path = f"{city_path}{county_id}/"
    tree.append((county_id, "大县计生协", "bigk", "county", city_id, county_path, 2))
    townships = []
    for t in range(20):
        node_id = county_id + 1 + t
        townships.append((node_id, f"{county_path}{node_id}/"))
        tree.append((node_id, f"大县第{t + 1}镇", f"bigt{t}", "township", county_id,
                     townships[-1][1], 3))  # fmt: skip
    first = county_id + 21
    for g in range(BIG_COUNTY):
        node_id = first + g
        parent_id, parent_path = townships[g % 20]
        tree.append((node_id, f"大县第{g + 1}村", f"bigg{g}", "village", parent_id,
                     f"{parent_path}{node_id}/", 4))  # fmt: skip
    writer.write(
        "associations",
        (
            "id",
            "name",
            "slug",
            "kind",
            "parent_id",
            "path",
            "depth",
            "served_population",
            "created_at",
        ),  # fmt: skip
        ((*node, 1000, base.LONG_AGO) for node in tree),
    )
    writer.write(
        "report_forms",
        (
            "id",
            "association_id",
            "name",
            "period_kind",
            "year",
            "period_number",
            "deadline_on",
            "figures",
            "fields",
            "checks",
            "created_at",
        ),  # fmt: skip
        [
            (
                1,
                top_id,
                "全省季度统计报表",
                "quarter",
                base.YEAR,
                4,
                base.TODAY,
                json.dumps(FIGURES),
                json.dumps(FIELDS),
                json.dumps([{"kind": "le", "left": "m2", "right": "m1"}]),
                base.NOW,
            )
        ],  # fmt: skip
    )
    ids = [row[0] for row in cursor.execute(
        "SELECT id FROM associations WHERE id <> %s ORDER BY id", (top_id,))]  # fmt: skip

    def rows():
        for number, association_id in enumerate(ids, start=1):
            values = {
                "fig:members": rng.randint(50, 300),
                "fig:new_members": rng.randint(0, 20),
                "fig:activities": rng.randint(0, 8),
                "fig:households": rng.randint(100, 600),
                "m1": rng.randint(1, 30),
                "m2": rng.randint(0, 10),
                "m3": "按时上报",
            }
            yield (number, association_id, 1, 1, "accepted", json.dumps(values, ensure_ascii=False),
                   "live", "", "", base.NOW, base.NOW, "", base.NOW)  # fmt: skip

    writer.write(
        "reports",
        (
            "id",
            "association_id",
            "form_id",
            "version",
            "state",
            "values",
            "figures_source",
            "remarks",
            "incomplete_reason",
            "submitted_at",
            "decided_at",
            "decision_comment",
            "created_at",
        ),  # fmt: skip
        rows(),
    )
    writer.finish()


def time_sum(slug: str, repeat: int) -> tuple[float, float, int]:
    """Summing the accepted reports of a subtree (the export's total), in its own scope."""
    association = db.session.scalar(select(Association).where(Association.slug == slug))
    form = db.session.get(ReportForm, 1)
    counted = 0

    def call():
        nonlocal counted
        with tenant_context(scope_for(association, writable=False)):
            _totals, counted = subtree.subtree_sum(form, association)
        db.session.rollback()

    p50, p95 = base.timed(call, repeat)
    return p50, p95, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="time on the set built before")
    args = parser.parse_args()
    rng = random.Random(20261130)
    workdir = Path(tempfile.mkdtemp(prefix="reports-bench-"))
    config, raw_url = base.config_for("postgresql", workdir, args.reuse)
    app = create_app(config)
    lines = [f"reports benchmark · postgresql · province · {base.NOW:%Y-%m-%d %H:%M} UTC"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with app.app_context():
        upgrade(revision="heads")
        db.session.remove()
        if not args.reuse:
            started = time.perf_counter()
            built = base.build(base.Writer("postgresql", raw_url), "province", rng)
            build_reports(raw_url, rng)
            say(f"data set built in {time.perf_counter() - started:.0f} s")
            base.add_auditor("p", "province.auditor@bench.cn")
            base.add_auditor("k0", "county.auditor@bench.cn")
            del built
        with UNSCOPED_BYPASS("benchmark: count what was built"):
            reports = db.session.scalar(select(func.count()).select_from(Report))
            associations = db.session.scalar(select(func.count(Association.id)))
        say(f"{associations:,} associations, {reports:,} accepted reports of one form")
        for slug, what in (("c0", "a city"), ("bigk", f"a county of {BIG_COUNTY:,} villages")):
            p50, p95, counted = time_sum(slug, 10)
            say(f"summing the accepted reports of {what} ({counted:,} reports): "
                f"p50 {p50:.0f} ms, p95 {p95:.0f} ms")  # fmt: skip
        db.session.remove()

    with app.app_context():
        with UNSCOPED_BYPASS("benchmark: the county's own report"):
            county_report = db.session.scalar(
                select(Report.id)
                .join(Association, Association.id == Report.association_id)
                .where(Association.slug == "k0")
            )
        db.session.remove()
        # One signed-in client at a time: a second sign-in in the same process made the first
        # client's session answer 404 (the accounts bug noted in bench/dashboards_bench.py).
        cases = {
            "province.auditor@bench.cn": [
                ("province form page (16 cities' submissions)", "/a/p/reports/forms/1"),
                ("province reports list", "/a/p/reports"),
            ],
            "county.auditor@bench.cn": [
                ("county's own report (its townships summed)", f"/a/k0/reports/{county_report}"),
            ],
        }
        for login, pages in cases.items():
            client = base.signed_in_client(app, login)
            for name, url in pages:
                p50, p95 = base.timed(base.get_ok(client, url), args.requests)
                say(f"{name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
            if login.startswith("province"):
                started = time.perf_counter()
                base.get_ok(client, "/a/p/reports/forms/1/export")()
                say(f"the province's .xlsx (every grassroots association, one row each): "
                    f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    out = base.OUT / "reports_bench.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
