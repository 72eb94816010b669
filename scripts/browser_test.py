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
Run: `run.signed_in()` gives a browser with a reviewer's session (`sub=`, `ws=` for
someone else; `downloads=True` for one that saves downloads into `b.downloads`, see
`b.downloaded(pattern)`), `run.browser()` a fresh one, `run.api` the HTTP API,
`b.shot(name)` a numbered screenshot of the whole page (`max_height=` to keep only its
top). Browsers are closed after their scenario; a failing scenario leaves
failure-<scenario>-<n>.png/.html beside the screenshots and the others still run.
scripts/console-screenshots copies some of the screenshots into docs/console/.
"""
import base64
import concurrent.futures
import csv
import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
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

    def status(self, method, path, key):
        """Only the HTTP status of a request (body-less)."""
        request = urllib.request.Request(self.base + path, method=method,
                                         headers={"Authorization": f"Bearer {key}", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                response.read()
                return response.status
        except urllib.error.HTTPError as error:
            error.read()
            return error.code

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
    def __init__(self, run, label, downloads=None):
        """downloads: a directory that files the browser downloads go to, without asking."""
        self.run, self.label, self.downloads = run, label, downloads
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                         "--lang=en-US", "--no-first-run", "--no-default-browser-check"):
            options.add_argument(argument)
        if downloads:
            options.add_experimental_option("prefs", {
                "download.default_directory": downloads, "download.prompt_for_download": False,
                "download.directory_upgrade": True, "safebrowsing.enabled": False})
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        service = Service(executable_path=CHROMEDRIVER, log_output=subprocess.DEVNULL)
        self.driver = webdriver.Chrome(service=service, options=options)
        self.driver.set_page_load_timeout(30)
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": EVENT_SOURCE_PROBE})
        if downloads:
            # Headless Chromium may ignore the profile's download preferences: allow them over CDP too.
            self.driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                                        {"behavior": "allow", "downloadPath": downloads, "eventsEnabled": True})
        self.documents = []  # (url, HTTP status) of every page loaded, oldest first
        self.navigations = []  # (method, url) of every document request, redirects' hops included, oldest first
        self.requests = {}  # request id → {"method", "url", "headers" (as sent)}
        self.responses = {}  # request id → {"url", "status", "headers" (lower-case names, as received)}
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
            if method == "Network.responseReceived":
                response = params["response"]
                if params.get("type") == "Document":
                    self.documents.append((response["url"], response["status"]))
                record = self.responses.setdefault(params["requestId"], {"headers": {}})
                record.update(url=response["url"], status=response["status"])
                record["headers"].update({name.lower(): value for name, value in response.get("headers", {}).items()})
            elif method == "Network.responseReceivedExtraInfo":
                headers = {name.lower(): value for name, value in params.get("headers", {}).items()}
                self.responses.setdefault(params["requestId"], {"headers": {}})["headers"].update(headers)
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

    def received(self, path):
        """The last response to a request for PATH (its path and query): {"url", "status",
        "headers" (lower-case names)}, as Chromium received it, or None."""
        self._drain_logs()
        for request_id, request in reversed(list(self.requests.items())):
            parts = urllib.parse.urlsplit(request.get("url", ""))
            if parts.path + (f"?{parts.query}" if parts.query else "") == path and "status" in self.responses.get(request_id, {}):
                return self.responses[request_id]
        return None

    def downloaded(self, pattern, timeout=30):
        """The path of a finished download whose name matches the regular expression
        `pattern` (Chromium writes NAME.crdownload first and renames it when done)."""
        check(self.downloads, f"{self.label}'s browser was not started with a download directory")

        def finished():
            names = [name for name in os.listdir(self.downloads) if re.fullmatch(pattern, name)]
            return os.path.join(self.downloads, names[0]) if len(names) == 1 else None
        try:
            path = wait_until(f"a download named like {pattern}", finished, timeout=timeout, interval=0.2)
        except Failure as failure:
            raise Failure(f"{failure}; {self.downloads} holds {sorted(os.listdir(self.downloads))}") from None
        # Renamed when complete; its size no longer changes.
        size = -1
        while size != os.path.getsize(path):
            size = os.path.getsize(path)
            time.sleep(0.2)
        return path

    def nav_links(self):
        """The header's workspace navigation: {link text: href}."""
        return {link.text: link.get_attribute("href") for link in self.finds("header nav a")}

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

    def shot(self, name, max_height=8000):
        """A numbered screenshot of the page, as tall as it is up to max_height pixels."""
        return self.run.screenshot(self, name, max_height=max_height)

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
        self.scratch = tempfile.mkdtemp(prefix="browser-test-")  # downloads; removed by close()

    def close(self):
        shutil.rmtree(self.scratch, ignore_errors=True)

    def screenshot(self, browser, name, phone=False, max_height=8000):
        """The whole page (up to max_height pixels) as NN-name.png: the viewport is made as
        tall as the page for the shot (Chromium's capture beyond the viewport leaves the
        sandboxed frame blank)."""
        self.shot_count += 1
        path = os.path.join(self.shots_dir, f"{self.shot_count:02d}-{name}.png")
        driver = browser.driver
        width, height = PHONE if phone else driver.execute_script(
            "return [document.documentElement.clientWidth, window.innerHeight]")
        try:
            for _ in range(2):  # at this width, then as tall as the page is at this width
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": phone})
                height = min(max(driver.execute_script("return document.documentElement.scrollHeight"), height), max_height)
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(0.2)  # frames lay out again at the new size
            shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
        finally:
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        with open(path, "wb") as file:
            file.write(base64.b64decode(shot["data"]))
        return path

    def browser(self, label="browser", downloads=False):
        """A fresh browser; with downloads=True, one that saves downloads into a directory
        of its own (browser.downloads), removed after the run."""
        directory = tempfile.mkdtemp(prefix=f"downloads-{label}-", dir=self.scratch) if downloads else None
        browser = Browser(self, label, downloads=directory)
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

    def signed_in(self, sub=REVIEWER, ws=REVIEWER_SCOPES, label="reviewer", via="http", downloads=False):
        """A browser with a session of `sub`. Through the sign-in page's button (via="button",
        what scenarios about signing in use), or by redeeming the link over HTTP and giving
        the browser the cookie (the others: quicker, and a broken sign-in page fails
        sign_in alone instead of every scenario)."""
        browser = self.browser(label, downloads=downloads)
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
    static = "See you there, Rita"  # what the line says unless a script in the email ran
    html = (f'<p>Hi <b>Ann</b>,</p><p>the launch is on <b>Tuesday</b>; the <a href="https://example.com/plan">plan</a> '
            f'is in the shared folder.</p><p id="s">{static}</p>'
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
        check(b.driver.find_element(By.ID, "s").text == static, "a script in the email's HTML ran in the console")
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
        check(b.driver.find_element(By.ID, "s").text == static, "with remote images, a script in the email's HTML ran")
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

    # The job's page: its status and its timeline from the audit log, submission to delivery.
    # (Events are chained within about a second of their commit: reloaded until they show.)
    wanted = ["job.submitted", "approval.requested", "approval.granted", "job.execution_succeeded"]
    job_path = f"/console/w/{WORKSPACE}/jobs/{job['id']}"

    def timeline():
        b.go(job_path)
        check(b.status() == 200, f"{job_path} answered {b.status()}: {b.body_text()[:300]!r}")
        actions = [item.text for item in b.finds("#timeline li strong")]
        return actions if all(action in actions for action in wanted) else None
    actions = wait_until(f"the job page's #timeline showing {', '.join(wanted)}", timeline, timeout=10, interval=0.5)
    check([action for action in actions if action in wanted] == wanted,
          f"the timeline's events are not in the order {wanted}: {actions}")
    check(b.text("#job-status") == "succeeded", f"the job page's #job-status is {b.text('#job-status')!r}")
    check(job["id"] in b.text("dl.facts"), "the job page does not name the job")
    check(approval["id"] in b.text("dl.facts"), "the job page does not link its approval")
    granted = next(item.text for item in b.finds("#timeline li") if "approval.granted" in item.text)
    check(REVIEWER in b.text("#timeline") and "success" in granted, f"the timeline does not show her approval: {granted!r}")
    b.shot("job-timeline")


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
    b.shot("bulk-result", max_height=1000)  # its top: the heading, the skipped and the first decided

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


# 10 ------------------------------------------------------------------------------------
AUDITOR = "carol@acme.example"
AUDIT_COLUMNS = ["position", "seq", "occurred_at", "workspace", "actor_type", "actor_id", "actor_ip", "action",
                 "target_type", "target_id", "outcome", "request_id", "details", "prev_hash", "hash"]


def audit_rows(b):
    """The audit page's table: one {position, actor, action, target, outcome} per row."""
    rows = b.driver.execute_script(
        "return Array.from(document.querySelectorAll('#audit-events tbody tr'), function (tr) {"
        "  return Array.from(tr.cells, function (td) { return td.textContent.trim(); }); });")
    return [{"position": int(cells[0]), "at": cells[1], "actor": cells[2], "action": cells[3], "target": cells[4],
             "outcome": cells[5]} for cells in rows]


def verify_export(path):
    """scripts/verify-audit-export.py on a downloaded export: its JSON answer."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verify-audit-export.py")
    done = subprocess.run([sys.executable, "-B", script, path], capture_output=True, text=True, timeout=60)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise Failure(f"verify-audit-export.py {os.path.basename(path)} exited {done.returncode} without a JSON answer: "
                      f"{done.stdout[-300:]!r} {done.stderr[-500:]!r}") from None
    check(done.returncode == 0 and result.get("ok") is True,
          f"verify-audit-export.py {os.path.basename(path)} exited {done.returncode}: {result}")
    return result


@scenario
def compliance(run):
    """Compliance searches the audit log, verifies its chain and downloads exports that verify offline."""
    # Something to find: an approval granted by another reviewer through the API.
    job, approval = run.submit_for_review(f"Compliance sample {run.tag}")
    bob = run.cli("token", "mint", "--sub", "bob@acme.example", "--ws", f"{WORKSPACE}=approvals:read,approvals:decide",
                  "--ttl", "600")
    voted = run.api.call("POST", f"/v1/workspaces/{WORKSPACE}/approvals/{approval['id']}/approve", bob,
                         {"payload_hash": approval["payload_hash"], "comment": "For the compliance scenario"})
    check(voted["status"] == "approved", f"bob's approval left {approval['id']} {voted['status']}")

    b = run.signed_in(sub=AUDITOR, ws=f"{WORKSPACE}=audit:read,audit:export,approvals:read", label="auditor", downloads=True)
    audit_path = f"/console/w/{WORKSPACE}/audit"
    b.go(audit_path)
    check(b.status() == 200, f"the audit page answered {b.status()}: {b.body_text()[:300]!r}")
    check(b.text("h1") == "Audit log", f"the audit page's heading is {b.text('h1')!r}")
    check(b.nav_links().get("Audit", "").endswith(audit_path), f"the header's links are {b.nav_links()}")
    check(b.find('header nav a[href$="/audit"]').get_attribute("aria-current") == "page",
          "the header's Audit link is not marked as the current page")
    everything = audit_rows(b)
    check(everything, f"#audit-events lists no event: {b.body_text()[:400]!r}")
    positions = [row["position"] for row in everything]
    check(positions == sorted(positions) and len(set(positions)) == len(positions),
          f"the audit page's positions are not ascending and distinct: {positions[:20]}…")
    check(positions[0] == 1, f"the audit page (oldest first) starts at position {positions[0]}, not 1")
    b.shot("audit-all", max_height=1400)

    # Filtered by action, with the form.
    b.find('form.filters input[name=action]').send_keys("approval.granted")
    b.click_and_wait("form.filters button[type=submit]")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(b.path).query)
    check(urllib.parse.urlsplit(b.path).path == audit_path and query.get("action") == ["approval.granted"],
          f"searching for approval.granted led to {b.path}")
    check(b.status() == 200, f"the filtered audit page answered {b.status()}")
    check(b.find("form.filters input[name=action]").get_attribute("value") == "approval.granted",
          "the search form does not keep the action searched for")
    granted = audit_rows(b)
    pages = 1
    while not any(approval["id"] in row["target"] for row in granted) and b.finds('a[rel="next"]') and pages < 10:
        b.click_and_wait('a[rel="next"]')
        granted += audit_rows(b)
        pages += 1
    check(granted and all(row["action"] == "approval.granted" for row in granted),
          f"the search for approval.granted shows other actions: {sorted({row['action'] for row in granted})}")
    ours = [row for row in granted if approval["id"] in row["target"]]
    check(len(ours) == 1, f"the search lists {len(ours)} approval.granted events for {approval['id']}: {granted}")
    check(ours[0]["outcome"] == "success", f"the approval.granted event of {approval['id']} is {ours[0]}")
    api_granted = run.api.audit(run.admin_key, "approval.granted")
    if pages == 1 and not b.finds('a[rel="next"]'):
        check({row["position"] for row in granted} == {event["position"] for event in api_granted},
              f"the page lists positions {sorted(row['position'] for row in granted)}, the API "
              f"{sorted(event['position'] for event in api_granted)}")
    seen = set(positions) | {row["position"] for row in granted}
    b.go(f"{audit_path}?action=approval.granted")  # the first page again, for the screenshot
    b.shot("audit", max_height=1400)

    # The chain check.
    b.go(audit_path)
    b.click_and_wait("#verify-chain")
    check(b.path == f"{audit_path}/verify", f"'Verify the chain' led to {b.path}")
    check(b.status() == 200, f"the chain check answered {b.status()}: {b.body_text()[:300]!r}")
    check(b.text("#chain-result") == "intact", f"#chain-result says {b.text('#chain-result')!r}: {b.text('main')[:500]!r}")
    checked = b.text("#events-checked")
    check(checked.isdigit() and int(checked) >= max(seen), f"#events-checked is {checked!r}; positions up to {max(seen)} were seen")
    b.shot("audit-verify")

    # The exports: downloads (Content-Disposition: attachment), saved by the browser.
    b.go(audit_path)
    exports = {}
    for form in ("jsonl", "csv"):
        link = b.find(f"#export-{form}")
        href = urllib.parse.urlsplit(link.get_attribute("href"))
        check(href.path == f"{audit_path}/export" and f"format={form}" in href.query, f"#export-{form} links to {href.geturl()}")
        mark = b.mark_page()
        link.click()
        exports[form] = b.downloaded(rf"audit-{WORKSPACE}-[0-9TZ.\-]+\.{form}")
        check(b.driver.execute_script("return window.__browserTestMark") == mark and b.path == audit_path,
              f"the {form} export replaced the page (now {b.path}) instead of downloading")
        response = b.received(f"{href.path}?{href.query}")
        check(response and response["status"] == 200, f"the {form} export answered {response and response['status']}")
        disposition = response["headers"].get("content-disposition", "")
        check(disposition.startswith("attachment;") and os.path.basename(exports[form]) in disposition,
              f"the {form} export's Content-Disposition is {disposition!r} (saved as {os.path.basename(exports[form])})")
        check("no-store" in response["headers"].get("cache-control", ""),
              f"the {form} export's Cache-Control is {response['headers'].get('cache-control')!r}")

    # JSON Lines: one event object a line, positions 1, 2, … linked by their hashes.
    with open(exports["jsonl"], encoding="utf-8") as file:
        lines = file.read().splitlines()
    events = []
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except ValueError as error:
            raise Failure(f"line {number} of the JSONL export is not JSON ({error}): {line[:200]!r}") from None
        check(isinstance(event, dict), f"line {number} of the JSONL export is not an object: {line[:200]!r}")
        missing = {"position", "seq", "occurred_at", "workspace", "actor", "action", "target", "outcome", "details",
                   "prev_hash", "hash"} - set(event)
        check(not missing, f"line {number} of the JSONL export lacks {sorted(missing)}: {line[:300]!r}")
        check(event["workspace"] == WORKSPACE, f"line {number} of the JSONL export is of workspace {event['workspace']!r}")
        check(isinstance(event["hash"], str) and len(event["hash"]) == 64, f"line {number}'s hash is {event['hash']!r}")
        events.append(event)
    check([event["position"] for event in events] == list(range(1, len(events) + 1)),
          f"the JSONL export's positions are not 1…{len(events)}")
    check(all(later["prev_hash"] == earlier["hash"] for earlier, later in zip(events, events[1:])),
          "in the JSONL export an event's prev_hash is not the hash of the one before")
    check(seen <= {event["position"] for event in events}, "the JSONL export lacks events the audit page showed")
    check(any(event["action"] == "approval.granted" and event["target"]["id"] == approval["id"] for event in events),
          f"the JSONL export lacks the approval.granted event of {approval['id']}")
    recorded = [event for event in events if event["action"] == "audit.exported" and event["actor"]["id"] == AUDITOR]
    check(recorded and recorded[-1]["details"].get("format") == "jsonl",
          f"the JSONL export does not contain its own audit.exported event: {recorded}")
    result = verify_export(exports["jsonl"])
    check(result["events_checked"] == len(events), f"verify-audit-export.py checked {result['events_checked']} of {len(events)} events")

    # CSV: GateAPI's header, then the events (up to the head at the time of that export).
    with open(exports["csv"], encoding="utf-8", newline="") as file:
        records = list(csv.reader(file))
    check(records and records[0] == AUDIT_COLUMNS, f"the CSV export's header is {records[:1]}")
    rows = [dict(zip(AUDIT_COLUMNS, record)) for record in records[1:]]
    check(all(len(record) == len(AUDIT_COLUMNS) for record in records[1:]), "a CSV record has the wrong number of cells")
    check(len(rows) > len(events), f"the CSV export (taken after the JSONL one) has {len(rows)} events, the JSONL {len(events)}")
    check(seen <= {int(row["position"]) for row in rows}, "the CSV export lacks events the audit page showed")
    check(all(row["hash"] == event["hash"] for row, event in zip(rows, events)),
          "the CSV and JSONL exports disagree on the hashes of the same positions")
    result = verify_export(exports["csv"])
    check(result["events_checked"] == len(rows), f"verify-audit-export.py checked {result['events_checked']} of {len(rows)} CSV events")

    # Someone who may read the log but not export it is offered no export, and refused one.
    reader = run.signed_in(sub="dora@acme.example", ws=f"{WORKSPACE}=audit:read,approvals:read", label="audit-reader")
    reader.go(audit_path)
    check(reader.status() == 200 and reader.finds("#audit-events"), f"audit:read alone: the audit page answered {reader.status()}")
    check(not reader.finds("#export-jsonl") and not reader.finds("#export-csv"), "audit:read alone is offered the export")
    reader.go(f"{audit_path}/export?format=jsonl")
    check(reader.status() == 403, f"audit:read alone: the export answered {reader.status()}, not 403")

    # A reviewer without audit scopes: no Audit link, and the pages are refused.
    reviewer = run.signed_in()
    reviewer.go(queue_path())
    check("Audit" not in reviewer.nav_links() and not reviewer.finds('header a[href$="/audit"]'),
          f"the reviewer's header offers the audit log: {reviewer.nav_links()}")
    for path in (audit_path, f"{audit_path}/verify", f"{audit_path}/export?format=csv"):
        reviewer.go(path)
        check(reviewer.status() == 403, f"the reviewer opened {path}: {reviewer.status()}, not 403")
        check(reviewer.text("h1") == "You are not allowed to do that", f"{path} for the reviewer: {reviewer.text('h1')!r}")
        check(not reviewer.finds("#audit-events") and not reviewer.finds("#chain-result"), f"{path} shows the reviewer audit data")
    check(sorted(os.listdir(b.downloads)) == sorted(os.path.basename(path) for path in exports.values()),
          f"the browser downloaded more than the two exports: {os.listdir(b.downloads)}")


# 11 ------------------------------------------------------------------------------------
ADMIN = "ada@acme.example"


def policy_form(b, action):
    return b.find(f'form[id="policy-{action}"]')


@scenario
def admin(run):
    """A workspace admin changes a policy (before and after shown) and creates, uses and revokes an API key."""
    # A workspace of its own: its policies and keys changed here touch no other scenario.
    workspace = f"admin-{run.tag}"
    run.cli("workspace", "create", workspace, "--name", f"Administration {run.tag} (browser test)")
    operator = run.cli("keys", "create", "--workspace", workspace, "--name", "admin operator", "--scopes", "all",
                       "--acts-for", "ops-bot", "--quiet")
    policy_api = f"/v1/workspaces/{workspace}/policies/task.create"
    run.api.call("PUT", policy_api, operator, {"approval": "auto"})

    b = run.signed_in(sub=ADMIN, ws=f"{workspace}=policies:admin,keys:admin,jobs:read,jobs:write,approvals:read", label="admin")
    policies_path = f"/console/w/{workspace}/admin/policies"
    b.go(policies_path)
    check(b.status() == 200, f"the policies page answered {b.status()}: {b.body_text()[:300]!r}")
    check(b.nav_links().get("Admin", "").endswith(policies_path), f"the header's links are {b.nav_links()}")
    check("Audit" not in b.nav_links(), f"an admin without audit scopes is offered the audit log: {b.nav_links()}")
    for action in ("gmail.send", "task.create"):
        check(b.finds(f'form[id="policy-{action}"]'), f"the policies page has no form for {action}")
    form = policy_form(b, "task.create")
    approval_mode = Select(form.find_element(By.NAME, "approval"))
    check(approval_mode.first_selected_option.get_attribute("value") == "auto",
          "task.create's form does not show the automatic approval set through the API")
    approval_mode.select_by_value("required")
    needed = form.find_element(By.NAME, "required_approvals")
    check(needed.get_attribute("value") == "1", f"task.create needs {needed.get_attribute('value')} approvals, not 1")
    needed.clear()
    needed.send_keys("2")
    b.click_and_wait('form[id="policy-task.create"] button[type=submit]')
    check(b.status() == 200, f"saving task.create answered {b.status()}: {b.body_text()[:400]!r}")
    check(b.text("#policy-change h2") == "task.create changed", f"the change's heading is {b.text('#policy-change h2')!r}")
    try:
        before, after = json.loads(b.text("#policy-before")), json.loads(b.text("#policy-after"))
    except ValueError:
        raise Failure(f"#policy-before/#policy-after are not JSON: {b.text('#policy-change')!r}") from None
    check(before.get("approval") == "auto" and before.get("required_approvals") == 1,
          f"#policy-before is not the automatic policy with 1 approval: {before}")
    check(after.get("approval") == "required" and after.get("required_approvals") == 2 and after.get("enabled") is True,
          f"#policy-after is not required with 2 approvals: {after}")
    form = policy_form(b, "task.create")
    check(Select(form.find_element(By.NAME, "approval")).first_selected_option.get_attribute("value") == "required"
          and form.find_element(By.NAME, "required_approvals").get_attribute("value") == "2",
          "after saving, task.create's form does not show the policy saved")
    b.shot("policies")

    stored = run.api.call("GET", policy_api, operator)
    check(stored.get("approval") == "required" and stored.get("required_approvals") == 2 and stored.get("enabled") is True,
          f"the API's task.create policy is {stored}")
    task = run.api.call("POST", f"/v1/workspaces/{workspace}/jobs", operator,
                        {"action": "task.create", "params": {"title": f"Check the quorum {run.tag}"}},
                        {"Idempotency-Key": f"browser-{uuid.uuid4()}"}, expect=(201, 202))
    check(task["status"] == "pending_approval" and task.get("required_approvals") == 2,
          f"a task.create job after the change is {task['status']} needing {task.get('required_approvals')} approvals")

    def changed_event():
        return next((event for event in run.api.audit(operator, "policy.changed", workspace=workspace)
                     if event["actor"]["id"] == ADMIN and event["target"]["id"] == "task.create"), None)
    wait_until("a policy.changed audit event by the admin", changed_event)

    # API keys: create one (its secret shown once), use it, revoke it.
    b.click_and_wait('main a[href$="/admin/keys"]')
    keys_path = f"/console/w/{workspace}/admin/keys"
    check(b.path == keys_path and b.status() == 200, f"the API keys link led to {b.path} ({b.status()})")
    check(any("admin operator" in row.text for row in b.finds("#keys tr[data-key]")), "the keys list lacks the operator's key")
    # A scope she does not hold herself is not hers to give: the form does not offer it,
    # and a form that asks for it anyway (edited in the browser) is refused.
    check(not b.finds('#create-key input[name=scopes][value="audit:export"]'), "the form offers audit:export, which she lacks")
    b.find("#key-name").send_keys(f"audit exporter {run.tag}")
    b.find('#create-key input[name=scopes][value="jobs:read"]').click()
    b.driver.execute_script(
        "var box = document.createElement('input'); box.type = 'hidden'; box.name = 'scopes'; box.value = 'audit:export';"
        "document.getElementById('create-key').appendChild(box);")
    b.click_and_wait("#create-key-button")
    check(b.status() == 403 and not b.finds("#secret-value"),
          f"a key with audit:export, which she lacks, answered {b.status()}: {b.body_text()[:300]!r}")
    check(run.api.status("GET", f"/v1/workspaces/{workspace}/jobs", operator) == 200, "the operator's key stopped working")
    keys = run.api.call("GET", f"/v1/workspaces/{workspace}/api-keys?limit=100", operator)["items"]
    check(not any(key["name"] == f"audit exporter {run.tag}" for key in keys), f"the refused key was made: {keys}")

    b.go(keys_path)
    name = f"reporting bot {run.tag}"
    b.find("#key-name").send_keys(name)
    b.find('#create-key input[name=scopes][value="jobs:read"]').click()
    b.click_and_wait("#create-key-button")
    check(b.status() == 200, f"creating a key answered {b.status()}: {b.body_text()[:400]!r}")
    secret = b.text("#secret-value").strip()
    check(secret.startswith("gk_"), f"#secret-value is {secret!r}")
    check(name in b.text("#new-secret h2"), f"the secret's heading is {b.text('#new-secret h2')!r}")
    rows = [row for row in b.finds("#keys tr[data-key]") if name in row.text]
    check(len(rows) == 1, f"the keys list has {len(rows)} rows named {name!r}")
    key_id = rows[0].get_attribute("data-key")
    cells = [cell.text for cell in rows[0].find_elements(By.TAG_NAME, "td")]
    check(cells[1] == "jobs:read" and cells[4] == "active", f"the new key's row is {cells}")
    check("no-store" in ((b.received(keys_path) or {}).get("headers", {}).get("cache-control", "")),
          "the page with the secret may be cached")
    b.shot("keys-secret")

    run.api.call("GET", f"/v1/workspaces/{workspace}/jobs", secret)
    run.api.call("POST", f"/v1/workspaces/{workspace}/jobs", secret,
                 {"action": "task.create", "params": {"title": "not allowed"}}, {"Idempotency-Key": f"browser-{uuid.uuid4()}"},
                 expect=(403,))

    b.go(keys_path)
    check(b.status() == 200, f"the keys page answered {b.status()}")
    check(secret not in b.driver.page_source and not b.finds("#secret-value"), "the keys page shows the secret again")
    check(b.finds(f'tr[data-key="{key_id}"]'), f"the keys list lost {key_id}")
    b.click_and_wait(f"#revoke-{key_id}")
    check(b.path == f"{keys_path}?revoked={key_id}", f"revoking led to {b.path}")
    check(b.flash() == f"Key {key_id} is revoked.", f"the flash after revoking says {b.flash()!r}")
    state = b.find(f'tr[data-key="{key_id}"]').find_elements(By.TAG_NAME, "td")[4].text
    check(state == "revoked", f"the revoked key's state is {state!r}")
    check(not b.finds(f"#revoke-{key_id}") and not b.finds(f"#rotate-{key_id}"), "a revoked key still offers rotate and revoke")
    # At once: the console drops the key from this server's key cache as it revokes it.
    answered = run.api.status("GET", f"/v1/workspaces/{workspace}/jobs", secret)
    check(answered == 401, f"the API answered the revoked key with {answered}, not 401")

    b.click_and_wait('main a[href$="/admin/dead-letters"]')
    check(b.status() == 200 and b.text("h1") == "Dead letters", f"the dead letters page: {b.status()} {b.text('h1')!r}")
    check(b.finds("#dead-letters") and "No dead letter." in b.body_text(), "a new workspace's dead letters page is not empty")

    # A reviewer is no admin: no Admin link, and the admin pages are refused.
    reviewer = run.signed_in()
    reviewer.go(queue_path())
    check("Admin" not in reviewer.nav_links(), f"the reviewer's header offers the admin pages: {reviewer.nav_links()}")
    for path in (f"/console/w/{WORKSPACE}/admin/policies", f"/console/w/{WORKSPACE}/admin/keys",
                 f"/console/w/{WORKSPACE}/admin/dead-letters"):
        reviewer.go(path)
        check(reviewer.status() == 403, f"the reviewer opened {path}: {reviewer.status()}, not 403")


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
    try:
        passed, failed = run_scenarios(run, chosen)
    finally:
        run.close()
    print(f"browser test: {len(passed)} scenarios passed, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else "") + f"; {run.shot_count} screenshots", file=sys.stderr)
    return 1 if failed else 0


def run_scenarios(run, chosen):
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
    return passed, failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
