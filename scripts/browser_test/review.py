"""Deciding one approval: the preview of the exact message, approving (into the outbox,
and the job's timeline), rejecting with a reason, the refusals, and the queue's live update."""
import http.server
import json
import threading
import time

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from .browser import PHONE
from .checks import Failure, check, wait_until
from .harness import REVIEWER, WORKSPACE, pending_count, queue_path


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
