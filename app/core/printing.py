"""Printing PDFs in Chinese: the embedded CJK font every printable page (receipts, the wall
notice) registers once with reportlab.

The font is Noto Sans SC Regular (SIL Open Font License 1.1, `fonts/OFL.txt`), vendored from
the npm package @expo-google-fonts/noto-sans-sc 0.4.3: a TrueType-outline file, which
reportlab can subset and embed, so a page prints the same on any machine (the built-in CID
font STSong-Light is not embedded and depends on the reader's fonts).
"""

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_NAME = "NotoSansSC"
FONT_FILE = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-Regular.ttf"
_font_lock = threading.Lock()


def register_cjk_font() -> str:
    """Register the font (once per process, thread-safe); returns its name for setFont."""
    with _font_lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_FILE)))
    return FONT_NAME
