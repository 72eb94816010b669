"""Who gets into the console: a sign-in link (once), signing out, another workspace, and
signing in with the company account through OpenID Connect."""
import datetime
import json
import urllib.parse

from selenium.webdriver.common.by import By

from .browser import PHONE
from .checks import check, wait_until
from .harness import OTHER_WORKSPACE, REVIEWER, WORKSPACE, pending_count, queue_path


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
