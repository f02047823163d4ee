"""The page as its users meet it (issue 17), in headless Chromium: it comes up whole right after
its address spent the API's rate limit, waits out a busy service and says so, re-reads the job
list while the WebSocket is down, shows what a conversion could not carry over, states when the
files go, and names its controls. Also the static files' caching and the download names, with
plain HTTP. Screenshots go to var/test-output/."""
import os
import re
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import BASE, Client, SourceAddressAdapter
from test_web_ui import OUT, browser

# Chromium talks to the instance from 127.0.0.1: the address whose API allowance the tests spend.
BROWSER_ADDRESS = "127.0.0.1"

# A WebSocket that never connects (the gateway unreachable), installed before the page's scripts.
NO_SOCKET = """
window.WebSocket = class {
  constructor() { this.readyState = 3; setTimeout(() => this.onclose && this.onclose({}), 20); }
  close() {}
  send() {}
};
window.WebSocket.OPEN = 1;
"""


def spend_the_api_limit():
    """Requests from the browser's address until nginx refuses them (10 r/s, burst 20)."""
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(BROWSER_ADDRESS))
    answers = [s.get(f"{BASE}/api/formats", timeout=10) for _ in range(40)]
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) >= 10, [r.status_code for r in answers]
    assert all(r.headers["Retry-After"] == "1" and r.json()["error"]["code"] == "rate_limited" for r in refused)


def open_as(tmp_path, client, name, before_load=None):
    """Chromium with `client`'s cookie (a client the test made over HTTP), the page not yet loaded."""
    d = tmp_path / f"downloads-{name}"
    d.mkdir()
    drv = browser(d)
    drv.get(BASE + "/api/health")  # a page of the site, so its cookie can be set
    drv.add_cookie({"name": "client_id", "value": client.client_id, "path": "/"})
    if before_load:
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": before_load})
    return drv


def job_item(drv, job_id, timeout=20):
    return WebDriverWait(drv, timeout).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, f'#jobs .job[data-id="{job_id}"]'))[0]


def test_static_files_have_their_own_limit_and_are_cached():
    spend_the_api_limit()
    s = requests.Session()
    s.mount("http://", SourceAddressAdapter(BROWSER_ADDRESS))
    page = s.get(f"{BASE}/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Cache-Control"] == "no-cache" and page.headers.get("ETag")
    assert s.get(f"{BASE}/", headers={"If-None-Match": page.headers["ETag"]}, timeout=10).status_code == 304
    assets = re.findall(r'(?:src|href)="([a-z]+\.[0-9a-f]{12}\.(?:js|css))"', page.text)
    assert sorted(a.split(".")[0] for a in assets) == ["app", "style"], assets
    app = s.get(f"{BASE}/{assets[0] if assets[0].startswith('app') else assets[1]}", timeout=10)
    api_js = re.search(r"from '\./(api\.[0-9a-f]{12}\.js)'", app.text).group(1)
    for asset in assets + [api_js]:
        r = s.get(f"{BASE}/{asset}", timeout=10)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable", asset
        assert r.headers["X-Content-Type-Options"] == "nosniff"  # the security headers still apply
    # Page loads many times over, at once, while the API refuses this address.
    spend_the_api_limit()
    assert {s.get(f"{BASE}/", timeout=10).status_code for _ in range(60)} == {200}
    time.sleep(3)  # the API bucket refills before the next test uses this address


def test_the_page_comes_up_whole_right_after_the_api_limit_is_spent(runner, tmp_path):
    owner = Client()
    job = owner.submit("before.md", b"# Made before\n", "html")
    owner.wait_status(job["id"])
    drv = open_as(tmp_path, owner, "burst")
    try:
        spend_the_api_limit()
        drv.get(BASE + "/")
        # Styled and scripted at once (the static files are not under the API's limit)…
        assert drv.execute_script("return getComputedStyle(document.querySelector('.drop')).borderStyle") == "dashed"
        failed = drv.execute_script(
            "return performance.getEntriesByType('resource').filter(e => e.responseStatus >= 400).map(e => e.name)")
        assert not [u for u in failed if not u.endswith("/api/formats") and "/api/" not in u], failed
        # …and whole once the API answers again: formats, usage, the job list.
        WebDriverWait(drv, 20).until(lambda b: "Accepted:" in b.find_element(By.ID, "accepted").text)
        item = job_item(drv, job["id"])
        assert "before.md" in item.find_element(By.CSS_SELECTOR, ".name").text
        WebDriverWait(drv, 20).until(lambda b: not b.find_element(By.ID, "quota-text").text.startswith("0 B"))
        WebDriverWait(drv, 20).until(lambda b: not b.find_element(By.ID, "notice").is_displayed())
        assert drv.find_element(By.ID, "error").text == ""
        os.makedirs(OUT, exist_ok=True)
        drv.save_screenshot(os.path.join(OUT, "ui-after-burst.png"))
    finally:
        drv.quit()
    time.sleep(3)


def test_a_busy_service_is_waited_out_and_said(runner, tmp_path):
    """Every API answer a 503 with Retry-After for a while (the page's fetch stubbed to answer so):
    the page says it is waiting, then comes up when the service does."""
    owner = Client()
    job = owner.submit("busy.md", b"# Busy\n", "html")
    owner.wait_status(job["id"])
    busy_until = """
    window.busyUntil = Date.now() + 4000;
    const original = window.fetch;
    window.fetch = (url, opts) => (Date.now() < window.busyUntil && String(url).includes('/api/'))
      ? Promise.resolve(new Response('{"error": {"code": "database_unavailable", "message": "The database is unavailable."}}',
                                     {status: 503, headers: {'Retry-After': '1'}}))
      : original(url, opts);
    """
    drv = open_as(tmp_path, owner, "busy", before_load=busy_until)
    try:
        drv.get(BASE + "/")
        notice = WebDriverWait(drv, 5).until(lambda b: b.find_element(By.ID, "notice").is_displayed()
                                             and b.find_element(By.ID, "notice"))
        assert "busy" in notice.text and "Trying again in" in notice.text
        drv.save_screenshot(os.path.join(OUT, "ui-waiting.png"))
        WebDriverWait(drv, 30).until(lambda b: "Accepted:" in b.find_element(By.ID, "accepted").text)
        job_item(drv, job["id"], timeout=30)
        WebDriverWait(drv, 30).until(lambda b: not b.find_element(By.ID, "notice").is_displayed())
        assert drv.find_element(By.ID, "error").text == ""
    finally:
        drv.quit()


def test_the_list_is_reread_while_the_socket_is_down(runner, tmp_path):
    owner = Client()
    first = owner.submit("one.md", b"# One\n", "html")
    owner.wait_status(first["id"])
    drv = open_as(tmp_path, owner, "nosocket", before_load=NO_SOCKET)
    try:
        drv.get(BASE + "/")
        job_item(drv, first["id"])
        WebDriverWait(drv, 5).until(lambda b: "Reconnecting" in b.find_element(By.ID, "connection").text)
        later = owner.submit("two.md", b"# Two\n", "html")  # made elsewhere: no event can reach the page
        item = job_item(drv, later["id"], timeout=25)
        WebDriverWait(drv, 25).until(lambda b: item.get_attribute("data-status") == "DONE")
    finally:
        drv.quit()


def test_warnings_are_shown_on_the_job_and_in_its_details(runner, tmp_path):
    owner = Client()
    one = owner.submit("latin1.csv", b"name,city\ncaf\xe9,Z\xfcrich\n", "json")
    two = owner.submit("page.html", b'<html><body><h1>x</h1><img src="http://example.com/a.png" alt="a">'
                                    b'<table><tr><td colspan=2>x</td></tr></table></body></html>', "pdf")
    assert len(owner.wait_status(one["id"])["warnings"]) == 1
    assert len(owner.wait_status(two["id"])["warnings"]) == 2
    drv = open_as(tmp_path, owner, "warnings")
    try:
        drv.get(BASE + "/")
        short = job_item(drv, one["id"])
        text = short.find_element(By.CSS_SELECTOR, ".warnings .warning-one")
        assert text.is_displayed() and "not valid UTF-8; it was read as" in text.text
        assert not short.find_element(By.CSS_SELECTOR, ".warnings .warning-list").is_displayed()
        many = job_item(drv, two["id"])
        listing = many.find_element(By.CSS_SELECTOR, ".warnings .warning-list")
        assert listing.is_displayed() and listing.get_attribute("open") is None  # collapsed
        assert listing.find_element(By.TAG_NAME, "summary").text.startswith("2 warnings")
        listing.find_element(By.TAG_NAME, "summary").click()
        items = [li.text for li in listing.find_elements(By.CSS_SELECTOR, "ul li")]
        assert len(items) == 2 and any("Merged" in i for i in items) and any("linked image" in i for i in items)
        # The details list them beside the history.
        many.find_element(By.CSS_SELECTOR, ".history summary").click()
        detail = many.find_elements(By.CSS_SELECTOR, ".history .detail-warnings li")
        assert [d.text for d in detail] == items
        WebDriverWait(drv, 10).until(lambda b: many.find_elements(By.CSS_SELECTOR, ".history .events li[data-kind=done]"))
        drv.save_screenshot(os.path.join(OUT, "ui-warnings.png"))
    finally:
        drv.quit()


def test_the_page_states_when_the_files_go_and_names_its_controls(runner, tmp_path):
    owner = Client()
    bad = owner.submit("broken.csv", b'name,value\n"unterminated,1\n', "json")
    assert owner.wait_status(bad["id"])["status"] == "FAILED"
    expires = owner.get("/api/usage").json()["expires_at"]
    drv = open_as(tmp_path, owner, "labels")
    try:
        drv.get(BASE + "/")
        assert "24 hours after your first upload" in drv.find_element(By.CSS_SELECTOR, ".lede").text
        expected = drv.execute_script(
            "return new Date(arguments[0]).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'})", expires)
        WebDriverWait(drv, 10).until(lambda b: "deleted" in b.find_element(By.ID, "expiry").text)
        said = drv.find_element(By.ID, "expiry").text
        assert re.search(rf"your files are deleted at {re.escape(expected)} (today|tomorrow), 24 h after your first upload", said), said

        item = job_item(drv, bad["id"])
        retry = item.find_element(By.CSS_SELECTOR, "button.retry")
        assert retry.get_attribute("aria-label") == "Retry broken.csv"
        retry.click()
        # The button goes with the failed state; focus stays on the job, and the retry is announced.
        WebDriverWait(drv, 10).until(lambda b: b.execute_script(
            "return document.activeElement && document.activeElement.closest('.job')?.dataset.id") == bad["id"])
        WebDriverWait(drv, 10).until(lambda b: "queued again" in b.find_element(By.ID, "live").get_attribute("textContent"))

        # Each staged file's target select is named after its file.
        src = tmp_path / "notes.md"
        src.write_text("# n\n")
        drv.find_element(By.ID, "file").send_keys(str(src))
        select = WebDriverWait(drv, 5).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#staged select.target"))[0]
        assert select.get_attribute("aria-label") == "Convert notes.md to"
    finally:
        drv.quit()


def test_download_names_keep_their_letters_in_the_ascii_fallback(runner):
    c = Client()
    job = c.submit("Quarterly report — Ünïcödé 报告 (v2).md", b"# Q\n", "html")
    assert c.wait_status(job["id"])["status"] == "DONE"
    r = c.get(f"/api/jobs/{job['id']}/output")
    cd = r.headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="Quarterly report - Unicode bao gao (v2).html"; '), cd
    assert "filename*=UTF-8''Quarterly%20report%20%E2%80%94%20" in cd
    # The whole name, for clients that read no filename* (the README's curl -o form).
    from urllib.parse import unquote
    name = c.job(job["id"])["output_filename"]
    assert name == "Quarterly report — Ünïcödé 报告 (v2).html" == unquote(cd.split("filename*=UTF-8''")[1])
    for given, named in [("noext", "noext.html"), (".hidden", "output.html"), ("a.b.md", "a.b.html")]:
        assert c.submit(given, b"# n\n", "html", extra={"from": "md"})["output_filename"] == named


def tab_to(drv, script, limit=40):
    """Presses Tab until `script` (JS, given the focused element as `el`) is true; the element."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    for _ in range(limit):
        ActionChains(drv).send_keys(Keys.TAB).perform()
        if drv.execute_script(f"const el = document.activeElement; return Boolean({script});"):
            return drv.switch_to.active_element
    raise AssertionError(f"Tab never reached: {script}")


def test_keyboard_only_from_file_to_download_with_no_serious_accessibility_violations(runner, tmp_path):
    """Every step by keyboard (the file itself chosen as a file dialog would, on the focused input);
    axe-core (Deque's rules, 4.9.1) finds nothing serious or critical on the page with a staged
    file, a done job and a failed one."""
    import json

    from selenium.webdriver.common.keys import Keys
    from selenium_axe_python import Axe
    d = tmp_path / "downloads-keys"
    d.mkdir()
    drv = browser(d)
    try:
        drv.get(BASE + "/")
        WebDriverWait(drv, 20).until(lambda b: "Accepted:" in b.find_element(By.ID, "accepted").text)
        src = tmp_path / "keys.csv"
        src.write_text("k,v\na,1\n")
        file_input = tab_to(drv, "el.id === 'file'")
        # The focused input shows it: its label is outlined.
        assert drv.execute_script("return getComputedStyle(document.querySelector('.drop .button')).outlineStyle") != "none"
        file_input.send_keys(str(src))
        select = tab_to(drv, "el.matches('#staged select.target')")
        select.send_keys("JSON")  # typing an option's name selects it
        assert select.get_attribute("value") == "json"
        tab_to(drv, "el.id === 'convert'").send_keys(Keys.ENTER)
        job = WebDriverWait(drv, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=DONE]"))[0]
        link = tab_to(drv, "el.matches('#jobs .job[data-status=DONE] a.download')")
        assert link.get_attribute("aria-label") == "Download keys.csv as JSON"
        link.send_keys(Keys.ENTER)
        deadline = time.time() + 15
        while not [f for f in os.listdir(d) if f == "keys.json"]:
            assert time.time() < deadline, os.listdir(d)
            time.sleep(0.2)
        time.sleep(0.3)
        assert json.loads((d / "keys.json").read_text()) == [{"k": "a", "v": 1}]

        # A failed job and a staged file too, then axe over the whole page.
        bad = tmp_path / "bad.csv"
        bad.write_text('x,y\n"open,1\n')
        drv.find_element(By.ID, "file").send_keys(str(bad))
        drv.find_element(By.ID, "convert").click()
        WebDriverWait(drv, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#jobs .job[data-status=FAILED]"))
        drv.find_element(By.ID, "file").send_keys(str(src))
        job.find_element(By.CSS_SELECTOR, ".history summary").click()
        axe = Axe(drv)
        axe.inject()
        results = axe.run()
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "axe.json"), "w") as f:
            json.dump(results, f, indent=1)
        serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results["violations"]
                   if v["impact"] in ("serious", "critical")]
        assert serious == [], serious
        drv.save_screenshot(os.path.join(OUT, "ui-keyboard.png"))
    finally:
        drv.quit()


# The listing's answer held back after it was read: the progress events that arrive meanwhile
# are newer, and the first of them made the page's item (an event carries no file name).
HOLD_LISTING = """
const realFetch = window.fetch;
window.fetch = async (url, init) => {
  const res = await realFetch(url, init);
  if (String(url).startsWith('/api/jobs?')) await new Promise((r) => setTimeout(r, 1500));
  return res;
};
"""


def test_a_job_first_seen_through_a_progress_event_gets_its_name(runner, tmp_path):
    owner = Client()
    slow = owner.submit("late-listing.md", b"# slow\n", "html", options={"debug_sleep_ms": 20000})
    owner.wait_status(slow["id"], statuses=("PROCESSING",))
    drv = open_as(tmp_path, owner, "late-listing", before_load=HOLD_LISTING)
    try:
        drv.get(BASE + "/")
        item = job_item(drv, slow["id"])
        # Events keep coming (progress every 50 ms): the state stays the events', the name is the listing's.
        WebDriverWait(drv, 6).until(
            lambda b: item.find_element(By.CSS_SELECTOR, "button.cancel").get_attribute("aria-label") == "Cancel late-listing.md")
        assert item.find_element(By.CSS_SELECTOR, ".name").text == "late-listing.md → HTML"
        assert item.get_attribute("data-status") == "PROCESSING"
    finally:
        drv.quit()
    assert owner.request("POST", f"/api/jobs/{slow['id']}/cancel").status_code == 200


def test_a_converting_job_is_canceled_from_the_page(runner, tmp_path):
    owner = Client()
    slow = owner.submit("slow.md", b"# slow\n", "html", options={"debug_sleep_ms": 20000})
    owner.wait_status(slow["id"], statuses=("PROCESSING",))
    drv = open_as(tmp_path, owner, "cancel")
    try:
        drv.get(BASE + "/")
        item = job_item(drv, slow["id"])
        cancel = item.find_element(By.CSS_SELECTOR, "button.cancel")
        assert cancel.is_displayed() and cancel.get_attribute("aria-label") == "Cancel slow.md"
        cancel.click()
        WebDriverWait(drv, 10).until(lambda b: item.get_attribute("data-status") == "CANCELED")
        assert item.find_element(By.CSS_SELECTOR, ".badge").text == "Canceled"
        assert not item.find_element(By.CSS_SELECTOR, "button.cancel").is_displayed()
        assert not item.find_element(By.CSS_SELECTOR, "a.download").is_displayed()
        WebDriverWait(drv, 5).until(lambda b: "canceled" in b.find_element(By.ID, "live").get_attribute("textContent"))
        drv.save_screenshot(os.path.join(OUT, "ui-canceled.png"))
    finally:
        drv.quit()
    assert owner.job(slow["id"])["status"] == "CANCELED"
