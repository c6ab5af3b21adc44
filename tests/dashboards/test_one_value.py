"""One value per figure: the home page, the dashboard, the printed report, the .xlsx export and
the problems list show the same member ratio for the same association and year."""

import io
import re

import openpyxl

from app.core.clock import china_today
from app.dashboards import definitions
from tests.dashboards.helpers import set_population

PERCENT = re.compile(r"\d+\.\d%")


def pages(client, association, year: int) -> dict[str, str]:
    base = f"/a/{association.slug}"
    return {
        "home": client.get(f"{base}/").get_data(as_text=True),
        "dashboard": client.get(f"{base}/dashboard/?year={year}").get_data(as_text=True),
        "report": client.get(f"{base}/dashboard/report?year={year}").get_data(as_text=True),
    }


def xlsx_ratio(client, association, year: int) -> str:
    response = client.get(f"/a/{association.slug}/dashboard/export.xlsx?year={year}")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["会员"]
    assert sheet.cell(1, 5).value == "会员比例"
    assert sheet.cell(2, 5).number_format == "0.0%"
    return f"{sheet.cell(2, 5).value * 100:.1f}%"


def test_the_member_ratio_has_one_value_on_every_page(figures, client_for):
    world = figures
    year = china_today().year
    # 3 members of 48 people is 6.25 %: half up it is 6.3 % (a float printed with "%.1f"
    # says 6.2 %, Excel 6.3 %); the township's own population (not its villages') would give
    # yet another value if the home page divided by it.
    set_population(world.village_a1, 48)
    set_population(world.township_a, 1000)
    auditor = client_for(world.county_auditor.login)

    village = pages(client_for(world.secretary_a1.login), world.village_a1, year)
    for name, text in village.items():
        assert "6.3%" in text, name
        assert "6.2%" not in text, name
    assert xlsx_ratio(auditor, world.village_a1, year) == "6.3%"
    problems = auditor.get(
        f"/a/{world.township_a.slug}/dashboard/problems?year={year}&target=members"
    ).get_data(as_text=True)
    entry = problems.split(f'data-slug="{world.village_a1.slug}"')[1].split("</li>")[0]
    assert PERCENT.findall(entry) == ["6.3%"]

    # The township: (3 + 1) members of (48 + 10) people in its villages = 6.9 %.
    township = pages(auditor, world.township_a, year)
    home_value = re.search(r'data-testid="member-ratio-value">([^<]+)<', township["home"])
    assert home_value.group(1) == "6.9%"
    for name, text in township.items():
        assert "6.9%" in text, name
    assert xlsx_ratio(auditor, world.township_a, year) == "6.9%"


def test_a_share_is_rounded_once_half_up():
    assert definitions.percent_text(definitions.share(3, 48)) == "6.3%"
    assert definitions.percent_text(definitions.share(1, 8)) == "12.5%"
    assert definitions.percent_text(None) == "—"
    assert definitions.spreadsheet_share(definitions.share(3, 48)) == 0.063
    assert definitions.members_needed(3, 48, definitions.share(1, 10)) == 2
    assert definitions.target_text(definitions.share(1, 10)) == "10%"
    assert definitions.target_text(definitions.share(925, 1000)) == "92.5%"
