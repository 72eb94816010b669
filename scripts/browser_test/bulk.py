"""Deciding many approvals at once from the queue, in a workspace of their own."""
import concurrent.futures

from .checks import Failure, check, wait_until
from .harness import REVIEWER, pending_count, queue_path


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
