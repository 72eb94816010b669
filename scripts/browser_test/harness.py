"""The run: the server, keys and identity provider scripts/browser-test gives it (in the
environment), the gate-api CLI, the HTTP API as agents and operators use it (Api), the
numbered screenshots, and the main loop that runs the scenarios and reports them."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from selenium.common.exceptions import WebDriverException

from .browser import PHONE, Browser
from .checks import Failure, check, wait_until

WORKSPACE = "acme"
OTHER_WORKSPACE = "globex"
REVIEWER = "rita@acme.example"
REVIEWER_SCOPES = f"{WORKSPACE}=approvals:read,approvals:decide,jobs:read"


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


# ---------------------------------------------------------------- the run


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


# ---------------------------------------------------------------- the scenarios' run


def main(scenarios, argv):
    """Runs the scenarios named in argv (all of them by default, in their order); `--list` names them."""
    if argv[:1] == ["--list"]:
        for function in scenarios:
            print(f"{function.__name__:20} {function.__doc__.strip()}")
        return 0
    names = {function.__name__: function for function in scenarios}
    unknown = [name for name in argv if name not in names]
    if unknown:
        print(f"browser_test: no scenario {', '.join(unknown)}; there are {', '.join(names)}", file=sys.stderr)
        return 2
    chosen = [names[name] for name in argv] if argv else scenarios

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
