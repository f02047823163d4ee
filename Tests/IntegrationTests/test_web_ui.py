"""The page in a real browser: headless Chromium from Debian driven by selenium, against the test
instance (nginx serves web/, the API and the WebSocket; a real runner converts). Screenshots go
to var/test-output/."""
import os
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import BASE, ROOT

OUT = os.path.join(ROOT, "var", "test-output")


def browser(download_dir):
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,1200"):
        opts.add_argument(arg)
    opts.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                           "download.prompt_for_download": False})
    # Service with the Debian driver: selenium's own manager would try the network.
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


@pytest.fixture
def page(tmp_path):
    drivers = []

    def open_page(name="a"):
        d = tmp_path / f"downloads-{name}"
        d.mkdir()
        drv = browser(d)
        drv.download_dir = d
        drivers.append(drv)
        drv.get(BASE + "/")
        WebDriverWait(drv, 10).until(lambda b: "Accepted:" in b.find_element(By.ID, "accepted").text)
        # A new browser has no client yet: its socket opens with the first upload.
        WebDriverWait(drv, 10).until(lambda b: any(t in b.find_element(By.ID, "connection").text
                                                   for t in ("Live updates on", "Live updates start with your first upload")))
        return drv

    yield open_page
    for drv in drivers:
        drv.quit()


def stage(drv, path):
    drv.find_element(By.ID, "file").send_keys(str(path))
    return WebDriverWait(drv, 5).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#staged .staged-item"))[-1]


def test_upload_convert_and_download_without_reload(page, runner, tmp_path):
    drv = page()
    csv = tmp_path / "cities.csv"
    csv.write_text("city,population\nLisbon,545923\nPorto,231962\n")
    item = stage(drv, csv)
    target = Select(item.find_element(By.CSS_SELECTOR, "select.target"))
    offered = [o.get_attribute("value") for o in target.options]
    assert {"json", "jsonl", "parquet", "xlsx"} <= set(offered) and "csv" not in offered
    want = "parquet"
    target.select_by_value(want)
    assert item.find_element(By.CSS_SELECTOR, ".opt-delimiter").is_displayed()  # a CSV option
    drv.find_element(By.ID, "convert").click()

    job = WebDriverWait(drv, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")))
    assert job.find_element(By.CSS_SELECTOR, ".badge").text == "Done"
    assert job.find_element(By.CSS_SELECTOR, "a.download").is_displayed()
    assert not job.find_element(By.CSS_SELECTOR, "button.retry").is_displayed()  # only failed jobs retry
    assert "cities.csv" in job.find_element(By.CSS_SELECTOR, ".name").text
    # The live region reads its messages a second apart (the upload's, then this one).
    WebDriverWait(drv, 5).until(lambda b: "ready to download" in b.find_element(By.ID, "live").get_attribute("textContent"))
    assert "used" in drv.find_element(By.ID, "quota-text").text
    os.makedirs(OUT, exist_ok=True)
    drv.save_screenshot(os.path.join(OUT, "ui-jobs.png"))

    job.find_element(By.CSS_SELECTOR, "a.download").click()
    deadline = time.time() + 15
    done = lambda: [f for f in os.listdir(drv.download_dir) if not f.endswith(".crdownload") and not f.startswith(".")]  # noqa: E731
    while not done():
        assert time.time() < deadline, "download did not arrive"
        time.sleep(0.2)
    time.sleep(0.3)
    (name,) = done()
    assert name == f"cities.{want}"
    import pyarrow.parquet as pq
    assert pq.read_table(drv.download_dir / name).to_pylist() == [
        {"city": "Lisbon", "population": 545923}, {"city": "Porto", "population": 231962}]


def test_too_large_and_unsupported_files_are_explained(page, tmp_path):
    drv = page()
    big = tmp_path / "huge.csv"
    with open(big, "wb") as f:
        f.truncate(251 * 1024 * 1024)  # sparse: nothing is written, the browser sees the size
    item = stage(drv, big)
    assert "too large" in item.find_element(By.CSS_SELECTOR, ".problem").text
    assert "too large" in drv.find_element(By.ID, "error").text
    odd = tmp_path / "program.exe"
    odd.write_bytes(b"MZ\x90\x00")
    item = stage(drv, odd)
    assert "cannot convert this type" in item.find_element(By.CSS_SELECTOR, ".problem").text
    assert drv.find_element(By.ID, "convert").get_attribute("disabled") == "true"
    drv.save_screenshot(os.path.join(OUT, "ui-errors.png"))


def test_a_second_browser_sees_none_of_the_first_ones_jobs(page, runner, tmp_path):
    first = page("first")
    md = tmp_path / "private.md"
    md.write_text("# private\n")
    stage(first, md)
    first.find_element(By.ID, "convert").click()
    WebDriverWait(first, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")))
    second = page("second")
    time.sleep(1)  # let its resync finish
    assert second.find_elements(By.CSS_SELECTOR, "#jobs .job") == []
    assert second.find_element(By.ID, "empty").is_displayed()
    # ...and after the first deletes its job, its own list is empty again.
    first.find_element(By.CSS_SELECTOR, "#jobs .job button.delete").click()
    WebDriverWait(first, 10).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#jobs .job") == [])


def test_a_failed_job_says_why_and_offers_retry_on_a_phone_sized_screen(page, runner, tmp_path):
    drv = page("phone")
    drv.set_window_size(390, 844)
    bad = tmp_path / "broken.csv"
    bad.write_text('name,value\n"unterminated,1\n')
    stage(drv, bad)
    drv.find_element(By.ID, "convert").click()
    job = WebDriverWait(drv, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#jobs .job[data-status=FAILED]")))
    reason = job.find_element(By.CSS_SELECTOR, ".reason")
    assert reason.is_displayed() and "quote" in reason.text.lower()
    assert job.find_element(By.CSS_SELECTOR, "button.retry").is_displayed()
    assert not job.find_element(By.CSS_SELECTOR, "a.download").is_displayed()
    WebDriverWait(drv, 5).until(lambda b: "failed" in b.find_element(By.ID, "live").get_attribute("textContent"))
    # Its details tell the story from the job's history: queued, started on a runner, failed, why.
    job.find_element(By.CSS_SELECTOR, ".history summary").click()
    events = WebDriverWait(drv, 10).until(lambda b: job.find_elements(By.CSS_SELECTOR, ".history .events li[data-kind=failed]")
                                          and job.find_elements(By.CSS_SELECTOR, ".history .events li"))
    kinds = [e.get_attribute("data-kind") for e in events]
    assert kinds[0] == "queued" and "claimed" in kinds and kinds[-1] == "failed", kinds
    assert "quote" in events[-1].text.lower() and "started on" in events[kinds.index("claimed")].text
    # Nothing overflows the narrow screen sideways.
    assert drv.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    drv.save_screenshot(os.path.join(OUT, "ui-phone-failed.png"))


DROP_TWO_FILES = """
const dt = new DataTransfer();
dt.items.add(new File(['a,b\\n1,2\\n'], 'one.csv', {type: 'text/csv'}));
dt.items.add(new File(['# two\\n'], 'two.md', {type: 'text/markdown'}));
const zone = document.getElementById('drop');
for (const type of ['dragenter', 'dragover', 'drop']) {
  zone.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
}
"""


def test_dropped_files_and_refused_uploads_are_explained(page, runner):
    drv = page("drop")
    drv.execute_script(DROP_TWO_FILES)
    WebDriverWait(drv, 5).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#staged .staged-item")) == 2)
    names = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#staged .staged-item .name")]
    assert any("one.csv" in n for n in names) and any("two.md" in n for n in names)

    # Rate limited by nginx for real: the page keeps requesting at 100/s (the limit is 10/s with a
    # burst of 20) while the uploads go out, so they meet a full bucket whatever the timing.
    drv.execute_script("window.flood = setInterval(() => fetch('/api/formats'), 10);")
    time.sleep(0.5)
    drv.find_element(By.ID, "convert").click()
    WebDriverWait(drv, 10).until(lambda b: "Too many requests" in b.find_element(By.ID, "error").text)
    drv.execute_script("clearInterval(window.flood);")
    assert len(drv.find_elements(By.CSS_SELECTOR, "#staged .staged-item")) >= 1  # nothing was lost
    time.sleep(3)  # the bucket refills (10 r/s) before the next test uses this address

    # The service unreachable: the browser offline.
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.emulateNetworkConditions",
                        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    WebDriverWait(drv, 5).until(lambda b: b.find_element(By.ID, "convert").get_attribute("disabled") is None)
    drv.find_element(By.ID, "convert").click()
    WebDriverWait(drv, 10).until(lambda b: "cannot be reached" in b.find_element(By.ID, "error").text)
    drv.save_screenshot(os.path.join(OUT, "ui-refused.png"))
    drv.execute_cdp_cmd("Network.emulateNetworkConditions",
                        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    drv.find_element(By.ID, "convert").click()
    WebDriverWait(drv, 30).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")) == 2)
    assert drv.find_elements(By.CSS_SELECTOR, "#staged .staged-item") == []


def test_a_presentation_converts_with_its_speaker_notes(page, runner, tmp_path):
    """A PPTX offers the speaker-notes option; ticked, the HTML download carries the notes."""
    drv = page()
    src = os.path.join(ROOT, "Tests", "Fixtures", "pptx", "poi__SampleShow.pptx")
    item = stage(drv, src)
    target = Select(item.find_element(By.CSS_SELECTOR, ".target"))
    assert {"html", "md", "pdf", "txt"} <= {o.get_attribute("value") for o in target.options}
    target.select_by_value("html")
    notes = item.find_element(By.CSS_SELECTOR, ".opt-notes")
    assert notes.is_displayed() and not item.find_element(By.CSS_SELECTOR, ".opt-sheet").is_displayed()
    item.find_element(By.CSS_SELECTOR, ".notes").click()
    drv.find_element(By.ID, "convert").click()
    job = WebDriverWait(drv, 30).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")))
    href = job.find_element(By.CSS_SELECTOR, "a.download").get_attribute("href")
    html = drv.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", href)
    assert "<strong>Notes</strong>" in html and "<h1>" in html


def convert_one(drv, path, text, done):
    """Stages a Markdown file, converts it to HTML, and waits until `done` jobs are DONE; the new
    job's id."""
    before = {e.get_attribute("data-id") for e in drv.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")}
    path.write_text(text)
    item = stage(drv, path)
    Select(item.find_element(By.CSS_SELECTOR, "select.target")).select_by_value("html")
    drv.find_element(By.ID, "convert").click()
    WebDriverWait(drv, 30).until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")) == done)
    ids = {e.get_attribute("data-id") for e in drv.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=DONE]")}
    return (ids - before).pop()


def test_the_page_uploads_directly_and_falls_back_to_multipart(page, runner, tmp_path):
    """The page asks for an upload slot and sends the file straight to storage (the job names its
    upload); a server that offers no slots (404 on /api/uploads) gets the multipart upload."""
    from conftest import psql
    drv = page()
    job_id = convert_one(drv, tmp_path / "direct.md", "# Direct\n\nFrom the page.\n", 1)
    assert psql(f"SELECT upload_id IS NOT NULL FROM jobs WHERE id = '{job_id}'") == "t"

    # No slots on offer: the page's fetch of /api/uploads answers 404, as an older server would.
    drv.execute_script("""
        const original = window.fetch;
        window.fetch = (url, opts) => String(url).endsWith('/api/uploads')
          ? Promise.resolve(new Response('{"error": {"code": "not_found", "message": "No such endpoint."}}', {status: 404}))
          : original(url, opts);
    """)
    other = convert_one(drv, tmp_path / "fallback.md", "# Fallback\n\nMultipart.\n", 2)
    assert psql(f"SELECT upload_id IS NULL FROM jobs WHERE id = '{other}'") == "t"
    assert drv.find_element(By.ID, "error").text == ""
