"""Residents' self-governance (承诺 → 实施 → 报告 → 评议 → 监督) and the public page."""
