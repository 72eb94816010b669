#!/usr/bin/env python3
"""Verify a GateAPI audit export (JSONL or CSV) without GateAPI: recompute every
event's SHA-256 from the canonical encoding in docs/audit.md and check the links.

    scripts/verify-audit-export.py audit.jsonl [--anchor HASH ...]

Prints {"ok", "events_checked", "first_bad_sequence", "reason", "head"} as JSON and
exits 0 when the export verifies, 1 when it does not, 2 when it cannot be read.
Standard library only.
"""
import argparse
import csv
import hashlib
import json
import sys

VERSION = "gateapi.audit.v1"
CSV_COLUMNS = ["position", "seq", "occurred_at", "workspace", "actor_type", "actor_id", "actor_ip", "action",
               "target_type", "target_id", "outcome", "request_id", "details", "prev_hash", "hash"]


class Number(str):
    """A JSON number kept as the text it was written with (jsonb's own form)."""


def jsonb_text(value):
    """Postgres's jsonb text output: ', ' and ': ' separators, object keys ordered
    by UTF-8 length and then bytes, strings escaped like json.dumps(ensure_ascii=False)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Number):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(jsonb_text(v) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(jsonb_text(k) + ": " + jsonb_text(value[k]) for k in keys) + "}"
    raise ValueError(f"unexpected JSON value {value!r}")


def parse_json(text):
    return json.loads(text, parse_int=Number, parse_float=Number)


def canonical(event, details_text):
    """The hashed text: the jsonb text of a 15-element array (docs/audit.md)."""
    def text(v):  # empty strings count as null
        return None if v in (None, "") else v
    head = [VERSION, Number(str(event["position"])), text(event["prev_hash"]), Number(str(event["seq"])),
            event["workspace"], event["occurred_at"], event["actor_type"], text(event["actor_id"]),
            text(event["actor_ip"]), event["action"], text(event["target_type"]), text(event["target_id"]),
            event["outcome"], text(event["request_id"])]
    return "[" + ", ".join(jsonb_text(v) for v in head) + ", " + details_text + "]"


def jsonl_events(lines):
    for line in lines:
        if not line.strip():
            continue
        e = parse_json(line)
        yield {
            "position": int(e["position"]), "seq": int(e["seq"]), "occurred_at": e["occurred_at"],
            "workspace": e["workspace"], "actor_type": e["actor"]["type"], "actor_id": e["actor"]["id"],
            "actor_ip": e["actor"]["ip"], "action": e["action"], "target_type": e["target"]["type"],
            "target_id": e["target"]["id"], "outcome": e["outcome"], "request_id": e["request_id"],
            "prev_hash": e["prev_hash"], "hash": e["hash"],
        }, jsonb_text(e["details"])


def csv_events(lines):
    reader = csv.reader(lines)
    header = next(reader, None)
    if header != CSV_COLUMNS:
        raise ValueError("the CSV header is not GateAPI's audit columns")
    for row in reader:
        if len(row) != len(CSV_COLUMNS):
            raise ValueError(f"a CSV record has {len(row)} cells, not {len(CSV_COLUMNS)}")
        # Undo the formula-injection guard: one leading ' is dropped from every cell that has one.
        cells = dict(zip(CSV_COLUMNS, (c[1:] if c.startswith("'") else c for c in row)))
        cells["position"], cells["seq"] = int(cells["position"]), int(cells["seq"])
        cells["prev_hash"] = cells["prev_hash"] or None
        yield cells, cells["details"]


def verify(events, seen_hashes):
    checked, previous, head = 0, None, None
    for event, details_text in events:
        checked += 1
        seen_hashes.add(event["hash"])
        bad = None
        computed = hashlib.sha256(canonical(event, details_text).encode("utf-8")).hexdigest()
        if event["position"] == 1 and event["prev_hash"] is not None:
            bad = "broken_link"
        elif previous is not None and event["position"] == previous["position"] + 1 \
                and event["prev_hash"] != previous["hash"]:
            bad = "broken_link"
        elif previous is not None and event["position"] <= previous["position"]:
            bad = "out_of_order"
        elif computed != event["hash"]:
            bad = "hash_mismatch"
        if bad:
            return {"ok": False, "events_checked": checked, "first_bad_sequence": event["seq"],
                    "first_bad_position": event["position"], "reason": bad, "head": head}
        previous = event
        head = {"position": event["position"], "hash": event["hash"]}
    return {"ok": True, "events_checked": checked, "first_bad_sequence": None, "first_bad_position": None,
            "reason": None, "head": head}


def main():
    parser = argparse.ArgumentParser(description="Verify a GateAPI audit export (JSONL or CSV).")
    parser.add_argument("file", help="the export; '-' for standard input")
    parser.add_argument("--format", choices=["jsonl", "csv"], help="default: from the first line")
    parser.add_argument("--anchor", metavar="HASH", action="append", default=[],
                        help="a head hash recorded earlier: the exported chain must still contain it (repeatable)")
    args = parser.parse_args()
    stream = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8", newline="")
    with stream:
        first = stream.readline()
        fmt = args.format or ("jsonl" if first.lstrip().startswith("{") or not first.strip() else "csv")
        lines = (line for source in ([first], stream) for line in source)
        seen = set()
        try:
            result = verify(jsonl_events(lines) if fmt == "jsonl" else csv_events(lines), seen)
        except (ValueError, KeyError, TypeError) as error:
            print(json.dumps({"ok": False, "error": f"unreadable export: {error}"}))
            return 2
    missing = [anchor for anchor in args.anchor if anchor not in seen]
    if result["ok"] and missing:
        result.update(ok=False, reason="anchor_missing", missing_anchors=missing)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
