"""Benchmark of a group SMS (群发) to 10,000 members: queuing, then the outbox sending through
the real Alibaba backend (request signing, HTTP) to the fake provider of tests/sms_fake.py.

Prints, and writes to bench/out/sms-<database>.txt:
  - enqueue: `group_sms.sending.send` for 10,000 recipients (reading and decrypting the register's
    phones, the opt-out check, one outbox row per recipient with the phone and parameters
    encrypted) and its commit; then `dispatch` handing the rows to Huey (a SqliteHuey file
    queue, as in the embedded set-up) in batches — target ≤ 30 s for the whole;
  - outbox throughput on a sample (--send, default 1,000): one worker draining the outbox
    (`send_due_sms`: batches claimed at once, one kept-open HTTP connection, paced to
    --rate, SMS_RATE_PER_SECOND; 0 = unpaced, the worker's own ceiling), messages per second,
    first half, a "restart" (nothing kept in memory: the second half is picked up from the
    database alone), and the check that the provider received each message exactly once.

    .venv/bin/python bench/sms_bench.py                    # SQLite in a temporary folder
    .venv/bin/python bench/sms_bench.py --database postgresql \\
        --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/sms_bench.py --recipients 2000  # a smaller run
    .venv/bin/python bench/sms_bench.py --rate 0            # unpaced: the worker's ceiling

The quiet hours (no notices 21:00–08:00 China time) are switched off for the run, so the
figures do not depend on the time of day; the monthly cap is raised above the recipients.
"""

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The job queue of this run only (Huey reads its URL when app.core.jobs is imported).
_QUEUE = tempfile.mkdtemp(prefix="xiehui-sms-bench-")
os.environ["HUEY_URL"] = f"sqlite:///{_QUEUE}/jobs.db"

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from app.associations.group_sms import sending as group_sending  # noqa: E402
from app.associations.group_sms.models import Group  # noqa: E402
from app.core import crypto, jobs  # noqa: E402
from app.core.clock import utcnow  # noqa: E402
from app.core.phones import mask_phone  # noqa: E402
from app.core.sms_outbox import sending  # noqa: E402
from app.core.sms_outbox.models import SmsMessage, SmsStatus  # noqa: E402
from app.extensions import db  # noqa: E402
from app.members.models import Member  # noqa: E402
from tenants.context import scope_for, tenant_context  # noqa: E402
from tenants.models import AssociationKind  # noqa: E402
from tenants.tree import create_association  # noqa: E402
from tests import sms_fake  # noqa: E402

OUT = ROOT / "bench" / "out"


def config_for(database: str, pg_url: str | None, workdir: Path, rate: float) -> dict:
    config = {
        "SMS_RATE_PER_SECOND": rate,
        "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "TESTING": True,
        "HUEY_IMMEDIATE": False,
        "NOTIFICATION_BACKEND": "memory",
        "SMS_BACKEND": "aliyun",
        "SMS_MONTHLY_CAP": 10**9,
    }
    if database == "sqlite":
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{workdir / 'bench.db'}"
    else:
        base = make_url(pg_url).set(drivername="postgresql+psycopg")
        admin = base.set(database="xiehui_sms_bench").render_as_string(hide_password=False)
        app_url = base.set(database="xiehui_sms_bench", username="xiehui_app", password=None)
        config["SQLALCHEMY_DATABASE_URI"] = app_url.render_as_string(hide_password=False)
        config["DATABASE_ADMIN_URL"] = admin
    return config


def create_database(pg_url: str) -> None:
    engine = create_engine(
        make_url(pg_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS xiehui_sms_bench WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE xiehui_sms_bench"))
    engine.dispose()


def build_village(recipients: int):
    """One village with `recipients` active members, each with a distinct mobile number."""
    with _bypass():
        parent = None
        for kind, slug in (
            (AssociationKind.PROVINCE, "b-sms-p"),
            (AssociationKind.COUNTY, "b-sms-c"),
            (AssociationKind.TOWNSHIP, "b-sms-t"),
            (AssociationKind.VILLAGE, "b-sms"),
        ):
            parent = create_association(name=f"{slug}计生协", slug=slug, kind=kind, parent=parent)
        village = parent
        db.session.commit()
    rows = []
    for serial in range(recipients):
        phone = f"139{serial:08d}"
        rows.append(
            {
                "association_id": village.id,
                "name": f"会员{serial}",
                "name_initials": "hy",
                "phone_encrypted": crypto.encrypt(phone),
                "phone_hash": crypto.lookup_hash(phone),
                "phone_masked": mask_phone(phone),
                "phone_tail": phone[-4:],
                "status": "active",
                "tags_text": "",
                "created_at": utcnow(),
            }
        )
    with tenant_context(scope_for(village, writable=True)):
        db.session.execute(insert(Member), rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with _bypass():
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    return village


def _bypass():
    from tenants.context import UNSCOPED_BYPASS

    return UNSCOPED_BYPASS("the benchmark builds its village")


def run(database: str, pg_url: str | None, recipients: int, send: int, rate: float) -> list[str]:
    fake, server = sms_fake.start_fake_aliyun()
    templates = {**sms_fake.TEMPLATES, "group_notice": "SMS_100000003"}
    sms_fake.TEMPLATES.update(templates)
    os.environ.update(
        {
            **sms_fake.environ(fake.url),
            "ALIYUN_SMS_TEMPLATE_GROUP_NOTICE": "SMS_100000003",
        }
    )
    paced = f"paced to {rate:g}/s" if rate else "unpaced"
    lines = [f"database: {database}, recipients: {recipients:,}, sending {paced}"]
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        if database == "postgresql":
            create_database(pg_url)
        app = create_app(config_for(database, pg_url, workdir, rate))
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            sending.next_morning = lambda now: None  # no quiet hours in the bench
            village = build_village(recipients)

            with tenant_context(scope_for(village, writable=True)):
                started = time.perf_counter()
                message, rows = group_sending.send(
                    village, Group.MEMBERS, "周六体检", sent_by_id=None
                )
                db.session.commit()
                queued = time.perf_counter() - started
                started = time.perf_counter()
                sending.dispatch(*rows)
                handed = time.perf_counter() - started
                # Read in the village's scope: outside it, row-level security hides the message.
                outbox_rows = message.recipients
            pending = jobs.huey.pending_count()
            lines.append(
                f"enqueue: group_sms.sending.send + commit {queued:.2f} s "
                f"({outbox_rows:,} outbox rows); dispatch to Huey {handed:.2f} s "
                f"({pending} batch jobs); total {queued + handed:.2f} s (target ≤ 30 s)"
            )
            jobs.huey.flush()  # the worker below drains the outbox itself

            send = min(send, recipients)
            half = send // 2
            # The worker is another process: it starts without the 10,000 rows the sending
            # request's session holds (each of its commits would expire them all: ~40 ms).
            db.session.remove()
            started = time.perf_counter()
            sending.send_due_sms(limit=half)
            first = time.perf_counter() - started
            lines.append(
                f"outbox, one worker: first {half:,} in {first:.2f} s "
                f"= {half / first:,.0f} messages/s (batches of {sending.CLAIM_BATCH}, signed "
                f"GETs over one kept-open connection, {paced})"
            )
            # A restart: nothing in memory survives; the rest is found in the database.
            db.session.remove()
            started = time.perf_counter()
            sending.send_due_sms(limit=send - half)
            rest = time.perf_counter() - started
            remaining = send - half
            lines.append(
                f"after a restart: remaining {remaining:,} in {rest:.2f} s "
                f"= {remaining / rest:,.0f} messages/s"
            )
            statuses = Counter(
                status for (status,) in db.session.execute(select(SmsMessage.status))
            )
            out_ids = Counter(params["OutId"] for params in fake.received)
            twice = sum(1 for count in out_ids.values() if count > 1)
            lines.append(
                f"statuses: {dict(statuses)}; provider received {len(fake.received):,}, "
                f"distinct {len(out_ids):,}, any twice: {twice}, "
                f"over {len(fake.connections)} connection(s)"
            )
            assert statuses[SmsStatus.SENT] == send == len(fake.received) and twice == 0
            assert db.session.scalar(select(func.count()).select_from(SmsMessage)) == recipients
    server.shutdown()
    server.server_close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument(
        "--send", type=int, default=1_000, help="how many the outbox sends (a sample)"
    )
    parser.add_argument(
        "--rate", type=float, default=100.0, help="SMS_RATE_PER_SECOND (0: unpaced)"
    )
    args = parser.parse_args()
    lines = run(args.database, args.pg_url, args.recipients, args.send, args.rate)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"sms-{args.database}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
