"""The printable A4 notice for the community's wall (居务公开, "按季度上墙公布"): the published
plan's commitments and how they stand, the planned activities, the year's figures in total and
the residents' satisfaction, with QR codes to the public page and the evaluation. It is built
from exactly what the public page shows, so it carries nothing personal either."""

import io
from datetime import date

import segno
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from app.core.i18n import money
from app.core.printing import FONT_NAME, register_cjk_font
from app.dashboards.definitions import percent_text
from app.governance.services import STATE_LABELS, Progress, SurveyResults
from tenants.models import Association

MARGIN = 18 * mm
QR_SIZE = 32 * mm


def _lines(text: str, size: float, width: float) -> list[str]:
    """Chinese has no spaces to break at: wrap by the width of each character."""
    lines, current = [], ""
    for char in text:
        if stringWidth(current + char, FONT_NAME, size) > width:
            lines.append(current)
            current = ""
        current += char
    return [*lines, current] if current else lines


def _qr(url: str) -> ImageReader:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=6, border=2)
    buffer.seek(0)
    return ImageReader(buffer)


def notice_pdf(
    association: Association,
    year: int,
    quarter: int,
    *,
    rows: list[Progress],
    planned: list[tuple[str, str, date | None]],  # month name, title, held on
    activities: int | None,
    dues_collected_fen: int | None,
    results: SurveyResults | None,
    page_url: str,
    survey_url: str | None,
) -> bytes:
    register_cjk_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    text_width = width - 2 * MARGIN
    y = height - MARGIN

    def write(text: str, size: float = 11, gap: float = 2 * mm, indent: float = 0) -> None:
        nonlocal y
        pdf.setFont(FONT_NAME, size)
        beside_the_qr = y > height - MARGIN - QR_SIZE - 4 * mm
        usable = text_width - indent - (QR_SIZE + 4 * mm if beside_the_qr else 0)
        for line in _lines(text, size, usable):
            if y < MARGIN + size:
                pdf.showPage()
                y = height - MARGIN
                pdf.setFont(FONT_NAME, size)
            pdf.drawString(MARGIN + indent, y - size, line)
            y -= size * 1.4
        y -= gap

    pdf.setTitle(_("Public notice %(year)d", year=year))
    pdf.drawImage(
        _qr(page_url), width - MARGIN - QR_SIZE, height - MARGIN - QR_SIZE, QR_SIZE, QR_SIZE
    )
    write(association.name, 20)
    write(_("Public notice, quarter %(q)d of %(year)d", q=quarter, year=year), 14, 6 * mm)
    write(_("Our commitments and how they stand"), 14)
    for row in rows:
        write(f"· {row.commitment.text} — {STATE_LABELS[row.state]}", 11, 1 * mm, 4 * mm)
    y -= 4 * mm
    if planned:
        write(_("Planned activities"), 14)
        for month, title, held_on in planned:
            held = f" — {_('Held on %(date)s', date=held_on.isoformat())}" if held_on else ""
            write(f"· {month} {title}{held}", 11, 1 * mm, 4 * mm)
        y -= 4 * mm
    if activities is not None:
        write(_("Activities held in %(year)d", year=year) + f": {activities}", 12)
    if dues_collected_fen is not None:
        write(
            _(
                "Collected in %(year)d: %(amount)s in total.",
                year=year,
                amount=money(dues_collected_fen),
            ),
            12,
        )
    if results is not None:
        write(
            _("Residents' evaluation")
            + f": {results.responses} · {_('Satisfaction')} {percent_text(results.satisfaction)}",
            12,
        )
    if survey_url:
        size = QR_SIZE
        if y - size < MARGIN:
            pdf.showPage()
            y = height - MARGIN
        pdf.drawImage(_qr(survey_url), MARGIN, y - size, size, size)
        pdf.setFont(FONT_NAME, 11)
        pdf.drawString(
            MARGIN + size + 4 * mm,
            y - size / 2,
            _("Give your evaluation with the code on your slip"),
        )
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
