"""The claim tracker page (/tracker/) in headless Chromium.

Against the real service (the tiny model, see conftest.py): the example is tracked and every row, the summary
bar and the evidence marks agree with a direct POST /track of the same body. Against a stub /track with
answers written here: the rules a random model cannot show (which document a source's evidence comes from,
code-point offsets after an emoji, a title's evidence, the messages for refused requests, a CSV file).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("selenium", reason="selenium is not installed (requirements-dev.txt)")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from models.document_fields import DETAIL_FIELDS, DocumentDetails  # noqa: E402
from models.evidence import Evidence, Field  # noqa: E402
from models.labels import LABELS  # noqa: E402
from models.result import StanceResult  # noqa: E402
from models.tracking import TrackedDocument, tracked_claim  # noqa: E402
from serving.headers import PAGE_POLICY, SecurityHeaders  # noqa: E402
from tests.helpers import TAUGHT_CLAIMS, free_port, taught_text  # noqa: E402

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER), reason="Debian's chromium and chromium-driver are not installed (make browser)"
    ),
]

WAIT_S = 60


@dataclass
class Browser:
    driver: webdriver.Chrome
    downloads: Path

    def open(self, url: str) -> None:
        self.driver.get(url)
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete")

    def wait(self, condition: Callable[[webdriver.Chrome], Any], seconds: float = WAIT_S) -> Any:
        return WebDriverWait(self.driver, seconds).until(condition)

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).get_attribute("textContent") or ""

    def set_value(self, css: str, value: str) -> None:
        """Typed in by script: ChromeDriver cannot type characters outside the BMP (emoji)."""
        self.driver.execute_script("arguments[0].value = arguments[1]", self.find(css), value)

    def track(self) -> None:
        """Submit and wait for the answer or a refusal: the results are marked busy while the request runs."""
        self.driver.execute_script("document.getElementById('status').textContent = ''")
        self.find("#submit").click()
        self.wait(lambda d: self.text("#status") and self.find("#results").get_attribute("aria-busy") is None)

    def status(self) -> str:
        return self.text("#status")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    viewport = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", viewport)  # the window's frame is not page
    try:
        yield Browser(driver, downloads)
    finally:
        driver.quit()


def documents_body(browser: Browser) -> dict:
    """The body the page sends for what its boxes hold (the example's lines carry only the contract's fields)."""
    lines = browser.find("#documents").get_attribute("value").splitlines()
    return {
        "claim": browser.find("#claim").get_attribute("value").strip(),
        "documents": [json.loads(line) for line in lines if line.strip()],
    }


def downloaded(browser: Browser, name: str) -> Path:
    path = browser.downloads / name
    browser.wait(lambda _: path.exists() and path.stat().st_size > 0)
    return path


def chosen(documents: list[dict], prevailing: str | None) -> dict:
    """The page's rule: the related document with the prevailing label and the highest score for it (the first
    on a tie); the most relevant one when the source has no related document."""
    if prevailing is None:
        return max(documents, key=lambda d: d["relevance"] or 0)
    candidates = [d for d in documents if d["label"] == prevailing]
    return max(candidates, key=lambda d: d["scores"][prevailing])


def expected_rows(answer: dict) -> dict[tuple[str, str], tuple[str, int, dict]]:
    """(source, document id for a row without source) -> (label, documents, document its evidence is from)."""
    rows = {}
    for entry in answer["summary"]["sources"]:
        documents = [d for d in answer["documents"] if d["source"] == entry["source"]]
        rows[entry["source"], ""] = (
            entry["prevailing"] or "unrelated",
            len(entry["documents"]),
            chosen(documents, entry["prevailing"]),
        )
    for document in answer["documents"]:
        if document["source"] is None:
            rows["", str(document["id"])] = (document["label"], 1, document)
    return rows


def check_rows_match(browser: Browser, answer: dict) -> None:
    expected = expected_rows(answer)
    rows = browser.find_all("#sources tr.source-row")
    assert len(rows) == len(expected)
    for row in rows:
        source, document_id = row.get_attribute("data-source"), row.get_attribute("data-document") or ""
        label, count, shown = expected[source, document_id]
        assert row.get_attribute("data-label") == label
        assert f"stance-{label}" in row.get_attribute("class").split()
        assert row.find_element(By.CSS_SELECTOR, ".badge").get_attribute("textContent") == label
        assert row.find_element(By.CSS_SELECTOR, "td.num").get_attribute("textContent").split()[0] == str(count)
        evidence = row.find_element(By.CSS_SELECTOR, ".evidence")
        assert evidence.get_attribute("data-document") == str(shown["id"])
        if shown["evidence"]:
            mark = evidence.find_element(By.TAG_NAME, "mark").get_attribute("textContent")
            assert mark == shown["evidence"][0]["text"]


def check_summary_matches(browser: Browser, answer: dict) -> None:
    summary = answer["summary"]
    percents = [int(s.get_attribute("data-percent")) for s in browser.find_all("#share-bar .segment")]
    if summary["related"]:
        assert sum(percents) == 100  # rounded by largest remainders
        counts = {label: share["count"] for label, share in summary["labels"].items() if share["count"]}
        segments = browser.find_all("#share-bar .segment")
        assert [s.get_attribute("data-label") for s in segments] == list(counts)
        for segment in segments:
            label, percent = segment.get_attribute("data-label"), segment.get_attribute("data-percent")
            assert segment.get_attribute("textContent") == f"{label} {percent}%"
            assert int(percent) == pytest.approx(100 * counts[label] / summary["related"], abs=1)
    else:
        assert percents == []
    assert browser.text("#unrelated-count") == str(summary["unrelated"])
    assert browser.text("#related-count") == str(summary["related"])
    days = browser.find_all("#timeline tr.day")
    assert [day.get_attribute("data-date") for day in days] == [day["date"] for day in summary["timeline"]]
    for row, day in zip(days, summary["timeline"], strict=True):
        for label, count in day["counts"].items():
            cell = row.find_element(By.CSS_SELECTOR, f'td[data-label="{label}"]')
            assert cell.get_attribute("textContent") == str(count)
    assert browser.find("#timeline").is_displayed() == bool(summary["timeline"])


def screenshot_path(tmp_path: Path) -> Path:
    """docs/tracker.png is refreshed on purpose only (TRACKER_SCREENSHOT=docs/tracker.png), never by a plain run."""
    path = Path(os.environ.get("TRACKER_SCREENSHOT") or tmp_path / "tracker.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def service_url(request: pytest.FixtureRequest) -> str:
    """The tiny model's service (conftest.py), or a running one named by TRACKER_URL: `make serve`
    then gives docs/tracker.png the real model's answers."""
    return os.environ.get("TRACKER_URL") or request.getfixturevalue("server").url


def test_the_example_tracked_by_the_service_agrees_with_post_track(service_url: str, browser: Browser, tmp_path: Path):
    page = httpx.get(f"{service_url}/tracker", follow_redirects=True, timeout=10)
    assert page.status_code == 200 and 'id="claim"' in page.text and str(page.url).endswith("/tracker/")
    assert page.headers["content-security-policy"] == PAGE_POLICY and page.headers["x-frame-options"] == "DENY"

    browser.open(f"{service_url}/tracker/")
    browser.find("#example").click()
    body = documents_body(browser)
    assert len(body["documents"]) >= 5
    browser.track()
    assert "read by" in browser.status(), browser.status()

    direct = httpx.post(f"{service_url}/track", json=body, timeout=60)
    assert direct.status_code == 200, direct.text
    answer = direct.json()
    check_rows_match(browser, answer)
    check_summary_matches(browser, answer)
    browser.driver.save_screenshot(str(screenshot_path(tmp_path)))

    browser.find("#export-csv").click()
    with downloaded(browser, "claimstance-track.csv").open(newline="", encoding="utf-8") as file:
        exported = list(csv.DictReader(file))
    assert [row["id"] for row in exported] == [str(d["id"]) for d in answer["documents"]]
    assert [row["label"] for row in exported] == [d["label"] for d in answer["documents"]]
    assert [row["evidence"] for row in exported] == [d["evidence"][0]["text"] for d in answer["documents"]]
    browser.find("#export-json").click()
    assert json.loads(downloaded(browser, "claimstance-track.json").read_text(encoding="utf-8")) == answer

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": 1, "text": "fine"}\n{"id": 2, "text": oops}\n', encoding="utf-8")
    browser.find("#file").send_keys(str(broken))
    browser.wait(lambda _: "broken.jsonl" in browser.status())
    assert browser.status().startswith("line 2 of broken.jsonl is not JSON: ")
    assert "error" in browser.find("#status").get_attribute("class").split()
    assert len(browser.find_all("#sources tr.source-row")) == len(expected_rows(answer))  # the answer stays


# ---- Against a stub /track: answers written here ----------------------------------------------------------

STUB_CLAIM = "The bridge was closed for repairs"
LONG_BEFORE = "Traffic news. " * 30
STUB_DOCUMENTS = [
    {"id": "w1", "source": "Wire", "published": "2024-05-01", "text": "The bridge was closed, officials said."},
    {"id": "w2", "source": "Wire", "published": "2024-05-02",
     "text": LONG_BEFORE + "Drivers cheered 🎉🌉. The bridge was closed for repairs on Monday. " + "More later. " * 30},
    {"id": "w3", "source": "Wire", "text": "Nobody closed the bridge, the city said."},
    {"id": 4, "title": "Bridge reopened? No, still shut", "text": "Residents describe the detour."},
    {"id": "x1", "source": "Elsewhere", "text": "Tomatoes are cheap this week."},
    {"id": "e1", "source": "Echo", "text": "Closed: the bridge."},
    {"id": "e2", "source": "Echo", "text": "The bridge is closed."},
]  # fmt: skip
STUB_RESULTS = {  # id -> label, the score of that label, the evidence sentence, its field
    "w1": ("asserting", 0.6, "The bridge was closed, officials said.", "text"),
    "w2": ("asserting", 0.8, "The bridge was closed for repairs on Monday.", "text"),
    "w3": ("disputing", 0.9, "Nobody closed the bridge, the city said.", "text"),
    "4": ("reporting", 0.7, "Bridge reopened? No, still shut", "title"),
    "x1": ("unrelated", 0.9, "Tomatoes are cheap this week.", "text"),
    "e1": ("asserting", 0.5, "Closed: the bridge.", "text"),
    "e2": ("asserting", 0.5, "The bridge is closed.", "text"),
    "\u202eid-1": ("asserting", 0.7, "The bridge was closed.", "text"),
}
SLOW_CLAIM = "answered after three seconds"
ABANDONED: list[str] = []
"""Claims of /track calls whose caller went away before the stub answered."""
REFUSALS = {
    "refuse 400": (400, {"error": "invalid request", "detail": [
        {"loc": ["documents", 1, "published"], "msg": "Input should be a valid date", "type": "date_from_datetime"}
    ]}),
    "refuse 413": (413, {"error": "request body is over the limit of 100 bytes"}),
    "refuse 503": (503, {"error": "service overloaded: the queue is full"}),
}  # fmt: skip


def stub_answer(body: dict) -> dict:
    """An answer built by the service's own code (models/tracking.py) from STUB_RESULTS: offsets are Python's
    (code points), as the service's are."""
    documents = []
    for position, sent in enumerate(body["documents"]):
        label, score, sentence, field = STUB_RESULTS[str(sent["id"])]
        start = sent[field].index(sentence)
        rest = (1 - score) / 3
        scores = {name: score if name == label else rest for name in LABELS}
        evidence = Evidence(text=sentence, start=start, end=start + len(sentence), label=label, scores=scores,
                            field=Field(field))  # fmt: skip
        result = StanceResult(label=label, scores=scores, relevance=1 - scores["unrelated"], text_reduced=False,
                              model="stub:1", evidence=(evidence,))  # fmt: skip
        fields = DocumentDetails(**{key: sent.get(key) for key in DETAIL_FIELDS})
        documents.append(TrackedDocument.of(result, fields, position))
    return json.loads(json.dumps(asdict(tracked_claim(body["claim"], "stub:1", LABELS, documents))))


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    """The page and a /track answering from STUB_RESULTS, served the way the service mounts them."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from serving.routes.tracker_page import tracker_page

    async def track(request: Request) -> JSONResponse:
        body = await request.json()
        if body["claim"] == SLOW_CLAIM:
            for _ in range(30):
                await asyncio.sleep(0.1)
                if await request.is_disconnected():
                    ABANDONED.append(body["claim"])
                    return JSONResponse({}, status_code=499)
        status, refusal = REFUSALS.get(body["claim"], (200, None))
        return JSONResponse(refusal or stub_answer(body), status_code=status)

    app = SecurityHeaders(
        Starlette(
            routes=[
                Route("/track", track, methods=["POST"]),
                Mount("/tracker", tracker_page()),
            ]
        ),
        page_prefix="/tracker",
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the stub server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def stub_page(browser: Browser, stub_url: str, claim: str, documents: list[dict]) -> None:
    browser.open(f"{stub_url}/tracker/")
    browser.set_value("#claim", claim)
    browser.set_value("#documents", "\n".join(json.dumps(d, ensure_ascii=False) for d in documents))


def test_each_source_shows_its_strongest_prevailing_document_marked_in_context(browser: Browser, stub_url: str):
    stub_page(browser, stub_url, STUB_CLAIM, STUB_DOCUMENTS)
    browser.track()
    answer = stub_answer({"claim": STUB_CLAIM, "documents": STUB_DOCUMENTS})
    check_rows_match(browser, answer)
    check_summary_matches(browser, answer)

    wire = browser.find('tr.source-row[data-source="Wire"]')
    assert wire.get_attribute("data-label") == "asserting"  # two asserting against one disputing
    evidence = wire.find_element(By.CSS_SELECTOR, ".evidence")
    assert evidence.get_attribute("data-document") == "w2"  # w3 scores higher, but for another label
    before = evidence.get_attribute("textContent").split("The bridge was closed for repairs")[0]
    assert before.startswith("…") and before.endswith("Drivers cheered 🎉🌉. ")  # code points, not UTF-16 units
    assert len(before) < 210
    assert wire.find_element(By.CSS_SELECTOR, "td.num").get_attribute("textContent") == "3"

    untitled = browser.find('tr.source-row[data-document="4"]')
    assert untitled.get_attribute("data-source") == "" and untitled.get_attribute("data-label") == "reporting"
    assert untitled.find_element(By.CSS_SELECTOR, ".evidence").get_attribute("data-field") == "title"
    assert untitled.find_element(By.TAG_NAME, "mark").get_attribute("textContent") == "Bridge reopened? No, still shut"

    elsewhere = browser.find('tr.source-row[data-source="Elsewhere"]')
    assert elsewhere.get_attribute("data-label") == "unrelated"
    assert "0 related" in elsewhere.find_element(By.CSS_SELECTOR, "td.num").get_attribute("textContent")


def test_the_page_runs_under_its_security_policy(browser: Browser, stub_url: str):
    page = httpx.get(f"{stub_url}/tracker/", timeout=10)
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    stub_page(browser, stub_url, STUB_CLAIM, STUB_DOCUMENTS)
    browser.track()
    widths = browser.driver.execute_script(
        "return [...document.querySelectorAll('[class*=stance-] , .day-bar')].map(e => e.style.width).filter(Boolean)"
    )
    assert widths and all(width.endswith("%") for width in widths)  # bar widths set through the CSSOM, not refused


def test_callers_strings_are_isolated_from_the_text_around_them(browser: Browser, stub_url: str):
    sneaky = {"id": "\u202eid-1", "source": "\u202eDaily", "published": "2024-05-03", "text": "The bridge was closed."}
    stub_page(browser, stub_url, STUB_CLAIM, [sneaky])
    browser.track()
    isolated = browser.driver.execute_script(
        "return [...document.querySelectorAll('#sources bdi')].map(e => e.textContent)"
    )
    assert {sneaky["source"], sneaky["id"], sneaky["published"]} <= set(isolated)
    assert browser.text("#sources .source-name bdi") == sneaky["source"]


def test_a_new_call_aborts_the_one_still_running(browser: Browser, stub_url: str):
    stub_page(browser, stub_url, SLOW_CLAIM, STUB_DOCUMENTS)
    browser.find("#submit").click()
    time.sleep(0.5)
    browser.set_value("#claim", STUB_CLAIM)
    browser.track()
    assert "read by stub:1" in browser.status()
    browser.wait(lambda _: ABANDONED == [SLOW_CLAIM], seconds=10)


def test_every_control_is_labelled_and_works_from_the_keyboard(browser: Browser, stub_url: str):
    browser.open(f"{stub_url}/tracker/")
    unlabelled = browser.driver.execute_script(
        "return [...document.querySelectorAll('input, textarea')].filter(e => !e.labels.length).map(e => e.id)"
        " .concat([...document.querySelectorAll('button')].filter(b => !b.textContent.trim()).map(b => b.id))"
    )
    assert unlabelled == []
    order = []
    for _ in range(5):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        order.append(browser.driver.switch_to.active_element.get_attribute("id"))
    assert order == ["claim", "documents", "file", "submit", "example"]
    outline = browser.driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # :focus-visible draws it
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    assert browser.status().startswith("Example loaded")


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        (
            "refuse 400",
            "The service refused the request: documents.1.published (document \u2068w2\u2069): Input should be a valid",
        ),
        ("refuse 413", "The request is too large: request body is over the limit of 100 bytes"),
        ("refuse 503", "The service is busy: service overloaded: the queue is full. Try again in a moment."),
    ],
)
def test_a_refused_request_says_why(browser: Browser, stub_url: str, claim: str, message: str):
    stub_page(browser, stub_url, claim, STUB_DOCUMENTS)
    browser.track()
    assert browser.status().startswith(message)
    assert "error" in browser.find("#status").get_attribute("class").split()


def test_a_csv_file_with_quotes_commas_and_line_breaks_is_read_per_rfc_4180(
    browser: Browser, stub_url: str, tmp_path: Path
):
    path = tmp_path / "docs.csv"
    path.write_bytes(
        b"\xef\xbb\xbfid,Text,source,published,extra\r\n"
        b'w1,"The bridge was closed, officials said.",Wire,2024-05-01,x\r\n'
        b'w3,"Nobody closed the bridge, the city said.",Wire,,\r\n'
        b'x1,"Tomatoes are ""cheap""\r\nthis week.",,,\r\n'
    )
    stub_page(browser, stub_url, STUB_CLAIM, [])
    browser.find("#file").send_keys(str(path))
    browser.wait(lambda _: "docs.csv" in browser.status())
    assert browser.status() == "Loaded 3 documents from docs.csv."
    lines = browser.find("#documents").get_attribute("value").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": "w1", "text": "The bridge was closed, officials said.", "source": "Wire", "published": "2024-05-01"},
        {"id": "w3", "text": "Nobody closed the bridge, the city said.", "source": "Wire"},
        {"id": "x1", "text": 'Tomatoes are "cheap"\r\nthis week.'},
    ]

    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    browser.find("#file").send_keys(str(path))
    browser.wait(lambda _: "no text column" in browser.status())
    assert browser.status() == "docs.csv has no text column (its header row is: id,body)"
    path.write_text('id,text\n1,"never closed\n', encoding="utf-8")
    browser.find("#file").send_keys(str(path))
    browser.wait(lambda _: "never closed" in browser.status())
    assert browser.status() == "docs.csv: the quoted field opened on line 2 is never closed"


# ---- The watched claims (the claim monitor) ---------------------------------------------------------------


def test_the_watched_claims_show_their_summaries_bars_and_newest_evidence(server, browser: Browser):
    claim = TAUGHT_CLAIMS[1]
    response = httpx.post(f"{server.url}/claims/register", json={"claims": [{"id": "vote", "text": claim}]})
    assert response.status_code == 200, response.text
    documents = [  # the claim itself matches it whatever the embedder (cosine 1), and the model was taught to assert
        {"id": "p1", "source": "Port News", "text": taught_text("{claim}", claim)},
        {"id": "p2", "source": "Wire", "text": taught_text("{claim}", claim), "title": "Vote"},
    ]
    assert httpx.post(f"{server.url}/documents/ingest", json={"documents": documents}, timeout=60).status_code == 200
    summary = httpx.post(f"{server.url}/claims/summary", json={"id": "vote"}, timeout=60).json()
    assert summary["summary"]["labels"]["asserting"]["count"] == 2 and summary["latest"]["id"] == "p2"

    browser.open(f"{server.url}/tracker/")
    browser.find("#watched-load").click()
    browser.wait(lambda _: browser.text("#watched-status") not in ("", "Loading the watched claims…"))  # loaded
    assert re.fullmatch(r"\d+ watched claims?\.", browser.text("#watched-status")), browser.text("#watched-status")
    item = browser.find('#watched-list li.watched[data-claim="vote"]')
    assert item.find_element(By.CSS_SELECTOR, ".watched-claim").get_attribute("textContent") == claim
    segments = item.find_elements(By.CSS_SELECTOR, ".share-bar .segment")
    assert [segment.get_attribute("data-label") for segment in segments] == ["asserting"]
    [evidence] = item.find_elements(By.CSS_SELECTOR, ".watched-evidence")
    latest = summary["latest"]
    assert evidence.get_attribute("data-document") == "p2"
    assert evidence.find_element(By.TAG_NAME, "q").get_attribute("textContent") == latest["evidence"]["text"]
    assert evidence.find_element(By.CSS_SELECTOR, ".badge").get_attribute("textContent") == "asserting"
