"""A gmail.send with files (issue 26): the reviewer sees each file and the inline logo,
downloads a file and gets exactly its bytes, approves, and the message the outbox kept
reads back with Python's `email` package — no defects, the same bytes."""
import email
import email.policy
import hashlib
import os
import struct
import uuid
import zlib

from selenium.webdriver.common.by import By

from .checks import check, wait_until
from .harness import WORKSPACE


def _png(width=24, height=12):
    """A real PNG (a red and blue stripe), so the browser can decode and show it."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + (b"\xcc\x22\x22" * (width // 2) + b"\x22\x22\xcc" * (width // 2)) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def sha(data):
    return hashlib.sha256(data).hexdigest()


def attachments(run):
    """Files are previewed, downloadable with their exact bytes, and sent exactly as approved."""
    pdf = b"%PDF-1.7\n" + os.urandom(40_000) + b"\n%%EOF\n"
    csv = "date,amount,Empfänger\n2026-12-01,12.50,Zoë\n".encode()
    logo = _png()
    csv_name = "Überweisungen Dezember.csv"
    subject = f"Invoice with files {run.tag}"
    b64 = lambda data: __import__("base64").b64encode(data).decode()
    params = {
        "to": ["Ann Example <ann@example.com>"], "subject": subject, "text": "Invoice attached.",
        "html": '<p><img id="logo" src="cid:logo" alt="ACME logo" width="24" height="12"> Invoice attached.</p>',
        "attachments": [
            {"filename": "invoice.pdf", "content_type": "application/pdf", "content_base64": b64(pdf)},
            {"filename": csv_name, "content_type": "text/csv", "content_base64": b64(csv)},
        ],
        "inline": [{"content_id": "logo", "filename": "logo.png", "content_type": "image/png", "content_base64": b64(logo)}],
    }
    job = run.api.call("POST", f"/v1/workspaces/{WORKSPACE}/jobs", run.agent_key, {"action": "gmail.send", "params": params},
                       {"Idempotency-Key": f"browser-{uuid.uuid4()}"}, expect=(201,))
    stored = [(f["filename"], f["sha256"]) for f in job["params"]["attachments"]]
    check(stored == [("invoice.pdf", sha(pdf)), (csv_name, sha(csv))], f"the job's params describe {stored}")
    approval = run.api.approval_of(run.admin_key, job["id"])

    b = run.signed_in(downloads=True)
    b.go(run.approval_path(approval["id"]))
    rows = [row.text for row in b.finds("#files tbody tr")]
    check(len(rows) == 3, f"the approval page lists {len(rows)} files: {rows}")
    check("logo.png" in rows[0] and "cid:logo" in rows[0], f"the first file row is {rows[0]!r}")
    check("invoice.pdf" in rows[1] and "application/pdf" in rows[1] and sha(pdf) in rows[1], f"the PDF row is {rows[1]!r}")
    check(csv_name in rows[2] and "text/csv" in rows[2], f"the CSV row is {rows[2]!r}")

    # The inline logo shows in the sandboxed frame, from the bytes that will be sent.
    b.driver.switch_to.frame(b.find("iframe#html-body"))
    try:
        shown = wait_until("the inline logo decoded in the frame", lambda: b.driver.execute_script(
            "var i = document.getElementById('logo'); return i && i.complete && i.naturalWidth === 24"), timeout=10)
        check(shown, "the inline logo is not shown")
    finally:
        b.driver.switch_to.default_content()
    b.shot("approval-files")

    # A download is exactly the file (the link is a download, never opened in the page).
    b.find(f'#files a[href$="/attachments/{sha(pdf)}"]').click()
    path = b.downloaded(r"invoice\.pdf")
    with open(path, "rb") as downloaded:
        check(sha(downloaded.read()) == sha(pdf), "the downloaded invoice.pdf is not the attached bytes")
    check(b.path == run.approval_path(approval["id"]), f"downloading left the approval page for {b.path}")

    b.submit_form("#approve")
    check(b.flash() == "You approved this job.", f"the flash after approving says {b.flash()!r}")
    done = run.api.wait_for_status(run.agent_key, job["id"], "succeeded", timeout=30)
    check(done["status"] == "succeeded", f"the job is {done['status']}")

    # The kept message, byte for byte, read by Python's email package.
    b.go(f"/console/w/{WORKSPACE}/outbox/{job['id']}")
    b.find("#eml").click()
    with open(b.downloaded(rf"{job['id']}\.eml"), "rb") as kept:
        raw = kept.read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    defects = list(message.defects) + [d for part in message.walk() for d in part.defects]
    check(not defects, f"Python's email package found defects: {defects}")
    check(str(message["Subject"]) == subject, f"the kept message's subject is {message['Subject']!r}")
    files = {part.get_filename(): part.get_payload(decode=True) for part in message.walk() if part.get_filename()}
    check(sorted(files) == sorted(["logo.png", "invoice.pdf", csv_name]), f"the kept message's files are {sorted(files)}")
    check(sha(files["invoice.pdf"]) == sha(pdf) and sha(files[csv_name]) == sha(csv) and sha(files["logo.png"]) == sha(logo),
          "a file in the kept message differs from what was approved")
    inline = next(part for part in message.walk() if part.get_filename() == "logo.png")
    check(inline["Content-ID"] == "<logo>" and inline.get_content_disposition() == "inline",
          f"the logo is {inline.get_content_disposition()} with Content-ID {inline['Content-ID']}")
