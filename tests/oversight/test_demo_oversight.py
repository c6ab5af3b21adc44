"""The demo data shows oversight to the demo auditor and the demo secretary."""

import re

from app.demo import DEMO_PASSWORD


def test_the_demo_auditor_and_secretary_see_tasks_and_a_spot_check(app, make_client):
    assert app.test_cli_runner().invoke(args=["demo"]).exit_code == 0
    secretary = make_client()
    secretary.login("secretary@demo.xiehui.cn", DEMO_PASSWORD)
    home = secretary.get("/a/nanqi-lihua/").get_data(True)
    assert "世界人口日活动缺少现场照片" in home and '<li class="overdue"' in home
    assert "会员名册与联系户名单不一致" in home

    auditor = make_client("auditor@demo.xiehui.cn")
    tasks = auditor.get("/a/shushan/oversight/tasks").get_data(True)
    assert "世界人口日活动缺少现场照片" in tasks and "已逾期" in tasks
    assert 'data-testid="overdue-below"' in auditor.get("/a/shushan/").get_data(True)
    draws = auditor.get("/a/shushan/oversight/spot-checks").get_data(True)
    assert re.search(r'data-testid="draw-\d+"', draws)
    assert auditor.get("/a/shushan/oversight/reviews").status_code == 200
