"""Browser: one headless Chromium, driven by Selenium through Debian's chromedriver, with
what the scenarios read from it besides the page (the HTTP statuses and headers of its
requests, its console) and the console's own sign-in steps."""
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .checks import Failure, check, wait_until

CHROMIUM = os.environ.get("BROWSER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
PHONE = (390, 844)


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
