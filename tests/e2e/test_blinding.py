"""The blinding crawl: a coder's browser collects every page, link, download and HTTP response it can reach.

The crawler signs in as each coder and opens every recording in the queue, every link any page
offers (the sidebar, "Back to my queue"), every PI page by its URL, a made-up and another
coder's recording, and finally signs out. Everything the browser receives (response bodies and
headers, websocket frames, page snapshots with shadow roots, the media bytes and any download)
is searched for what would unblind: participant, arm, timepoint, site, clinician, file names,
device. Coders are offered no download from the server (no download button or link).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import streamlit

from .conftest import LOGIN_PATH, open_recording, queue_rows, settle, sign_in, wait_for_media

LOGOUT_PATH = "/obscode/logout"
PI_PAGES = {
    "/agreement": "Agreement",
    "/progress": "Coding progress",
    "/certification": "Coder certification",
    "/fidelity": "Treatment fidelity",
}
# What would hand a coder a file: Streamlit's download button, or any link that downloads.
DOWNLOAD_OFFERS = "[data-testid=stDownloadButton], a[download]"
# A table's "Download as CSV" asks the browser's native save dialog, which headless Chromium never
# answers; without it Streamlit saves the same CSV as an ordinary download, which Playwright catches.
NO_NATIVE_SAVE_DIALOG = "Object.defineProperty(window, 'showSaveFilePicker', {value: undefined, configurable: true})"

STREAMLIT_STATIC = Path(streamlit.__file__).parent / "static"
TEXT_TYPES = ("text/", "javascript", "json", "xml", "svg")
# Snapshot of everything a page holds: title, HTML, visible text, shadow roots (the player's),
# and form values (a textarea's value is not in its HTML).
SNAPSHOT_JS = """() => {
  const parts = ["TITLE " + document.title, document.documentElement.outerHTML, document.body.innerText];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) { parts.push(el.shadowRoot.innerHTML, el.shadowRoot.textContent); walk(el.shadowRoot); }
      if ("value" in el && typeof el.value === "string") parts.push(el.value);
      if (el.currentSrc) parts.push(el.currentSrc);
    }
  };
  walk(document);
  return parts.join("\\n");
}"""


def unblinding_terms(manifest: list[dict[str, str]]) -> list[str]:
    """Everything in the demo manifest that would unblind a coder, and container metadata keys."""
    terms = {"creation_time"}
    for row in manifest:
        terms.update(row[k] for k in ("participant_id", "site", "arm", "timepoint", "clinician") if row[k])
        name = row["path"].rsplit("/", 1)[-1]
        terms.update({name, name.rsplit(".", 1)[0]})
        terms.add(row["camera"])  # recording device, as container metadata would carry it
        terms.add(row["camera"].split()[0])  # its make
    return sorted(terms)


def find_terms(text: str, terms: list[str]) -> list[str]:
    hits = []
    for term in terms:
        at = text.find(term)
        if at >= 0:
            hits.append(f"{term!r} in ...{text[max(0, at - 60) : at + len(term) + 60]!r}...")
    return hits


class Crawl:
    """Records what one browser page receives: response bodies and headers, websocket frames, pages."""

    def __init__(self, page, base_url: str) -> None:
        self.page, self.base_url = page, base_url
        self.texts: list[tuple[str, str]] = []  # (where, text)
        self.titles: list[tuple[str, str]] = []
        self.media_headers: list[dict[str, str]] = []
        self.media_urls: set[str] = set()
        self.media_bytes: dict[str, bytes] = {}
        self.static_changed: list[str] = []
        self.links: set[str] = set()
        """Every link of this app's origin that a page offered."""
        self.downloads_offered: list[str] = []
        self.tables_downloaded = 0
        self.frames = 0
        page.add_init_script(NO_NATIVE_SAVE_DIALOG)
        page.on("response", self.response)
        page.on("websocket", self.websocket)

    def response(self, response) -> None:
        url, headers = response.url, response.all_headers()
        self.texts.append((f"headers of {url}", f"{url}\n{headers}"))
        if "/obscode/media/" in url:
            self.media_headers.append(headers)
            self.media_urls.add(url)
            return
        if response.status in (301, 302, 303, 307, 308) or response.request.method == "HEAD":
            return
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 - a body the browser no longer keeps (fonts, aborted loads)
            return
        path = urlparse(url).path
        if url.startswith(self.base_url) and (path.startswith("/static/") or path == "/favicon.png"):
            # Streamlit's own front end: must be the packaged file, which no study data can reach
            packaged = STREAMLIT_STATIC / path.lstrip("/")
            if not packaged.is_file() or packaged.read_bytes() != body:
                self.static_changed.append(url)
            return
        kind = headers.get("content-type", "")
        # the waveform's envelope is bytes, searched as text too: a coder can keep it
        if url.startswith("blob:") or "/obscode/peaks/" in url or any(t in kind for t in TEXT_TYPES) or not kind:
            self.texts.append((f"body of {url}", body.decode("utf-8", "replace")))

    def websocket(self, ws) -> None:
        def frame(payload) -> None:
            self.frames += 1
            text = payload if isinstance(payload, str) else payload.decode("latin-1")
            self.texts.append((f"websocket frame {self.frames} of {ws.url}", text))

        ws.on("framereceived", frame)
        ws.on("framesent", frame)

    def snapshot(self, where: str, streamlit: bool = True) -> str:
        if streamlit:
            settle(self.page)
        text = self.page.evaluate(SNAPSHOT_JS)
        self.texts.append((f"page {where} ({self.page.url})", text))
        self.titles.append((where, self.page.title()))
        hrefs = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        self.links.update(href for href in hrefs if href.startswith(self.base_url))
        offered = self.page.locator(DOWNLOAD_OFFERS).count()
        if offered:
            self.downloads_offered.append(f"{where}: {offered} download button(s) or link(s)")
        self.table_downloads(where)
        return text

    def table_downloads(self, where: str) -> None:
        """Save every table the page shows as its toolbar's CSV (made in the browser) and keep the text."""
        if self.page.locator("[data-testid=stDialog]").count():
            self.page.keyboard.press("Escape")  # Streamlit's "page not found" notice (text kept above) covers the page
        for table in self.page.locator("[data-testid=stDataFrame]").all():
            table.hover()
            button = self.page.get_by_role("button", name="Download as CSV")
            if not button.count():
                continue
            with self.page.expect_download() as download:
                button.first.click()
            self.texts.append((f"download {where}", Path(download.value.path()).read_text(errors="replace")))
            self.tables_downloaded += 1

    def fetch_media(self) -> None:
        """Download in full every media URL the pages gave (while the session lives): the bytes a coder can keep."""
        for url in sorted(self.media_urls):
            response = self.page.request.get(url)
            assert response.status == 200, f"media {url[:60]}... answered {response.status}"
            self.media_bytes[url] = response.body()

    def visit(self, path: str, where: str, streamlit: bool = True) -> str:
        self.page.goto(self.base_url + path)
        return self.snapshot(where, streamlit)


def crawl_as(page, demo, name: str, foreign_code: str | None) -> tuple[Crawl, list[str]]:
    crawl = Crawl(page, demo.base_url)
    crawl.visit(LOGIN_PATH, "login", streamlit=False)
    sign_in(page, demo, name)
    rows = queue_rows(page)  # scrolls through every row, so all of them reach the page
    crawl.snapshot("queue")
    codes = [row["Recording"] for row in rows]
    for code in codes:
        open_recording(page, demo, code)
        wait_for_media(page)
        page.get_by_role("button", name="Forward 5 seconds (L)").click()
        crawl.snapshot(f"code page of {code}")
    crawl.visit("/code?recording=NOSUCH99", "unknown recording")
    if foreign_code:
        text = crawl.visit(f"/code?recording={foreign_code}", "another coder's recording")
        assert "not in your queue" in text
    for path, title in PI_PAGES.items():
        text = crawl.visit(path, f"PI page attempt {path}")
        assert title not in text, f"{name} reached {path}"
    followed: set[str] = set()
    while unfollowed := sorted(crawl.links - followed):
        followed.add(unfollowed[0])
        streamlit_page = urlparse(unfollowed[0]).path != LOGIN_PATH
        crawl.visit(unfollowed[0].removeprefix(demo.base_url), f"link {unfollowed[0]}", streamlit=streamlit_page)
    assert demo.url(LOGOUT_PATH) not in crawl.links, f"{name}: a link signs out (any page could send it)"
    crawl.fetch_media()
    crawl.visit("/", "before signing out")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert urlparse(page.url).path == LOGIN_PATH, f"{name}: signing out led to {page.url}"
    crawl.snapshot("signed out", streamlit=False)
    return crawl, codes


def test_blinding_crawl(browser_page, demo, new_context):
    assert_nothing_unblinds(browser_page, demo, new_context)


def assert_nothing_unblinds(browser_page, demo, new_context) -> None:
    """Crawl as a rater and as the fidelity coder (tests/operations crawls through the proxy too)."""
    terms = unblinding_terms(demo.manifest)
    assert {"P001", "P010", "VIPP-PMH", "usual care", "month 5", "North", "clinician A"} <= set(terms)
    rater, rater_codes = crawl_as(browser_page, demo, "rater.one", None)
    fidelity_page = new_context().new_page()
    fidelity, fidelity_codes = crawl_as(fidelity_page, demo, "fidelity.one", rater_codes[0])
    all_codes = set(rater_codes) | set(fidelity_codes)
    assert len(all_codes) == len(rater_codes) + len(fidelity_codes)

    problems = []
    for who, crawl, allowed in (
        ("rater.one", rater, ()),
        # the fidelity scale is named after the intervention (only its sessions are audio-recorded)
        ("fidelity.one", fidelity, ("VIPP-PMH adherence to the manual",)),
    ):
        # positive controls: the crawl really saw the websocket, the player's shadow DOM and the codes
        assert crawl.frames > 0, f"no websocket frames captured for {who}"
        frames = "\n".join(text for where, text in crawl.texts if where.startswith("websocket"))
        pages = "\n".join(text for where, text in crawl.texts if where.startswith("page"))
        shown = rater_codes if who == "rater.one" else fidelity_codes
        assert shown[0] in frames and shown[0] in pages, f"{who}: recording codes not seen in the capture"
        assert "Insert current time" in pages and "/obscode/media/" in pages, f"{who}: player not captured"
        # each code page view gets its own media URL: at least one per recording in the queue
        assert len(crawl.media_bytes) >= len(shown), (
            f"{who}: {len(crawl.media_bytes)} media URLs for {len(shown)} recordings"
        )
        assert len(crawl.links) > 1, f"{who}: links seen: {sorted(crawl.links)}"
        problems += [f"{who}: offered a download at {where}" for where in crawl.downloads_offered]
        # the queue's table offers its CSV (made in the browser from the frames above): saved and searched too
        assert crawl.tables_downloaded >= 1, f"{who}: the queue table's CSV was not downloaded"
        problems += [f"{who}: Streamlit static file differs from the package: {url}" for url in crawl.static_changed]
        for where, text in crawl.texts:
            for label in allowed:
                text = text.replace(label, "")
            problems += [f"{who}: {where}: {hit}" for hit in find_terms(text, terms)]
        for where, title in crawl.titles:
            leaked = [t for t in (*terms, *all_codes) if t in title]
            if leaked or not title.startswith("obscode"):
                problems.append(f"{who}: title at {where} is {title!r}")
        modified = {headers.get("last-modified") for headers in crawl.media_headers}
        if len(modified) > 1:
            problems.append(f"{who}: media Last-Modified varies by recording: {sorted(map(str, modified))}")
        for headers in crawl.media_headers:
            if "content-disposition" in headers:
                problems.append(f"{who}: media sent with Content-Disposition {headers['content-disposition']!r}")
            if not re.match(r"(audio|video)/", headers.get("content-type", "")):
                problems.append(f"{who}: media content type {headers.get('content-type')!r}")
        # The bytes a coder can save and inspect: stripped of the container metadata.
        long_terms = [t.encode() for t in terms if len(t) >= 5]
        for url, data in crawl.media_bytes.items():
            problems += [f"{who}: media bytes of {url[:60]}... contain {t!r}" for t in long_terms if t in data]
            if re.search(rb"P0(?:0[1-9]|10)[ ,_]", data):
                problems.append(f"{who}: media bytes of {url[:60]}... contain a participant id")
    assert not problems, "blinding leaks:\n" + "\n".join(problems)
