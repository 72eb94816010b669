"""schemathesis hooks for scripts/contract-test (loaded through SCHEMATHESIS_HOOKS).

Some rules of the API tie a value to another value, to the clock or to earlier
requests, which JSON Schema cannot say. These hooks make requests that the document
calls valid also satisfy those rules, so that the positive_data_acceptance check
(valid requests must not be refused with 400/422) stays strict everywhere else.
Every request is still sent, and every answer still checked against the document.
"""

import datetime
import hashlib
import json
import os

import jsonschema_rs
import schemathesis

# The API key the whole run authenticates with. Revoking or rotating it (the stateful
# phase finds its id in the key listing) would turn every later request into a 401 and
# test nothing; such calls are aimed at a key id that does not exist instead (a 404).
OWN_KEY_ID = os.environ["GATEAPI_CONTRACT_KEY_ID"]
STAND_IN_KEY_ID = "a" * 16

JOBS = "/v1/workspaces/{ws}/jobs"
API_KEYS = "/v1/workspaces/{ws}/api-keys"
POLICY = "/v1/workspaces/{ws}/policies/{action}"
AUDIT = "/v1/workspaces/{ws}/audit"
APPROVALS_BULK = "/v1/workspaces/{ws}/approvals/bulk"
DELEGATION = "/v1/workspaces/{ws}/reviewers/{person}/delegation"


def _valid_idempotency_key(value):
    return isinstance(value, str) and 1 <= len(value.encode()) <= 255 and all(0x20 <= ord(c) <= 0x7E for c in value)


def _is_negative(case):
    meta = getattr(case, "meta", None)
    return meta is not None and meta.generation.mode.is_negative


def _is(case, method, path):
    return case.operation.method.lower() == method and case.operation.path == path


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path.startswith(API_KEYS + "/{id}") and (case.path_parameters or {}).get("id") == OWN_KEY_ID:
        case.path_parameters["id"] = STAND_IN_KEY_ID

    if _is(case, "get", JOBS + "/{id}") and not _is_negative(case):
        # A long-poll on a pending job waits up to `wait` seconds (at most 60) for a
        # change that no one makes here: one second shows the same, in a bounded run.
        wait = (case.query or {}).get("wait")
        if isinstance(wait, int) and wait > 1:
            case.query["wait"] = 1

    if case.operation.path in (AUDIT, AUDIT + "/export") and not _is_negative(case):
        # `to` must be later than `from` (else 400): two independent date-times are not ordered.
        query = case.query or {}
        start, end = _instant(query.get("from")), _instant(query.get("to"))
        if "from" in query and "to" in query and (start is None or end is None or start >= end):
            del query["to"]

    if not isinstance(case.body, dict):
        return
    if _is(case, "post", JOBS):
        if not _is_negative(case):
            _files(case)
        _idempotency(case)
    elif _is_negative(case):
        return
    elif _is(case, "post", API_KEYS):
        # `acts_for` may only name the creator's own person (422 otherwise), which the
        # document cannot say: a valid request leaves it to the default.
        case.body.pop("acts_for", None)
        # `expires_at` must be in the future.
        expires = case.body.get("expires_at")
        if isinstance(expires, str) and _past(expires):
            case.body["expires_at"] = "2999-01-01T00:00:00Z"
    elif _is(case, "post", APPROVALS_BULK) and isinstance(case.body.get("approvals"), list):
        # Each approval at most once (else 422), which uniqueItems cannot say of objects
        # that differ only beside their `id`.
        seen = set()
        case.body["approvals"] = [a for a in case.body["approvals"]
                                  if not (isinstance(a, dict) and (a.get("id") in seen or seen.add(a.get("id"))))] or case.body["approvals"][:1]
    elif _is(case, "put", POLICY):
        # Constraints exist for gmail.send only; the path, not the body, names the action.
        if (case.path_parameters or {}).get("action") == "task.create" and case.body.get("constraints"):
            case.body["constraints"] = {}
        _notifications(case.body)
        _approvers(case.body)
    elif _is(case, "put", DELEGATION):
        _delegation(case)


# A policy's reminders come in ascending order, and its escalation before its timeout
# (the body's, else the server's default of a day): rules between values.
def _notifications(body):
    rules = body.get("notifications")
    if not isinstance(rules, dict):
        return
    if isinstance(rules.get("remind_at"), list):
        rules["remind_at"] = sorted(rules["remind_at"], key=lambda x: x if isinstance(x, (int, float)) else 0)
    timeout = body.get("approval_timeout_seconds", 86400)
    after = rules.get("escalate_after_seconds")
    # A whole number may come as 4780.0: JSON does not tell them apart, and neither does the server.
    if isinstance(after, (int, float)) and isinstance(timeout, (int, float)) and after >= timeout:
        if timeout > 1:
            rules["escalate_after_seconds"] = int(timeout) - 1
        else:
            rules.pop("escalate_after_seconds", None)
            rules.pop("escalate_to", None)


# A policy's approver rules name each group once and ask for at most 10 approvals in
# all, and `required_approvals` is never below their sum (422 otherwise).
def _approvers(body):
    rules = body.get("approvers")
    if not isinstance(rules, list):
        return
    kept, groups, total = [], set(), 0
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("group") in groups or not isinstance(rule.get("count"), int):
            continue
        if total + rule["count"] > 10:
            break
        groups.add(rule["group"])
        total += rule["count"]
        kept.append(rule)
    body["approvers"] = kept
    required = body.get("required_approvals")
    if isinstance(required, (int, float)) and required < total:
        body["required_approvals"] = total


# A delegation names someone other than the reviewer, and ends later than now, within
# 366 days of its start (422 otherwise): the start is left to its default, now.
def _delegation(case):
    body = case.body
    if body.get("delegate") == (case.path_parameters or {}).get("person"):
        body["delegate"] = body["delegate"][:254] + "x"
    body.pop("from", None)
    until = _instant(body.get("until"))
    now = datetime.datetime.now(datetime.timezone.utc)
    if until is None or until <= now + datetime.timedelta(minutes=5) or until > now + datetime.timedelta(days=300):
        body["until"] = (now + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


# A file's bytes must be what its type says, and its name's extension must not name
# another type (422 otherwise): the document lists the types, but cannot tie bytes or
# names to them. Valid requests get a small file of each declared type, a name with
# that type's extension, at most 10 files in all, and HTML that shows every inline image.
_SAMPLES = {
    "application/pdf": ("pdf", b"%PDF-1.7\n%%EOF\n"),
    "text/csv": ("csv", b"a,b\n1,2\n"), "text/plain": ("txt", b"hello\n"), "text/calendar": ("ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
    "application/json": ("json", b"{}"),
    "image/png": ("png", b"\x89PNG\r\n\x1a\n" + bytes(16)), "image/jpeg": ("jpg", b"\xff\xd8\xff\xe0" + bytes(16)),
    "image/gif": ("gif", b"GIF89a" + bytes(16)), "image/webp": ("webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8)),
    "application/zip": ("zip", b"PK\x05\x06" + bytes(18)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", b"PK\x03\x04" + bytes(26)),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", b"PK\x03\x04" + bytes(26)),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("pptx", b"PK\x03\x04" + bytes(26)),
    "application/vnd.oasis.opendocument.text": ("odt", b"PK\x03\x04" + bytes(26)),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods", b"PK\x03\x04" + bytes(26)),
    "application/vnd.oasis.opendocument.presentation": ("odp", b"PK\x03\x04" + bytes(26)),
    "application/msword": ("doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)),
    "application/vnd.ms-excel": ("xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)),
    "application/vnd.ms-powerpoint": ("ppt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)),
}


def _files(case):
    params = case.body.get("params")
    if case.body.get("action") != "gmail.send" or not isinstance(params, dict):
        return
    count = 0
    for key in ("inline", "attachments"):
        items = params.get(key)
        if not isinstance(items, list):
            continue
        kept = []
        for item in items:
            if not isinstance(item, dict) or count >= 10:
                continue
            kind = str(item.get("content_type", "")).lower()
            extension, data = _SAMPLES.get(kind, _SAMPLES["image/png" if key == "inline" else "application/pdf"])
            item["filename"] = f"file-{count}.{extension}"
            item["content_base64"] = __import__("base64").b64encode(data).decode()
            if key == "inline":
                item["content_id"] = f"img{count}"
            kept.append(item)
            count += 1
        params[key] = kept
    cids = [item["content_id"] for item in params.get("inline") or [] if isinstance(item, dict)]
    if cids:
        shown = "".join(f'<img src="cid:{cid}">' for cid in cids)
        html = params.get("html") if isinstance(params.get("html"), str) else ""
        params["html"] = html[:524288 - len(shown)] + shown


def _idempotency(case):
    # `client_request_id` is an alias of the `Idempotency-Key` header (both given and
    # different: 400; the alias stands in for a missing header), and a key reused with
    # another payload is a 422. Valid requests get a key derived from their payload, in
    # the header and in the alias when there is one: a repeated payload is a replay
    # (200), a new one a new job (201). In invalid requests whose header is what is
    # wrong, the alias does not get to repair it.
    headers = case.headers if case.headers is not None else {}
    if _is_negative(case):
        if "client_request_id" in case.body and not _valid_idempotency_key(headers.get("Idempotency-Key")):
            del case.body["client_request_id"]
        return
    payload = {k: v for k, v in case.body.items() if k != "client_request_id"}
    key = "contract-" + hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:40]
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = key
    if isinstance(case.body.get("client_request_id"), str):
        case.body["client_request_id"] = key


def _instant(text):
    """An aware datetime for RFC 3339 text, or None (e.g. a leap second Python cannot hold)."""
    if not isinstance(text, str):
        return None
    try:
        instant = datetime.datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def _past(text):
    instant = _instant(text)
    return instant is None or instant <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)


@schemathesis.check
def ndjson_lines_conform(ctx, response, case):
    """Each line of a JSONL export (`application/x-ndjson`) is the document's `AuditEvent`.

    schemathesis reads JSON and event streams itself, but not JSON lines: the media type's
    `x-line-schema` names the schema of one line, and this check applies it to every line.
    """
    content_type = (response.headers.get("content-type") or [""])[0]
    if response.status_code != 200 or not content_type.startswith("application/x-ndjson"):
        return None
    media = case.operation.definition.raw["responses"]["200"]["content"]["application/x-ndjson"]
    reference = media["x-line-schema"]["$ref"]
    name = reference.rsplit("/", 1)[-1]
    # The line schema refers to other components (`$ref`): validate against a root that holds them.
    root = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": reference,
        "components": case.operation.schema.raw_schema["components"],
    }
    validator = jsonschema_rs.validator_for(root)
    text = response.content.decode("utf-8")
    assert text == "" or text.endswith("\n"), "the export does not end with a line break"
    # Lines end with LF only: U+2028, U+0085 and the like may stand unescaped in JSON strings.
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        try:
            validator.validate(json.loads(line))
        except (ValueError, jsonschema_rs.ValidationError) as error:
            raise AssertionError(f"line {number} is not an {name}: {error}") from None
    return True
