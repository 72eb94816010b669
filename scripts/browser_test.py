#!/usr/bin/env python3
"""The reviewer console in headless Chromium, driven by Selenium through Debian's chromedriver.

scripts/browser-test runs this against a live `gate-api serve` (EMAIL_DELIVERY=outbox,
background workers on) with throwaway Postgres and Redis, and passes in:

  BROWSER_TEST_BASE_URL        http://127.0.0.1:PORT of the server
  BROWSER_TEST_SCREENSHOT_DIR  where the screenshots (NN-name.png) go
  GATE_API_BIN                 the gate-api binary; with the server's environment it mints
                               sign-in links (`gate-api console link`)
  BROWSER_TEST_AGENT_KEY       workspace acme, jobs:write/read, acting for agent-bot
  BROWSER_TEST_OWN_KEY         workspace acme, jobs:write/read, acting for the reviewer herself
  BROWSER_TEST_ADMIN_KEY       workspace acme, every grantable scope (approvals and audit reads)
  BROWSER_TEST_OTHER_KEY       workspace globex (the reviewer is no member), every scope
  BROWSER_TEST_OIDC_ISSUER     the identity provider the server signs people in with
                               (scripts/oidc_stand_in.py), which knows the reviewer as #login-rita

The server's environment (DATABASE_URL, JWT_SECRET, …) is inherited, so `run.cli(…)` runs
the CLI as an operator would: to make workspaces and keys, or mint a JWT.

`browser_test.py [SCENARIO...]` runs the scenarios named (all by default, in file order);
`--list` names them. Each scenario is a function decorated with @scenario that takes the
Run: `run.signed_in()` gives a browser with a reviewer's session, `run.browser()` a fresh
one, `run.api` the HTTP API, `b.shot(name)` a numbered screenshot. Browsers are closed
after their scenario; a failing scenario leaves failure-<scenario>-<n>.png/.html beside
the screenshots and the others still run. More scenarios (audit export, admin pages) are
functions of the same shape.
"""
import base64
import concurrent.futures
import datetime
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
WORKSPACE = "acme"
OTHER_WORKSPACE = "globex"
REVIEWER = "rita@acme.example"
REVIEWER_SCOPES = f"{WORKSPACE}=approvals:read,approvals:decide,jobs:read"
PHONE = (390, 844)


class Failure(AssertionError):
    pass


def check(condition, message):
    """An assertion that survives `python -O` and says what was expected."""
    if not condition:
        raise Failure(message)


def wait_until(what, predicate, timeout=10.0, interval=0.2):
    """Polls predicate() until it returns something truthy (which is returned)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (Failure, WebDriverException) as error:
            last_error = error
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout:g} s" + (f" (last: {last_error})" if last_error else ""))
        time.sleep(interval)


# ---------------------------------------------------------------- the HTTP API


class Api:
    """The JSON API, as agents and operators use it (urllib: nothing to pin)."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, key, body=None, headers=None, expect=(200,)):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept": "application/json",
                     **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        check(status in expect, f"{method} {path}: expected HTTP {' or '.join(map(str, expect))}, got {status}: {text[:500]}")
        return json.loads(text) if text else None

    def submit_email(self, key, subject, *, to=("Ann Example <ann@example.com>",), text="Hello Ann,\n\nSee you soon.",
                     html=None, workspace=WORKSPACE):
        params = {"to": list(to), "subject": subject, "text": text}
        if html is not None:
            params["html"] = html
        job = self.call("POST", f"/v1/workspaces/{workspace}/jobs", key, {"action": "gmail.send", "params": params},
                        {"Idempotency-Key": f"browser-{uuid.uuid4()}"}, expect=(201, 202))
        check(job.get("status") == "pending_approval", f"a gmail.send job starts pending_approval, got {job.get('status')}")
        return job

    def job(self, key, job_id, workspace=WORKSPACE):
        return self.call("GET", f"/v1/workspaces/{workspace}/jobs/{job_id}", key)

    def approval_of(self, key, job_id, workspace=WORKSPACE):
        """The pending approval of a job (the API's queue, read with a key holding approvals:read)."""
        def find():
            items = self.call("GET", f"/v1/workspaces/{workspace}/approvals?limit=100", key)["items"]
            return next((item for item in items if item.get("job_id") == job_id), None)
        return wait_until(f"the approval of {job_id} in the API's queue", find, timeout=5)

    def wait_for_status(self, key, job_id, wanted, timeout=30.0):
        seen = []

        def reached():
            status = self.job(key, job_id)["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            return status == wanted
        try:
            wait_until(f"job {job_id} {wanted}", reached, timeout=timeout)
        except Failure as failure:
            raise Failure(f"{failure}; its statuses seen: {' → '.join(seen)}") from None
        return self.job(key, job_id)

    def audit(self, key, action, workspace=WORKSPACE):
        query = urllib.parse.urlencode({"action": action, "limit": 500})
        return self.call("GET", f"/v1/workspaces/{workspace}/audit?{query}", key)["items"]


# ---------------------------------------------------------------- the browser


# Runs before every page's own scripts (CDP, so the page's CSP does not apply): notes when
# the queue's EventSource is connected, so a test can wait for it instead of sleeping.
EVENT_SOURCE_PROBE = """
(function () {
  var Original = window.EventSource;
  if (!Original) return;
  window.__gateStreams = [];
  window.EventSource = function (url, options) {
    var source = new Original(url, options);
    var record = {url: String(url), open: false, events: 0};
    window.__gateStreams.push(record);
    source.addEventListener("open", function () { record.open = true; });
    source.addEventListener("queue", function () { record.events += 1; });
    return source;
  };
  window.EventSource.prototype = Original.prototype;
})();
"""

# Browser console lines that mean the console itself is broken: uncaught script errors,
# and its own scripts, styles or fetches refused by its CSP. (Remote images refused
# inside the e-mail frame, and 4xx answers the test provokes, are expected.)
BROKEN_CONSOLE = ("Uncaught", "Refused to execute", "Refused to apply", "Refused to load the script",
                  "Refused to load the stylesheet", "Refused to connect", "Refused to frame")


class Browser:
    def __init__(self, run, label):
        self.run, self.label = run, label
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--lang=en-US", "--no-first-run", "--no-default-browser-check"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": EVENT_SOURCE_PROBE})
        self.documents = []  # (url, HTTP status) of every page loaded, oldest first
        self.navigations = []  # (method, url) of every document request, redirects' hops included, oldest first
        self.requests = {}  # request id → {"method", "url", "headers" (as sent)}
        self.console_lines = []

    # -- navigation

    def go(self, path):
        url = path if path.startswith("http") else self.run.base + path
        self.driver.get(url)
        return self

    @property
    def path(self):
        """The current URL's path and query, e.g. /console/w/acme/approvals?done=approved."""
        parts = urllib.parse.urlsplit(self.driver.current_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def mark_page(self):
        """Marks the document shown, for new_page_loaded: a new page has no mark."""
        mark = uuid.uuid4().hex
        self.driver.execute_script("window.__browserTestMark = arguments[0]", mark)
        return mark

    def new_page_loaded(self, mark):
        """True once a page without `mark` has loaded. (Selenium's staleness_of can fail with
        "Node with given id does not belong to the document" while Chromium navigates.)"""
        try:
            return self.driver.execute_script(
                "return window.__browserTestMark !== arguments[0] && document.readyState === 'complete'", mark)
        except WebDriverException:  # between two documents
            return False

    def click_and_wait(self, css, timeout=15):
        """Clicks something that loads a new page (a form's button, a link) and waits for it."""
        element = self.find(css)
        mark = self.mark_page()
        element.click()
        try:
            WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda _: self.new_page_loaded(mark))
        except TimeoutException:
            raise Failure(f"clicking {css} on {self.path} loaded no new page within {timeout} s") from None
        return self

    def status(self):
        """The HTTP status of the page shown (the last document response Chromium received
        for its URL; frames' documents have URLs of their own)."""
        self._drain_logs()
        url = self.driver.current_url.split("#")[0]
        statuses = [status for document_url, status in self.documents if document_url == url]
        check(statuses, f"no response for the page shown ({url}) was seen")
        return statuses[-1]

    def _drain_logs(self):
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method"), message.get("params", {})
            if method == "Network.responseReceived" and params.get("type") == "Document":
                self.documents.append((params["response"]["url"], params["response"]["status"]))
            elif method == "Network.requestWillBeSent":
                if params.get("type") == "Document":
                    self.navigations.append((params["request"]["method"], params["request"]["url"]))
                request = self.requests.setdefault(params["requestId"], {"headers": {}})
                request.update(method=params["request"]["method"], url=params["request"]["url"])
            elif method == "Network.requestWillBeSentExtraInfo":
                headers = {name.lower(): value for name, value in params.get("headers", {}).items()}
                self.requests.setdefault(params["requestId"], {"headers": {}})["headers"].update(headers)
        self.console_lines += [entry["message"] for entry in self.driver.get_log("browser")]

    def navigated(self, path):
        """The URLs of every page request to PATH (redirects' hops included), oldest first."""
        self._drain_logs()
        return [url for _, url in self.navigations if urllib.parse.urlsplit(url).path == path]

    def sent(self, method, path):
        """The headers (lower-case names) of the last METHOD request to PATH, as Chromium sent them."""
        self._drain_logs()
        for request in reversed(list(self.requests.values())):
            if request.get("method") == method and urllib.parse.urlsplit(request.get("url", "")).path == path:
                return request["headers"]
        return None

    def broken_console_lines(self):
        self._drain_logs()
        return [line for line in self.console_lines if any(mark in line for mark in BROKEN_CONSOLE)]

    # -- reading the page

    def find(self, css):
        try:
            return self.driver.find_element(By.CSS_SELECTOR, css)
        except NoSuchElementException:
            raise Failure(f"{self.path}: no element {css}; the page says: {self.body_text()[:400]!r}") from None

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text

    def body_text(self):
        try:
            return self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            return ""

    def flash(self):
        found = self.finds(".flash")
        return found[0].text if found else None

    # -- screenshots

    def shot(self, name):
        return self.run.screenshot(self, name)

    def phone_shot(self, name):
        """A screenshot at phone width (a mobile viewport, as a phone's browser lays it out),
        and how far the page then scrolls sideways (0 when it fits)."""
        width, height = PHONE
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        try:
            overflow = self.driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return self.run.screenshot(self, name, phone=True), overflow

    # -- the console

    def sign_in(self, link):
        """Opens a sign-in link and presses its button (the link is spent only by the POST)."""
        self.go(link)
        return self.press_sign_in()

    def press_sign_in(self):
        """Presses the sign-in page's button; says why when the server refused where it came from."""
        self.click_and_wait("#sign-in")
        if self.path.startswith("/console/signin") and "must start from this console" in self.body_text():
            origin = (self.sent("POST", "/console/signin") or {}).get("origin")
            raise Failure(f"the sign-in button was refused ({self.status()}: {self.text('p.explain')!r}); Chromium sent "
                          f"Origin: {origin}" + (" (a page served with Referrer-Policy: no-referrer makes browsers send "
                                                  "Origin: null on its form posts)" if origin == "null" else ""))
        return self

    def sign_in_over_http(self, link):
        """Spends a sign-in link as the button's POST would, without the page (http.client,
        no Origin header), and gives this browser the session cookie the server set."""
        base = urllib.parse.urlsplit(self.run.base)
        token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["link"][0]
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=15)
        try:
            connection.request("POST", "/console/signin", urllib.parse.urlencode({"link": token}),
                               {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            response.read()
            set_cookie, location = response.getheader("Set-Cookie"), response.getheader("Location")
        finally:
            connection.close()
        check(response.status == 303 and set_cookie and location,
              f"redeeming a sign-in link answered {response.status}, Set-Cookie {set_cookie!r}, Location {location!r}")
        pair, *attributes = [part.strip() for part in set_cookie.split(";")]
        name, value = pair.split("=", 1)
        cookie = {"name": name, "value": value, "path": "/console", "httpOnly": False, "secure": False}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            match key.lower():
                case "path": cookie["path"] = val
                case "httponly": cookie["httpOnly"] = True
                case "secure": cookie["secure"] = True
                case "samesite": cookie["sameSite"] = val
        self.go("/console/signin")  # a cookie is set for the page's own site
        self.driver.add_cookie(cookie)
        self.go(location)
        return self

    def submit_form(self, button_css):
        self.click_and_wait(button_css)
        return self

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 -- closing a browser that already died
            pass


# ---------------------------------------------------------------- scenarios and their run


SCENARIOS = []


def scenario(function):
    SCENARIOS.append(function)
    return function


class Run:
    def __init__(self):
        self.base = os.environ["BROWSER_TEST_BASE_URL"].rstrip("/")
        self.shots_dir = os.environ["BROWSER_TEST_SCREENSHOT_DIR"]
        self.gate_api = os.environ["GATE_API_BIN"]
        self.agent_key = os.environ["BROWSER_TEST_AGENT_KEY"]
        self.own_key = os.environ["BROWSER_TEST_OWN_KEY"]
        self.admin_key = os.environ["BROWSER_TEST_ADMIN_KEY"]
        self.other_key = os.environ["BROWSER_TEST_OTHER_KEY"]
        self.oidc_issuer = os.environ.get("BROWSER_TEST_OIDC_ISSUER", "").rstrip("/")
        self.api = Api(self.base)
        self.shot_count = 0
        self.browsers = []
        self.tag = uuid.uuid4().hex[:6]  # in subjects, so a message is this run's

    def screenshot(self, browser, name, phone=False):
        """The whole page as NN-name.png: the viewport is made as tall as the page for the
        shot (Chromium's capture beyond the viewport leaves the sandboxed frame blank)."""
        self.shot_count += 1
        path = os.path.join(self.shots_dir, f"{self.shot_count:02d}-{name}.png")
        driver = browser.driver
        width, height = PHONE if phone else driver.execute_script(
            "return [document.documentElement.clientWidth, window.innerHeight]")
        try:
            for _ in range(2):  # at this width, then as tall as the page is at this width
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone})
                height = min(max(driver.execute_script("return document.documentElement.scrollHeight"), height), 8000)
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(0.2)  # frames lay out again at the new size
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        return path

    def browser(self, label="browser"):
        browser = Browser(self, label)
        self.browsers.append(browser)
        return browser

    def cli(self, *arguments):
        """`gate-api ARGUMENTS…` with the server's environment; the last line it printed."""
        done = subprocess.run([self.gate_api, *arguments], capture_output=True, text=True, timeout=60)
        check(done.returncode == 0, f"gate-api {' '.join(arguments[:2])} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        lines = done.stdout.strip().splitlines()
        return lines[-1] if lines else ""

    def link(self, sub=REVIEWER, ws=REVIEWER_SCOPES, ttl=None):
        """A single-use sign-in link, from the CLI as an operator makes one."""
        link = self.cli("console", "link", "--sub", sub, "--ws", ws, *(["--ttl", str(ttl)] if ttl else []))
        check(link.startswith(self.base + "/console/signin?link=gsl_"), f"unexpected sign-in link {link!r}")
        return link

    def signed_in(self, sub=REVIEWER, ws=REVIEWER_SCOPES, label="reviewer", via="http"):
        """A browser with a session of `sub`. Through the sign-in page's button (via="button",
        what scenarios about signing in use), or by redeeming the link over HTTP and giving
        the browser the cookie (the others: quicker, and a broken sign-in page fails
        sign_in alone instead of every scenario)."""
        browser = self.browser(label)
        if via == "button":
            browser.sign_in(self.link(sub, ws))
        else:
            browser.sign_in_over_http(self.link(sub, ws))
        check(browser.path.startswith("/console/w/") or browser.path == "/console",
              f"signing in led to {browser.path}: {browser.body_text()[:300]!r}")
        check(browser.finds("form.signout"), f"after signing in, {browser.path} shows no sign-out form: {browser.body_text()[:300]!r}")
        return browser

    def approval_path(self, approval_id, workspace=WORKSPACE):
        return f"/console/w/{workspace}/approvals/{approval_id}"

    def submit_for_review(self, subject, key=None, **params):
        """A gmail.send job the reviewer may decide on, and its approval (from the API)."""
        job = self.api.submit_email(key or self.agent_key, subject, **params)
        approval = self.api.approval_of(self.admin_key, job["id"])
        return job, approval

    def close_browsers(self, failed_scenario=None):
        """Quits the scenario's browsers: after a failure with a screenshot and the page of
        each, after a pass with a check of their consoles for script and CSP errors."""
        broken = []
        for number, browser in enumerate(self.browsers, 1):
            try:
                if failed_scenario:
                    stem = os.path.join(self.shots_dir, f"failure-{failed_scenario}-{number}-{browser.label}")
                    browser.driver.save_screenshot(stem + ".png")
                    with open(stem + ".html", "w", encoding="utf-8") as page:
                        page.write(f"<!-- {browser.driver.current_url} -->\n" + browser.driver.page_source)
                    print(f"    {browser.label} was at {browser.path}; saved {stem}.png/.html", file=sys.stderr)
                else:
                    broken += [f"{browser.label}: {line}" for line in browser.broken_console_lines()]
            except WebDriverException as error:
                print(f"    (could not read {browser.label}'s browser: {error.msg})", file=sys.stderr)
            finally:
                browser.quit()
        self.browsers = []
        check(not broken, f"the browser console shows errors: {broken}")


def queue_path(workspace=WORKSPACE):
    return f"/console/w/{workspace}/approvals"


def pending_count(browser):
    text = browser.text("#pending-count").strip()
    check(text.isdigit(), f"#pending-count is not a number: {text!r}")
    return int(text)


# 1 -------------------------------------------------------------------------------------
@scenario
def sign_in(run):
    """A console link signs the reviewer in once; the queue lists what waits for her."""
    jobs = [run.submit_for_review(f"Quarterly report {run.tag} #{n}") for n in (1, 2)]
    link = run.link()

    b = run.browser("reviewer")
    b.go(link)
    check(b.status() == 200, f"the sign-in page answered {b.status()}")
    check("Sign in to the GateAPI console" in b.text("h1"), f"sign-in page heading: {b.text('h1')!r}")
    check(b.find("#sign-in").is_displayed(), "the sign-in button is not visible")
    b.shot("signin")
    b.press_sign_in()
    check(b.path == queue_path(), f"after signing in the browser is at {b.path}, not the queue")
    check(REVIEWER in b.text("header .who"), f"the header names {b.text('header .who')!r}, not {REVIEWER}")
    check(b.text("h1").startswith("Waiting for a decision"), f"queue heading: {b.text('h1')!r}")
    for job, approval in jobs:
        rows = b.finds(f'tr[data-approval="{approval["id"]}"]')
        check(len(rows) == 1, f"the queue has {len(rows)} rows for {approval['id']} ({job['params']['subject']})")
        row = rows[0].text
        check(job["params"]["subject"] in row and "ann@example.com" in row,
              f"the row of {approval['id']} does not show recipient and subject: {row!r}")
        check("agent-bot" in row, f"the row of {approval['id']} does not say whom the key acts for: {row!r}")
        link_ = rows[0].find_element(By.CSS_SELECTOR, "a").get_attribute("href")
        check(link_.endswith(run.approval_path(approval["id"])), f"the row links to {link_}")
    rows = b.finds("tr[data-approval]")
    check(pending_count(b) == len(rows), f"#pending-count says {pending_count(b)}, the table has {len(rows)} rows")
    b.shot("queue")
    _, overflow = b.phone_shot("queue-phone")
    check(overflow <= 0, f"at {PHONE[0]} px wide the queue page scrolls sideways by {overflow} px")

    # The same link again, in another browser: refused, and no session.
    again = run.browser("second-use")
    again.sign_in(link)
    check(again.path.startswith("/console/signin"), f"a used link led to {again.path}")
    check("already used" in again.body_text(), f"a used link's page does not say so: {again.body_text()[:300]!r}")
    check(not again.finds("form.signout"), "a used link signed the browser in")
    again.shot("signin-link-used")
    again.go(queue_path())
    check(again.path.startswith("/console/signin"), f"without a session the queue URL led to {again.path}")


# 2 -------------------------------------------------------------------------------------
class ImageServer:
    """A loopback HTTP server standing in for a remote image host; counts its requests."""

    PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5b6"
                        "8a8f0000000049454e44ae426082")

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(ImageServer.PNG)))
                self.end_headers()
                self.wfile.write(ImageServer.PNG)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pixel.png"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@scenario
def approve(run):
    """The approval page previews the exact message; approving it sends it to the outbox."""
    images = ImageServer()
    try:
        _approve(run, images)
    finally:
        images.close()


def _approve(run, images):
    subject = f"Launch plan {run.tag}"
    text = "Hi Ann,\n\nThe launch is on Tuesday.\n\nRita"
    html = (f'<p>Hi <b>Ann</b>, the launch is on Tuesday.</p><p id="s">static</p>'
            f'<script>document.getElementById("s").textContent = "script ran"</script>'
            f'<img id="pixel" src="{images.url}" alt="tracking pixel" width="1" height="1">')
    job, approval = run.submit_for_review(subject, to=["Ann Example <ann@example.com>"], text=text, html=html)

    b = run.signed_in()
    b.click_and_wait(f'tr[data-approval="{approval["id"]}"] a')
    check(b.path == run.approval_path(approval["id"]), f"the queue's link led to {b.path}")
    check(b.text("h1").startswith("gmail.send"), f"approval page heading: {b.text('h1')!r}")
    headers = b.text("#headers")
    check("ann@example.com" in headers and "Ann Example" in headers, f"#headers does not show the recipient: {headers!r}")
    check(f"Subject: {subject}" in headers, f"#headers does not show 'Subject: {subject}': {headers!r}")
    check(b.text("#text-body") == text, f"#text-body is {b.text('#text-body')!r}, the job's text is {text!r}")
    check(b.text("#payload-hash") == job["payload_hash"],
          f"#payload-hash {b.text('#payload-hash')!r} is not the job's {job['payload_hash']!r}")
    check(job["id"] in b.body_text(), "the approval page does not name the job")
    check("agent-bot" in b.body_text(), "the approval page does not say whom the submitting key acts for")

    frame = b.find("iframe#html-body")
    sandbox = frame.get_dom_attribute("sandbox")
    check(sandbox is not None, "the HTML body's iframe has no sandbox attribute")
    check("allow-scripts" not in sandbox and "allow-same-origin" not in sandbox, f"the iframe's sandbox allows {sandbox!r}")
    b.driver.switch_to.frame(frame)
    try:
        body = wait_until("the HTML body in its frame", lambda: b.driver.find_element(By.TAG_NAME, "body").text)
        check("the launch is on Tuesday" in body, f"the frame shows {body!r}")
        check(b.driver.find_element(By.ID, "s").text == "static", "a script in the email's HTML ran in the console")
        loaded = b.driver.execute_script("var i = document.getElementById('pixel'); return i.complete && i.naturalWidth > 0")
        check(not loaded, "the remote image was shown before the reviewer asked for it")
    finally:
        b.driver.switch_to.default_content()
    time.sleep(0.5)
    check(not images.hits, f"the remote image was fetched before the reviewer asked for it: {images.hits}")
    b.shot("approval")
    _, overflow = b.phone_shot("approval-phone")
    check(overflow <= 0, f"at {PHONE[0]} px wide the approval page scrolls sideways by {overflow} px")

    # Remote images on request: the frame now fetches them (and still runs no script).
    b.click_and_wait("#show-images")
    check("images=remote" in b.path, f"'show them' led to {b.path}")
    wait_until("the remote image fetched after 'show them'", lambda: images.hits, timeout=10)
    b.driver.switch_to.frame(b.find("iframe#html-body"))
    try:
        check(b.driver.find_element(By.ID, "s").text == "static", "with remote images, a script in the email's HTML ran")
    finally:
        b.driver.switch_to.default_content()
    b.shot("approval-remote-images")

    b.find("#comment").send_keys("Looks right — ship it")
    b.submit_form("#approve")
    check(b.path == run.approval_path(approval["id"]) + "?done=approved", f"approving led to {b.path}")
    check(b.flash() == "You approved this job.", f"the flash after approving says {b.flash()!r}")
    check(b.text("h1 .status") == "approved", f"the page's status is {b.text('h1 .status')!r}")
    votes = b.text("ul.votes")
    check(f"{REVIEWER} approved at" in votes and "Looks right — ship it" in votes, f"the votes list is {votes!r}")
    check(not b.finds("#approve"), "a decided approval still offers the approve button")
    b.shot("approved")

    done = run.api.wait_for_status(run.agent_key, job["id"], "succeeded", timeout=30)
    check(done["status"] == "succeeded", f"the job is {done['status']}")

    b.click_and_wait('nav a[href$="/outbox"]')
    check(b.path == f"/console/w/{WORKSPACE}/outbox", f"the Outbox link led to {b.path}")
    rows = [row for row in b.finds("#outbox tbody tr") if subject in row.text]
    check(len(rows) == 1, f"the outbox lists {len(rows)} messages with subject {subject!r}: {b.text('#outbox')!r}")
    check("ann@example.com" in rows[0].text, f"the outbox row does not show the recipient: {rows[0].text!r}")
    b.shot("outbox")
    b.click_and_wait(f'#outbox a[href$="/outbox/{job["id"]}"]')
    raw = b.text("#raw-message")
    check(f"Subject: {subject}" in raw, f"the raw message has no 'Subject: {subject}' line: {raw[:800]!r}")
    check("ann@example.com" in raw, f"the raw message does not name the recipient: {raw[:800]!r}")
    check(REVIEWER in b.text("header .who"),
          f"the outbox message's header names {b.text('header .who')!r} as the signed-in person, not {REVIEWER}")
    b.shot("outbox-message")


# 3 -------------------------------------------------------------------------------------
@scenario
def reject(run):
    """Rejecting takes a reason code and a reason, which the agent receives verbatim."""
    job, approval = run.submit_for_review(f"Invoice for Bob {run.tag}", to=["Bob <bob@example.com>"])
    reason = "Wrong recipient: Bob <bob@example.com> left; 1+1 & \"quotes\" — ask Ann first."

    b = run.signed_in()
    b.go(run.approval_path(approval["id"]))
    # No reason: the browser does not send the form (the field is required).
    mark = b.mark_page()
    b.find("#reject").click()
    time.sleep(0.5)
    check(b.driver.execute_script("return window.__browserTestMark") == mark and "?done=" not in b.path,
          "the reject form was sent without a reason")
    check(b.driver.execute_script("return document.getElementById('reason').validity.valueMissing"),
          "the empty reason field is not flagged as missing")

    Select(b.find("#code")).select_by_value("wrong_recipient")
    b.find("#reason").send_keys(reason)
    b.shot("reject-filled")
    b.submit_form("#reject")
    check(b.path == run.approval_path(approval["id"]) + "?done=rejected", f"rejecting led to {b.path}")
    check((b.flash() or "").startswith("You rejected this job"), f"the flash after rejecting says {b.flash()!r}")
    check(b.text("h1 .status") == "rejected", f"the page's status is {b.text('h1 .status')!r}")
    votes = b.text("ul.votes")
    check(f"{REVIEWER} rejected at" in votes, f"the votes list is {votes!r}")
    check(f"Reason: {reason} (wrong_recipient)" in b.body_text(),
          f"the page does not show the reason and its code: {b.text('main')[-600:]!r}")
    b.shot("rejected")

    rejected = run.api.job(run.agent_key, job["id"])
    check(rejected["status"] == "rejected", f"the job is {rejected['status']}, not rejected")
    check(rejected.get("status_reason") == reason,
          f"the job's status_reason is {rejected.get('status_reason')!r}, not the reason verbatim {reason!r}")


# 4 -------------------------------------------------------------------------------------
@scenario
def refusals(run):
    """Her own job, a tampered payload hash and a form without its CSRF token are refused."""
    b = run.signed_in()

    # (a) A job a key acting for her submitted.
    own, own_approval = run.submit_for_review(f"Rita's own note {run.tag}", key=run.own_key)
    b.go(run.approval_path(own_approval["id"]))
    b.find("#comment").send_keys("my own")
    b.submit_form("#approve")
    check(b.status() == 403, f"approving her own job answered {b.status()}, not 403")
    flash = b.find(".flash.flash-error").text
    check("You cannot decide on this job: you submitted it" in flash, f"the refusal says {flash!r}")
    b.shot("refused-own-job")
    check(run.api.job(run.own_key, own["id"])["status"] == "pending_approval", "her own job left pending_approval")

    # (b) The payload hash on the form is not the job's.
    job, approval = run.submit_for_review(f"Contract draft {run.tag}", html="<p>The draft.</p>")
    b.go(run.approval_path(approval["id"]))
    b.driver.execute_script(
        "var input = document.querySelector('form[action$=\"/approve\"] input[name=payload_hash]');"
        "input.value = input.value.split('').reverse().join('');")
    b.submit_form("#approve")
    check(b.status() == 409, f"a tampered payload hash answered {b.status()}, not 409")
    flash = b.find(".flash.flash-error").text
    check("What you reviewed is not what would run" in flash, f"the refusal says {flash!r}")
    check(b.finds("#approve"), "after a refused vote the page no longer offers a decision")
    b.shot("refused-payload-hash")
    # The refused page's own links still work (it was answered at the form's URL).
    b.click_and_wait("#show-images")
    check(b.status() == 200 and b.finds("#payload-hash"),
          f"'show them' on the refused page led to {b.path}: {b.status()} {b.body_text()[:300]!r}")
    check(run.api.job(run.agent_key, job["id"])["status"] == "pending_approval", "the job left pending_approval")

    # (c) A form without its CSRF token.
    b.go(run.approval_path(approval["id"]))
    b.driver.execute_script("document.querySelector('form[action$=\"/approve\"] input[name=csrf]').remove()")
    b.submit_form("#approve")
    check(b.status() == 403, f"a form without its CSRF token answered {b.status()}, not 403")
    check(b.text("h1") == "You are not allowed to do that", f"the error page's heading is {b.text('h1')!r}")
    check("security token" in b.text("p.explain"), f"the error page says {b.text('p.explain')!r}")
    b.shot("refused-csrf")
    check(run.api.job(run.agent_key, job["id"])["status"] == "pending_approval", "the job left pending_approval")

    def audited(action, target_approval=None, detail=None):
        def find():
            for event in run.api.audit(run.admin_key, action):
                text = json.dumps(event)
                if (target_approval is None or target_approval in text) and (detail is None or detail in text):
                    return event
            return None
        return wait_until(f"an audit event {action}" + (f" about {target_approval}" if target_approval else ""), find)

    audited("console.csrf_refused", detail="csrf_missing")
    audited("approval.vote_refused", own_approval["id"])
    audited("approval.vote_refused", approval["id"])


# 5 -------------------------------------------------------------------------------------
@scenario
def live_update(run):
    """A job submitted while the queue is open appears in it without a reload."""
    b = run.signed_in()
    b.go(queue_path())
    wait_until("the queue's live stream connected",
               lambda: b.driver.execute_script("return (window.__gateStreams || []).some(function (s) { return s.open; })"),
               timeout=10)
    b.driver.execute_script("window.__sameDocument = true")
    before = pending_count(b)
    job, approval = run.submit_for_review(f"Live one {run.tag}")
    try:
        WebDriverWait(b.driver, 10, poll_frequency=0.2).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-approval="{approval["id"]}"]'))
    except TimeoutException:
        streams = b.driver.execute_script("return window.__gateStreams")
        raise Failure(f"the new job's row did not appear within 10 s (streams: {streams})") from None
    check(b.driver.execute_script("return window.__sameDocument === true"), "the page was reloaded")
    check(f"Live one {run.tag}" in b.text(f'tr[data-approval="{approval["id"]}"]'), "the new row does not show the subject")
    check(pending_count(b) == before + 1, f"#pending-count went from {before} to {pending_count(b)}, not {before + 1}")
    b.shot("queue-live-update")


# 6 -------------------------------------------------------------------------------------
@scenario
def sign_out(run):
    """Signing out ends the session on the server, not only in this browser."""
    b = run.signed_in(via="button")
    b.go(queue_path())
    cookie = b.driver.get_cookie("gateapi_console")
    check(cookie and cookie.get("httpOnly"), f"the session cookie is missing or readable by scripts: {cookie}")
    check(cookie.get("sameSite") in ("Lax", "Strict"), f"the session cookie's SameSite is {cookie.get('sameSite')}")
    b.click_and_wait("form.signout button")
    check(b.path.startswith("/console/signin"), f"signing out led to {b.path}")
    check("You are signed out." in b.body_text(), f"the page after signing out says {b.body_text()[:300]!r}")
    check(not b.finds("form.signout"), "the page after signing out still offers to sign out")
    b.shot("signed-out")
    b.go(queue_path())
    check(b.path.startswith("/console/signin"), f"after signing out the queue URL led to {b.path}")

    # The old cookie, put back: the server no longer knows the session.
    b.driver.add_cookie({"name": cookie["name"], "value": cookie["value"], "path": cookie.get("path", "/console")})
    b.go(queue_path())
    check(b.path.startswith("/console/signin"), f"the signed-out session's cookie still opens {b.path}")
    check("Your session ended" in b.body_text(), f"the page for an ended session says {b.body_text()[:300]!r}")


# 7 -------------------------------------------------------------------------------------
@scenario
def foreign_workspace(run):
    """Another workspace's queue and approvals are not found for a reviewer who is no member."""
    job = run.api.submit_email(run.other_key, f"Globex secret {run.tag}", workspace=OTHER_WORKSPACE)
    approval = run.api.approval_of(run.other_key, job["id"], workspace=OTHER_WORKSPACE)
    b = run.signed_in()
    b.go(queue_path(OTHER_WORKSPACE))
    check(b.status() == 404 and b.text("h1") == "Not found", f"another workspace's queue: {b.status()} {b.text('h1')!r}")
    b.shot("foreign-workspace")
    for path in (run.approval_path(approval["id"], OTHER_WORKSPACE), run.approval_path(approval["id"])):
        b.go(path)
        check(b.status() == 404, f"{path} answered {b.status()}, not 404")
        check("Globex secret" not in b.driver.page_source, f"{path} shows the other workspace's job")


# 8 -------------------------------------------------------------------------------------
@scenario
def oidc_sign_in(run):
    """Signing in with the company account: OpenID Connect (code and PKCE) through a stand-in provider."""
    check(run.oidc_issuer, "BROWSER_TEST_OIDC_ISSUER is not set: no identity provider to sign in with")
    since = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(seconds=1)
    b = run.browser("reviewer")
    b.go("/console/signin")
    check(b.status() == 200, f"the sign-in page answered {b.status()}")
    check(b.find("#sign-in-oidc").is_displayed(), "the sign-in page offers no visible 'Sign in with your company account'")
    b.click_and_wait("#sign-in-oidc")

    # At the identity provider: the authorization request, and its login page.
    at = b.driver.current_url
    check(at.startswith(run.oidc_issuer + "/authorize?"), f"'Sign in with your company account' led to {at}")
    check(b.status() == 200, f"the provider's login page answered {b.status()}: {b.body_text()[:300]!r}")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(at).query)
    asked = {name: values[0] for name, values in query.items()}
    check(asked.get("response_type") == "code" and asked.get("code_challenge_method") == "S256"
          and asked.get("code_challenge") and asked.get("state") and asked.get("nonce"),
          f"the authorization request is not code + PKCE S256 with state and nonce: {asked}")
    check(asked.get("redirect_uri") == run.base + "/console/callback", f"the redirect_uri is {asked.get('redirect_uri')!r}")
    check("openid" in asked.get("scope", "").split(), f"the scope {asked.get('scope')!r} lacks openid")
    person = b.find("#login-rita")
    check(REVIEWER in person.text, f"the provider's button #login-rita says {person.text!r}")
    b.shot("oidc-provider")

    b.click_and_wait("#login-rita")
    check(b.path == queue_path(), f"after signing in at the provider the browser is at {b.path}: {b.body_text()[:300]!r}")
    check(b.status() == 200, f"the queue answered {b.status()}")
    check(REVIEWER in b.text("header .who"), f"the header names {b.text('header .who')!r}, not {REVIEWER}")
    check(b.finds("form.signout"), "after signing in with the provider the page offers no sign-out")
    check(b.text("h1").startswith("Waiting for a decision"), f"queue heading: {b.text('h1')!r}")
    b.shot("oidc-signed-in")

    # The provider's answer once more (the back button, a copied URL): spent, nobody signed in again.
    callbacks = b.navigated("/console/callback")
    check(len(callbacks) == 1, f"the browser went to the console's callback {len(callbacks)} times: {callbacks}")
    sent_back = urllib.parse.parse_qs(urllib.parse.urlsplit(callbacks[0]).query)
    check(sent_back.get("state") == [asked["state"]] and sent_back.get("code"),
          f"the provider sent the browser back without the code or with another state: {callbacks[0]}")
    b.go(callbacks[0])
    check(b.status() == 400 and "already used" in b.body_text(),
          f"the callback again answered {b.status()}: {b.body_text()[:300]!r}")
    b.go(queue_path())
    check(b.path == queue_path(), f"after the refused replay the session is gone: the queue URL led to {b.path}")

    # The audit log: a console.signed_in event, signed in with oidc.
    query = urllib.parse.urlencode({"action": "console.signed_in", "actor": REVIEWER,
                                    "from": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "limit": 100})

    def oidc_events():
        items = run.api.call("GET", f"/v1/workspaces/{WORKSPACE}/audit?{query}", run.admin_key)["items"]
        return [event for event in items if event.get("details", {}).get("with") == "oidc"]
    events = wait_until("a console.signed_in audit event with details.with = oidc", oidc_events)
    check(len(events) == 1, f"{len(events)} console.signed_in events with oidc, not 1: {events}")
    event = events[0]
    check(event["outcome"] == "success" and event["actor"]["type"] == "user" and event["actor"]["id"] == REVIEWER
          and event["target"]["type"] == "console_session" and event["workspace"] == WORKSPACE,
          f"the sign-in's audit event is {json.dumps(event)}")


# 9 -------------------------------------------------------------------------------------
@scenario
def bulk_approve(run):
    """Approving 50 at once from the queue: 47 decided, her own 2 and 1 decided meanwhile skipped."""
    # A workspace of its own, so that its queue is these 50 and nothing else.
    workspace = f"bulk-{run.tag}"
    run.cli("workspace", "create", workspace, "--name", f"Bulk decisions {run.tag} (browser test)")
    agent_key = run.cli("keys", "create", "--workspace", workspace, "--name", "bulk agent", "--scopes", "jobs:write,jobs:read",
                        "--acts-for", "bulk-bot", "--quiet")
    own_key = run.cli("keys", "create", "--workspace", workspace, "--name", "rita's bulk script", "--scopes",
                      "jobs:write,jobs:read", "--acts-for", REVIEWER, "--quiet")
    admin_key = run.cli("keys", "create", "--workspace", workspace, "--name", "bulk operator", "--scopes", "all",
                        "--acts-for", "ops-bot", "--quiet")

    own_numbers = (7, 31)

    def submit(number):
        return run.api.submit_email(own_key if number in own_numbers else agent_key, f"Bulk {run.tag} #{number:02d}",
                                    to=[f"Customer {number} <customer{number}@example.com>"], workspace=workspace)
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        jobs = list(pool.map(submit, range(1, 51)))
    own_jobs = {jobs[number - 1]["id"] for number in own_numbers}

    def pending_approvals():
        items = run.api.call("GET", f"/v1/workspaces/{workspace}/approvals?limit=100", admin_key)["items"]
        return items if len(items) == 50 else None
    approvals = {item["job_id"]: item for item in wait_until("the 50 approvals in the API's queue", pending_approvals)}
    check(set(approvals) == {job["id"] for job in jobs}, "the API's queue is not the 50 jobs submitted")
    own = {approvals[job_id]["id"] for job_id in own_jobs}
    values = {f"{item['id']}:{item['payload_hash']}" for item in approvals.values()}

    b = run.signed_in(ws=f"{workspace}=approvals:read,approvals:decide,jobs:read")
    b.go(queue_path(workspace))
    check(b.status() == 200, f"the queue answered {b.status()}")
    check(pending_count(b) == 50, f"#pending-count is {pending_count(b)}, not 50")
    check(not b.finds('a[rel="next"]'), "50 pending approvals do not fit on the queue's first page")
    boxes = b.finds("form#bulk input[type=checkbox][name=approval]")
    check(len(boxes) == 50, f"the queue has {len(boxes)} checkboxes, not 50")
    check({box.get_attribute("value") for box in boxes} == values,
          "the checkboxes' values are not the approvals' <id>:<payload hash>")
    # A few ticked as a person does; the rest by script (clicks too, for speed).
    for box in boxes[:3]:
        box.click()
    b.driver.execute_script(
        "document.querySelectorAll('form#bulk input[name=approval]').forEach(function (box) { if (!box.checked) box.click(); })")
    ticked = b.driver.execute_script(
        "return Array.from(document.querySelectorAll('form#bulk input[name=approval]:checked'), function (box) { return box.value; })")
    check(len(ticked) == 50 and set(ticked) == values, f"{len(ticked)} of the 50 are ticked")
    check(b.find('input[name=decision][value=approve]').is_selected(), "the bulk decision is not 'approve' by default")
    comment = f"Batch {run.tag}: all checked against the campaign list"
    b.find("#bulk-text").send_keys(comment)
    b.shot("bulk-selected")

    b.click_and_wait("#bulk-review")
    check(b.status() == 200, f"reviewing the selection answered {b.status()}: {b.body_text()[:300]!r}")
    check(b.text("h1") == "Approve 50 approvals?", f"the confirmation's heading is {b.text('h1')!r}")
    confirming = [field.get_attribute("value") for field in b.finds("form#bulk-confirm input[name=approval]")]
    check(len(confirming) == 50 and set(confirming) == values,
          f"the confirmation carries {len(confirming)} approvals, not the 50 selected")
    check(b.text("#bulk-confirm-button") == "Approve 50", f"the confirm button says {b.text('#bulk-confirm-button')!r}")
    check(comment in b.body_text(), "the confirmation does not show the comment")
    b.shot("bulk-confirm")

    # Meanwhile another reviewer (a JWT, through the API) approves one of them.
    meanwhile = approvals[next(job["id"] for job in jobs if job["id"] not in own_jobs)]
    bob = run.cli("token", "mint", "--sub", "bob@acme.example", "--ws", f"{workspace}=approvals:read,approvals:decide",
                  "--ttl", "600")
    voted = run.api.call("POST", f"/v1/workspaces/{workspace}/approvals/{meanwhile['id']}/approve", bob,
                         {"payload_hash": meanwhile["payload_hash"], "comment": "Approved while Rita was confirming"})
    check(voted["status"] == "approved", f"bob's approval left {meanwhile['id']} {voted['status']}")

    b.click_and_wait("#bulk-confirm-button")
    check(b.status() == 200, f"confirming answered {b.status()}: {b.body_text()[:300]!r}")
    check(b.text("h1") == "47 decided, 3 skipped", f"the result's heading is {b.text('h1')!r}")
    listed = b.driver.execute_script(
        "function read(css) { return Array.from(document.querySelectorAll(css), function (li) {"
        "  return [li.querySelector('a').textContent, li.textContent]; }); }"
        "return {skipped: read('ul#skipped li'), decided: read('ul#decided li')};")
    skipped, decided = dict(listed["skipped"]), dict(listed["decided"])
    check(set(skipped) == own | {meanwhile["id"]},
          f"skipped {sorted(skipped)}, not her own {sorted(own)} and {meanwhile['id']} (decided meanwhile)")
    for approval_id in own:
        check("you submitted it" in skipped[approval_id], f"her own {approval_id} is skipped as {skipped[approval_id]!r}")
    check("it was already decided" in skipped[meanwhile["id"]],
          f"the one decided meanwhile is skipped as {skipped[meanwhile['id']]!r}")
    expected = {item["id"] for item in approvals.values()} - own - {meanwhile["id"]}
    check(set(decided) == expected and len(listed["decided"]) == 47,
          f"decided: {len(decided)} approvals, {len(set(decided) ^ expected)} of them not the 47 expected")
    not_approved = {approval_id: text for approval_id, text in decided.items() if not text.endswith(": approved")}
    check(not not_approved, f"decided, but not approved: {not_approved}")
    b.shot("bulk-result")

    # The API: those 47 and the one decided meanwhile approved, their emails sent into the
    # outbox by the executors; her own two still wait for another reviewer.
    approved_jobs = {item["job_id"] for item in approvals.values() if item["id"] in expected} | {meanwhile["job_id"]}
    statuses = {}

    def all_sent():
        items = run.api.call("GET", f"/v1/workspaces/{workspace}/jobs?limit=100", admin_key)["items"]
        statuses.clear()
        statuses.update({item["id"]: item["status"] for item in items})
        return all(statuses.get(job_id) == "succeeded" for job_id in approved_jobs)
    try:
        wait_until("the 48 approved jobs succeeded", all_sent, timeout=60, interval=0.5)
    except Failure as failure:
        counts = {}
        for job_id in approved_jobs:
            counts[statuses.get(job_id)] = counts.get(statuses.get(job_id), 0) + 1
        raise Failure(f"{failure}; their statuses: {counts}") from None
    check(all(statuses[job_id] == "pending_approval" for job_id in own_jobs),
          f"her own jobs are {[statuses[job_id] for job_id in own_jobs]}, not still pending_approval")
    sample = run.api.call("GET", f"/v1/workspaces/{workspace}/approvals/{next(iter(expected))}", admin_key)
    check(any(vote["reviewer"] == f"user:{REVIEWER}" and vote["decision"] == "approve" and vote["comment"] == comment
              for vote in sample["votes"]), f"the approval's votes do not show hers with the comment: {sample['votes']}")


def main(argv):
    if argv[:1] == ["--list"]:
        for function in SCENARIOS:
            print(f"{function.__name__:20} {function.__doc__.strip()}")
        return 0
    names = {function.__name__: function for function in SCENARIOS}
    unknown = [name for name in argv if name not in names]
    if unknown:
        print(f"browser_test.py: no scenario {', '.join(unknown)}; there are {', '.join(names)}", file=sys.stderr)
        return 2
    chosen = [names[name] for name in argv] if argv else SCENARIOS

    run = Run()
    passed, failed = [], []
    for function in chosen:
        name = function.__name__
        start = time.monotonic()
        try:
            function(run)
            run.close_browsers()
        except Exception as error:  # noqa: BLE001 -- a scenario's failure, reported, and the next one runs
            print(f"FAIL {name} ({time.monotonic() - start:.1f} s): {function.__doc__.strip()}", file=sys.stderr)
            if isinstance(error, Failure):
                print(f"    {error}", file=sys.stderr)
            else:
                traceback.print_exc()
            run.close_browsers(failed_scenario=name)
            failed.append(name)
            continue
        print(f"ok   {name} ({time.monotonic() - start:.1f} s): {function.__doc__.strip()}", file=sys.stderr)
        passed.append(name)
    print(f"browser test: {len(passed)} scenarios passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else "") + f"; {run.shot_count} screenshots", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
