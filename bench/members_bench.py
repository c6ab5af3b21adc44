"""Benchmark of the member register on a county-sized data set.

Builds 400 grassroots associations (20 townships × 20 villages under one county), 80,000
members and 40,000 households with 中心户/联户 linkage, then prints:
  - import of a 10,000-row .xlsx laid out as rosters are kept (a title row merged across the
    table, a unit row, two-row headings with merged cells — 联系方式 over 手机 | 固话 — a 序号
    column, and totals and signatures below), read → validate → write as the web job does:
    seconds and peak RSS of a fresh process doing only the import (targets: ≤ 20 s, ≤ 300 MB);
  - p50/p95 latency of the member list and search pages for a secretary (in-process WSGI
    requests through the whole stack: tenant resolver, session, access, SQL, templates).

    .venv/bin/python bench/members_bench.py --database sqlite
    .venv/bin/python bench/members_bench.py --database postgresql \
        --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/members_bench.py --database sqlite --import-only   # the import alone

Results are printed and written to bench/out/members-<database>.txt.
"""

import argparse
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from openpyxl import Workbook  # noqa: E402
from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.accounts.models import User  # noqa: E402
from app.accounts.passwords import hash_password  # noqa: E402
from app.core import crypto  # noqa: E402
from app.core.clock import utcnow  # noqa: E402
from app.core.phones import mask_phone  # noqa: E402
from app.extensions import db  # noqa: E402
from app.members import importing  # noqa: E402
from app.members.idnumbers import check_digit, mask_id_number  # noqa: E402
from app.members.models import Household, Member, MemberImport  # noqa: E402
from app.members.pinyin import pinyin_initials  # noqa: E402
from tenants.context import UNSCOPED_BYPASS, scope_for, tenant_context  # noqa: E402
from tenants.models import Association, AssociationKind, Membership, Role  # noqa: E402
from tenants.tree import create_association  # noqa: E402

OUT = ROOT / "bench" / "out"
PASSWORD = "Bench-Password-2026"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
    "袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁"
)
TOWNSHIPS, VILLAGES = 20, 20
MEMBERS_PER_VILLAGE, HOUSEHOLDS_PER_VILLAGE = 200, 100
CENTRAL_PER_VILLAGE, LINKED_PER_CENTRAL = 10, 8
IMPORT_ROWS = 10_000


def person_id(rng: random.Random, serial: int) -> str:
    # The day follows the serial's thousands, the sequence its units: no two of 28,000
    # consecutive serials share an ID number, so a 10,000-member association can be generated.
    day = serial // 1000 % 28 + 1
    first17 = f"340104{rng.randint(1940, 2004)}{rng.randint(1, 12):02d}{day:02d}"
    first17 += f"{serial % 1000:03d}"
    return first17 + check_digit(first17)


def name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def config_for(database: str, pg_url: str | None, workdir: Path) -> dict:
    config = {
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "WTF_CSRF_ENABLED": False,
        "HUEY_IMMEDIATE": True,
        "TESTING": True,
        "NOTIFICATION_BACKEND": "memory",
        "RATELIMIT_LOGIN": "100000 per minute",
        "MEMBER_IMPORT_DIR": str(workdir / "imports"),
    }
    if database == "sqlite":
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{workdir / 'bench.db'}"
    else:
        base = make_url(pg_url).set(drivername="postgresql+psycopg")
        admin = base.set(database="xiehui_bench").render_as_string(hide_password=False)
        app_url = base.set(database="xiehui_bench", username="xiehui_app", password=None)
        config["SQLALCHEMY_DATABASE_URI"] = app_url.render_as_string(hide_password=False)
        config["DATABASE_ADMIN_URL"] = admin
    return config


def create_database(database: str, pg_url: str | None, name: str = "xiehui_bench") -> None:
    if database != "postgresql":
        return
    server = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def build_county(
    rng: random.Random, townships: int = TOWNSHIPS, villages_each: int = VILLAGES
) -> tuple[list[Association], User]:
    with UNSCOPED_BYPASS("benchmark data set"):
        province = create_association(
            name="安徽省计生协", slug="b-province", kind=AssociationKind.PROVINCE, parent=None
        )
        county = create_association(
            name="朝阳区计生协", slug="b-county", kind=AssociationKind.COUNTY, parent=province
        )
        villages = []
        for t in range(townships):
            township = create_association(
                name=f"第{t + 1}街道计生协",
                slug=f"b-t{t}",
                kind=AssociationKind.TOWNSHIP,
                parent=county,
            )
            for v in range(villages_each):
                villages.append(
                    create_association(
                        name=f"第{t + 1}街道第{v + 1}社区计生协",
                        slug=f"b-t{t}-v{v}",
                        kind=AssociationKind.COMMUNITY,
                        parent=township,
                        served_population=2_500,
                    )
                )
        secretary = User(
            login="bench.secretary@test.cn", name="秘书", password_hash=hash_password(PASSWORD)
        )
        db.session.add(secretary)
        db.session.flush()
        db.session.add(
            Membership(association_id=villages[0].id, user_id=secretary.id, role=Role.SECRETARY)
        )
        # A second, empty association receives the 10,000-row import.
        target = create_association(
            name="导入测试社区计生协",
            slug="b-import",
            kind=AssociationKind.COMMUNITY,
            parent=county,
        )
        db.session.add(
            Membership(association_id=target.id, user_id=secretary.id, role=Role.SECRETARY)
        )
        db.session.commit()
    serial = 0
    for village in villages:
        serial = insert_registers(rng, village.id, serial)
    return villages, secretary


def insert_registers(
    rng: random.Random,
    association_id: int,
    serial: int,
    *,
    members: int = MEMBERS_PER_VILLAGE,
    households: int = HOUSEHOLDS_PER_VILLAGE,
    central: int = CENTRAL_PER_VILLAGE,
    linked_per_central: int = LINKED_PER_CENTRAL,
    member_user_ids: tuple[int, ...] = (),
) -> int:
    """Households (`central` of them 中心户, each with `linked_per_central` 联户) and members
    (encrypted ID numbers and phones) of one association, inserted in bulk and committed. The
    first members get the user ids in `member_user_ids` (their own member pages). Returns the
    next serial for made-up ID numbers and phones."""
    household_rows = []
    for h in range(households):
        household_rows.append(
            {
                "association_id": association_id,
                "address": f"幸福路{h + 1}号",
                "grid": f"第{h // 25 + 1}网格",
                "building": f"{h // 10 + 1}栋",
                "unit": f"{h % 3 + 1}单元",
                "is_central": h < central,
                "created_at": utcnow(),
            }
        )
    with UNSCOPED_BYPASS("benchmark data set"):
        before = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM households"))
        db.session.execute(insert(Household), household_rows)
        ids = [
            row[0]
            for row in db.session.execute(
                text("SELECT id FROM households WHERE association_id = :a AND id > :b ORDER BY id"),
                {"a": association_id, "b": before},
            )
        ]
        central_ids, others = ids[:central], ids[central:]
        for index, household_id in enumerate(others[: central * linked_per_central]):
            db.session.execute(
                text(
                    "UPDATE households SET central_household_id = :c, central_link = :t "
                    "WHERE id = :h"
                ),
                {"c": central_ids[index // linked_per_central], "t": True, "h": household_id},
            )
        member_rows = []
        for m in range(members):
            serial += 1
            member_name = name(rng)
            id_number = person_id(rng, serial)
            phone = f"13{serial:09d}"
            member_rows.append(
                {
                    "association_id": association_id,
                    "name": member_name,
                    "name_initials": pinyin_initials(member_name),
                    "id_number_encrypted": crypto.encrypt(id_number),
                    "id_number_hash": crypto.lookup_hash(id_number),
                    "id_number_masked": mask_id_number(id_number),
                    "phone_encrypted": crypto.encrypt(phone),
                    "phone_hash": crypto.lookup_hash(phone),
                    "phone_masked": mask_phone(phone),
                    "phone_tail": phone[-4:],
                    "household_id": ids[m % len(ids)],
                    "status": "active" if m % 10 else "lapsed",
                    "tags_text": "|老党员|" if m % 7 == 0 else "",
                    "created_at": utcnow(),
                    "user_id": member_user_ids[m] if m < len(member_user_ids) else None,
                }
            )
        db.session.execute(insert(Member), member_rows)
        db.session.commit()
    return serial


def write_import_file(path: Path, rng: random.Random) -> None:
    """The roster as a community keeps it: title and unit rows, two-row merged headings, 序号,
    a landline column, 中心户 linkage, and totals and signatures below the data."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "会员花名册"
    sheet.append(["XX街道XX社区计划生育协会会员花名册(2026年)"])
    sheet.append(["填报单位:XX社区计生协", "", "", "", "", "", "", "", "填报日期:2026年1月5日"])
    sheet.append(
        ["序号", "姓名", "性别", "联系方式", "", "身份证号码", "住址", "入会时间", "中心户"]
        + ["所属中心户"]
    )
    sheet.append(["", "", "", "手机", "固话", "", "", "", "", ""])
    sheet.merge_cells("A1:J1")
    for column in "ABCFGHIJ":
        sheet.merge_cells(f"{column}3:{column}4")
    sheet.merge_cells("D3:E3")
    for row in range(IMPORT_ROWS):
        household = row // 2
        central = household % 9 == 0
        sheet.append(
            [
                row + 1,
                name(rng),
                "",
                f"15{row:09d}",
                f"0551-6{row:07d}",
                person_id(rng, 500_000 + row),
                f"和平街{household}号",
                f"2019-0{row % 9 + 1}-1{row % 9}",
                "是" if central else "",
                "" if central else f"和平街{household - household % 9}号",
            ]
        )
    sheet.append([])
    sheet.append(["合计", f"{IMPORT_ROWS}人"])
    sheet.append(["填表人:王芳", "", "", "审核人:李强"])
    workbook.save(path)


def run_import(config: dict, path: str, queue) -> None:
    """In a fresh process: the import as the web job runs it, with its peak memory (RSS;
    tracemalloc is left off because it roughly doubles the time of allocation-heavy code)."""
    app = create_app(config)
    with app.app_context():
        target = db.session.scalar(db.select(Association).where(Association.slug == "b-import"))
        with tenant_context(scope_for(target, writable=True)):
            started = time.perf_counter()
            stored = importing.save_upload(open(path, "rb"))  # noqa: SIM115
            member_import = importing.begin_import(
                filename="bench.xlsx", stored_name=stored, created_by_id=None
            )
            assert member_import.layout["heading_rows"] == [3, 4], member_import.layout
            assert member_import.total_rows == IMPORT_ROWS, member_import.total_rows
            importing.set_mapping(member_import, member_import.mapping)
            db.session.commit()
            importing.validate(member_import)
            db.session.commit()
            validated = time.perf_counter() - started
            problems = Counter(
                problem["code"]
                for row in importing.problem_rows(member_import, limit=None)
                for problem in row.problems
            )
            member_import = db.session.get(MemberImport, member_import.id)
            importing.mark_step_started(member_import, "apply")
            db.session.commit()
            result = importing.apply(member_import)
            db.session.commit()
            total = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    queue.put((validated, total, result.imported, result.rejected, peak_rss, dict(problems)))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def latencies(client, url: str, params_list: list[dict], repeat: int) -> tuple[float, float]:
    timings = []
    for round_number in range(repeat):
        params = params_list[round_number % len(params_list)]
        started = time.perf_counter()
        response = client.get(url, query_string=params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(timings), percentile(timings, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="a one-village data set and the import alone, without the page latencies",
    )
    args = parser.parse_args()
    rng = random.Random(20261123)
    workdir = Path(tempfile.mkdtemp(prefix="members-bench-"))
    create_database(args.database, args.pg_url)
    config = config_for(args.database, args.pg_url, workdir)
    app = create_app(config)
    lines = [f"members benchmark · {args.database}"]

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with app.app_context():
        upgrade(revision="heads")
        started = time.perf_counter()
        villages, secretary = build_county(rng, 1, 1) if args.import_only else build_county(rng)
        secretary_login = secretary.login
        with UNSCOPED_BYPASS("count the data set"):
            counts = {
                table: db.session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                for table in ("associations", "members", "households")
            }
            linked = db.session.scalar(
                text("SELECT count(*) FROM households WHERE central_household_id IS NOT NULL")
            )
        say(
            f"data set: {counts['associations']} associations ({len(villages)} grassroots), "
            f"{counts['members']} members, {counts['households']} households "
            f"({linked} linked), built in {time.perf_counter() - started:.1f} s"
        )
        import_file = workdir / "import.xlsx"
        write_import_file(import_file, rng)
        say(f"import file: {IMPORT_ROWS} rows, {import_file.stat().st_size / 1024:.0f} KB .xlsx")
        db.session.remove()
        db.engine.dispose()

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=run_import, args=(config, str(import_file), queue))
    process.start()
    process.join()
    if process.exitcode != 0:
        raise SystemExit(f"the import process failed (exit code {process.exitcode})")
    validated, total, imported, rejected, peak_rss, problems = queue.get()
    say(
        f"import of {IMPORT_ROWS} rows: checked in {validated:.1f} s, {total:.1f} s in all "
        f"({imported} imported, {rejected} rejected: {problems}); peak RSS of the importing "
        f"process {peak_rss / 2**20:.0f} MB"
    )
    if args.import_only:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"members-import-{args.database}.txt").write_text("\n".join(lines) + "\n")
        return

    with app.app_context():
        client = app.test_client()
        response = client.post("/login", data={"login": secretary_login, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        slug = "b-t0-v0"
        base = f"/a/{slug}/members/"
        client.get(base)  # warm caches and templates
        say(f"latency over {args.requests} requests each, secretary of a 200-member association:")
        for label, params in (
            ("member list, page 1..5", [{"page": p} for p in range(1, 6)]),
            ("search by name (张)", [{"q": "张"}, {"q": "王"}, {"q": "李"}]),
            ("search by pinyin initials", [{"q": "zw"}, {"q": "wf"}, {"q": "l"}]),
            ("search by phone tail", [{"q": "0012"}, {"q": "77"}, {"q": "5"}]),
            ("filter by tag and status", [{"tag": "老党员"}, {"status": "lapsed"}]),
        ):
            p50, p95 = latencies(client, base, params, args.requests)
            say(f"  {label:<28} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        import_client = client
        big = "/a/b-import/members/"
        p50, p95 = latencies(import_client, big, [{"page": p} for p in range(1, 6)], args.requests)
        say(f"  list of the 10,000-member association p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        p50, p95 = latencies(
            import_client, big, [{"q": "张"}, {"q": "zw"}, {"q": "0012"}], args.requests
        )
        say(f"  search in the 10,000-member association p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
        db.session.remove()
        db.engine.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"members-{args.database}.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
