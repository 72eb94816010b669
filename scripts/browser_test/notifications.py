"""Deciding from a notification (issue 27): a gated job announces itself to a reviewer of
the directory by email (kept in the development outbox); the email's Approve link, opened
in a browser that is signed in to nothing, shows the preview and a confirm button, and
only confirming approves the job. The link then refuses to decide again."""
import datetime
import urllib.parse

from selenium.webdriver.common.by import By

from .checks import check, wait_until
from .harness import WORKSPACE

PERSON = "sam@acme.example"


def decision_link(run):
    """The outbox email's Approve link leads to a confirm page; confirming approves the job, once."""
    run.api.call("PUT", f"/v1/workspaces/{WORKSPACE}/reviewers/{PERSON}", run.admin_key,
                 {"email": PERSON, "display_name": "Sam Example"})
    try:
        _decide_from_the_outbox(run)
    finally:
        # The other scenarios count the outbox's messages per subject.
        run.api.call("DELETE", f"/v1/workspaces/{WORKSPACE}/reviewers/{PERSON}", run.admin_key, expect=(204,))


def _decide_from_the_outbox(run):
    subject = f"Notified {run.tag}"
    job, approval = run.submit_for_review(subject)

    # Rita reads the outbox in the console (as a developer does with scripts/dev).
    b = run.signed_in()
    outbox = f"/console/w/{WORKSPACE}/outbox"

    def notification_link():
        b.go(outbox)
        rows = [row for row in b.finds("#outbox tbody tr") if subject in row.text and PERSON in row.text]
        return rows[0].find_element(By.TAG_NAME, "a").get_attribute("href") if rows else None

    message = wait_until(f"the notification to {PERSON} in the outbox", notification_link, timeout=20)
    b.go(message)
    check("Approval needed" in b.text("h1"), f"the notification's subject is {b.text('h1')!r}")
    text = b.text("#text-body")
    check("Subject: " + subject in text and "Hello Ann" in text, f"the notification shows no preview: {text[:600]!r}")
    hrefs = [a.get_attribute("href") for a in b.finds("#text-body a.outbox-link")]
    approve = next((href for href in hrefs if f"Approve: {href}" in text), None)
    check(approve and "/decide/gdl_" in approve, f"the notification has no clickable Approve link: {hrefs} in {text[:1200]!r}")
    b.shot("notification-email")

    # Sam opens it from his mail client: a browser signed in to nothing.
    sam = run.browser("sam")
    sam.go(approve)
    check(sam.status() == 200, f"the decision link's page answered {sam.status()}")
    check(PERSON in sam.text("#person"), f"the confirm page decides as {sam.text('#person')!r}")
    check(subject in sam.text("#headers"), f"the confirm page shows no preview: {sam.body_text()[:500]!r}")
    check(run.api.job(run.agent_key, job["id"])["status"] == "pending_approval", "opening the link decided the job")
    sam.go(approve)  # a mail scanner or a second look: still nothing decided
    check(run.api.job(run.agent_key, job["id"])["status"] == "pending_approval", "opening the link twice decided the job")
    sam.shot("decision-link-confirm")
    sam.find("#comment").send_keys("Fine by me")
    sam.click_and_wait("#confirm")
    check("You approved it" in sam.text("#result-heading"), f"confirming led to {sam.body_text()[:400]!r}")
    done = run.api.wait_for_status(run.agent_key, job["id"], "succeeded", timeout=30)
    check(done["status"] == "succeeded", f"the job is {done['status']}")
    def used_rows():
        rows = [row for row in run.api.audit(run.admin_key, "decision_link.used") if row["target"]["id"] == approval["id"]]
        return rows or None
    used = wait_until("the decision_link.used audit row", used_rows, timeout=10)
    check(len(used) == 1 and used[0]["actor"]["id"] == PERSON and used[0]["details"]["via"] == "email",
          f"decision_link.used rows: {used}")

    sam.go(approve)
    check(sam.status() == 410 and "already used" in sam.body_text(), f"the used link shows {sam.status()} {sam.body_text()[:300]!r}")
    path = urllib.parse.urlsplit(approve).path
    check(path.startswith("/decide/gdl_"), f"unexpected decision link path {path}")


def out_of_office(run):
    """A reviewer names a delegate on the Out of office page; standing in, the delegate approves what only the reviewer's group decides."""
    # A workspace of its own: its policy (approver groups) touches no other scenario.
    workspace = f"away-{run.tag}"
    run.cli("workspace", "create", workspace, "--name", f"Out of office {run.tag} (browser test)")
    operator = run.cli("keys", "create", "--workspace", workspace, "--name", "away agent", "--scopes", "all",
                       "--acts-for", "away-bot", "--quiet")
    api = f"/v1/workspaces/{workspace}"
    run.api.call("PUT", f"{api}/policies/gmail.send", operator,
                 {"approval": "required", "approvers": [{"group": "security", "count": 1}]})
    for person, groups in (("sec@acme.example", ["security"]), ("omar@acme.example", [])):
        run.api.call("PUT", f"{api}/reviewers/{person}", operator, {"email": person, "groups": groups})
    scopes = f"{workspace}=approvals:read,approvals:decide,jobs:read"

    sec = run.signed_in(sub="sec@acme.example", ws=scopes, label="sec")
    away = f"/console/w/{workspace}/delegation"
    check(sec.nav_links().get("Out of office", "").endswith(away), f"the header's links are {sec.nav_links()}")
    sec.go(away)
    sec.find('#set-delegation input[name="delegate"]').send_keys("omar@acme.example")
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    sec.driver.execute_script("arguments[0].value = arguments[1]", sec.find('#set-delegation input[name="until"]'), until)
    sec.click_and_wait('#set-delegation button[type="submit"]')
    check(sec.text("#delegate") == "omar@acme.example" and "stands in for you" in sec.text("#current-delegation"),
          f"after saving, the page says {sec.body_text()[:400]!r}")
    sec.shot("out-of-office")

    job = run.api.submit_email(operator, f"Away {run.tag}", workspace=workspace)
    approval = run.api.approval_of(operator, job["id"], workspace=workspace)
    check(approval["approvers"] == [{"group": "security", "count": 1}], f"the approval's rules are {approval['approvers']}")
    omar = run.signed_in(sub="omar@acme.example", ws=scopes, label="omar")
    omar.go(f"/console/w/{workspace}/approvals/{approval['id']}")
    check("1 of security" in omar.body_text(), f"the approval page does not say who must approve: {omar.body_text()[:500]!r}")
    omar.submit_form("#approve")
    check(omar.flash() == "You approved this job.", f"the flash after approving says {omar.flash()!r}")
    votes = omar.text(".votes")
    check("omar@acme.example (standing in for sec@acme.example) approved" in votes, f"the votes list is {votes!r}")
    decided = run.api.call("GET", f"{api}/approvals/{approval['id']}", operator)
    check(decided["status"] == "approved", f"the approval is {decided['status']}")

    sec.go(away)
    sec.click_and_wait('#current-delegation button[type="submit"]')
    check(sec.flash() == "Nobody stands in for you now." and not sec.finds("#current-delegation"),
          f"after ending it, the page says {sec.body_text()[:300]!r}")
