#!/usr/bin/env python3
"""Reads one RFC 5322 message from stdin with Python's `email` package, the way a
mail client would, and prints what it found as JSON: every defect the parser
registered (on the message and on each part), and each leaf part with its type,
disposition, file name, Content-ID, size and SHA-256 of its decoded bytes.
GateAPI's tests compare this with what a reviewer approved (issue 26)."""
import email
import email.policy
import hashlib
import json
import sys

raw = sys.stdin.buffer.read()
message = email.message_from_bytes(raw, policy=email.policy.default)
defects = [f"{type(d).__name__}: {d}" for d in message.defects]
parts = []
for part in message.walk():
    defects += [f"{part.get_content_type()}: {type(d).__name__}: {d}" for d in part.defects]
    if part.is_multipart():
        continue
    payload = part.get_payload(decode=True) or b""
    parts.append({
        "content_type": part.get_content_type(),
        "disposition": part.get_content_disposition(),
        "filename": part.get_filename(),
        "content_id": part.get("Content-ID"),
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
    })
structure = []
def shape(part):
    if part.is_multipart():
        return {part.get_content_type(): [shape(p) for p in part.get_payload()]}
    return part.get_content_type()
print(json.dumps({
    "defects": defects,
    "parts": parts,
    "structure": shape(message),
    "subject": str(message["Subject"]),
    "lines_over_998": sum(1 for line in raw.split(b"\r\n") if len(line) > 998),
    "bare_lf": raw.replace(b"\r\n", b"").count(b"\n"),
}))
