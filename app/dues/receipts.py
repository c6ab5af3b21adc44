"""Printable PDF receipts (收据) in Chinese, with the embedded CJK font of app/core/printing.py."""

import io

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.pagesizes import A5, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from app.core.money import amount_in_words, yuan_text
from app.core.printing import FONT_NAME, register_cjk_font
from app.dues.models import Payment, PaymentMethod


def method_label(method: PaymentMethod) -> str:
    return {
        PaymentMethod.CASH: _("Cash"),
        PaymentMethod.BANK_TRANSFER: _("Bank transfer"),
        PaymentMethod.OTHER: _("Other"),
        PaymentMethod.STRIPE: _("Online (card)"),
    }[method]


def receipt_pdf(
    payment: Payment,
    *,
    association_name: str,
    member_name: str,
    years: list[tuple[int, int]],
    collected_via: str | None = None,
) -> bytes:
    """One receipt on an A5 landscape page: number, date, member, payer, amount in figures and
    in words, method, the years it pays for; VOID stamped across a voided one."""
    register_cjk_font()
    buffer = io.BytesIO()
    width, height = landscape(A5)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    with force_locale("zh_Hans_CN"):
        title = _("%(association)s dues receipt", association=association_name)
        pdf.setTitle(title)
        pdf.setFont(FONT_NAME, 18)
        pdf.drawCentredString(width / 2, height - 22 * mm, title)
        pdf.setFont(FONT_NAME, 10)
        pdf.drawRightString(
            width - 15 * mm,
            height - 32 * mm,
            _("Receipt no. %(number)s", number=payment.receipt_number),
        )
        pdf.drawString(
            15 * mm, height - 32 * mm, _("Date: %(date)s", date=payment.paid_on.isoformat())
        )
        lines = [
            (_("Member"), member_name),
            (_("Paid by"), payment.payer_name),
            (
                _("Amount"),
                f"{yuan_text(payment.amount_fen)}  ({amount_in_words(payment.amount_fen)})",
            ),
            (_("Method"), method_label(payment.method)),
            (
                _("For"),
                "; ".join(
                    _("%(year)d dues %(amount)s", year=y, amount=yuan_text(a)) for y, a in years
                ),
            ),
        ]
        if collected_via:
            lines.append((_("Collected by central household"), collected_via))
        if payment.refunded_fen:
            lines.append((_("Refunded"), yuan_text(payment.refunded_fen)))
        if payment.note and not collected_via:
            lines.append((_("Note"), payment.note))
        y = height - 46 * mm
        for label, value in lines:
            pdf.setFont(FONT_NAME, 11)
            pdf.drawString(20 * mm, y, f"{label}:")
            pdf.drawString(62 * mm, y, value[:60])
            y -= 9 * mm
        pdf.setFont(FONT_NAME, 10)
        pdf.drawString(20 * mm, 18 * mm, _("Received by (stamp):"))
        pdf.drawString(width / 2 + 10 * mm, 18 * mm, _("Payer (signature):"))
        if payment.voided_at is not None:
            pdf.saveState()
            pdf.setFillColorRGB(0.8, 0.1, 0.1)
            pdf.setFont(FONT_NAME, 48)
            pdf.translate(width / 2, height / 2)
            pdf.rotate(20)
            pdf.drawCentredString(0, 0, _("VOID"))
            pdf.setFont(FONT_NAME, 11)
            pdf.drawCentredString(0, -12 * mm, payment.void_reason or "")
            pdf.restoreState()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
