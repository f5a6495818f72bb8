"""The PI's pages in Chromium: the agreement page's figures draw, the report downloads, screenshots to look at."""

from __future__ import annotations

from playwright.sync_api import expect

from .conftest import SCREENSHOTS, reran, settle, sign_in


def test_agreement_and_certification_pages_draw_and_the_report_downloads(browser_page, demo):
    page = browser_page
    page.set_viewport_size({"width": 1400, "height": 2200})
    sign_in(page, demo, "pi.one")
    expect(page.get_by_role("heading", name="Agreement")).to_be_visible()
    expect(page.get_by_text("Two raters independently coded 22 recordings", exact=False)).to_be_visible()
    # the first tab's heatmap is drawn by plotly in the browser, cells labelled with counts
    expect(page.locator(".js-plotly-plot .heatmaplayer").first).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "agreement.png"), full_page=True)

    with reran(page):  # the report is prepared on request, each step named in a status box as it runs
        page.get_by_role("button", name="Prepare the report and tables").click()
    expect(page.get_by_text("The report and tables are ready to download")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="Reliability report (HTML)").click()
    report = download.value
    assert report.suggested_filename.startswith("obscode-reliability-report-") and report.suggested_filename.endswith(
        ".html"
    )
    html = open(report.path(), encoding="utf-8").read()  # noqa: SIM115 - a downloaded temporary file
    assert "Inter-rater reliability report" in html and "Plotly.newPlot" in html and "<script src=" not in html

    page.goto(demo.url("/certification"))
    settle(page)
    expect(page.get_by_role("heading", name="Coder certification")).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SCREENSHOTS / "certification.png"), full_page=True)
