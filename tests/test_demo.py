"""The demo data set of the README: each demo login sees its own world, and nothing else."""

from app.demo import DEMO_PASSWORD


def test_demo_logins_see_their_own_worlds(app, make_client):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0 and "Demo data loaded" in result.output
    again = app.test_cli_runner().invoke(args=["demo"])
    assert "already present" in again.output

    secretary = make_client()
    secretary.login("secretary@demo.xiehui.cn", DEMO_PASSWORD)
    members = secretary.get("/a/nanqi-lihua/members/")
    assert members.status_code == 200 and "王芳" in members.text
    assert "梨花社区计生协" in secretary.get("/a/nanqi-lihua/").text
    assert "5·29会员活动日" in secretary.get("/a/nanqi-lihua/activities/").text
    dues = secretary.get("/a/nanqi-lihua/dues/?year=2026")
    assert dues.status_code == 200 and 'data-testid="collection-rate"' in dues.text

    auditor = make_client("auditor@demo.xiehui.cn")
    for slug in ("shushan", "nanqi", "jinggang-taohua", "nanqi-lihua"):
        assert auditor.get(f"/a/{slug}/").status_code == 200
    assert auditor.get("/a/baohe/").status_code == 404
    assert auditor.get("/a/hefei/").status_code == 404

    neighbour = make_client("baohe@demo.xiehui.cn")
    assert neighbour.get("/a/shushan/").status_code == 404

    member = make_client("member@demo.xiehui.cn")
    assert member.get("/a/nanqi-lihua/members/").status_code == 403
    assert "2026-00001" in member.get("/a/nanqi-lihua/dues/my").text
