"""Shared by the oversight tests: the village's oversight pages and a valid task form."""

from datetime import timedelta

from app.core.clock import china_today

TARGET = "/a/village-a1/oversight"


def task_form(**overrides) -> dict:
    data = {
        "title": "活动照片不全",
        "description": "第二季度的活动记录没有照片，请补充。",
        "deadline_on": (china_today() + timedelta(days=14)).isoformat(),
    }
    data.update(overrides)
    return data
