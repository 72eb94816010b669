"""What compliance and administrators see: the audit log (search, the chain check, exports
that verify offline) and a workspace's administration (policies, API keys, dead letters)."""
import csv
import json
import os
import subprocess
import sys
import urllib.parse
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from .checks import Failure, check, wait_until
from .harness import WORKSPACE, queue_path


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
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "verify-audit-export.py")
    done = subprocess.run([sys.executable, "-B", script, path], capture_output=True, text=True, timeout=60)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise Failure(f"verify-audit-export.py {os.path.basename(path)} exited {done.returncode} without a JSON answer: "
                      f"{done.stdout[-300:]!r} {done.stderr[-500:]!r}") from None
    check(done.returncode == 0 and result.get("ok") is True,
          f"verify-audit-export.py {os.path.basename(path)} exited {done.returncode}: {result}")
    return result


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


ADMIN = "ada@acme.example"


def policy_form(b, action):
    return b.find(f'form[id="policy-{action}"]')


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
