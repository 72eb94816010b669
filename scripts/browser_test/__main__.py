"""`python -m browser_test [SCENARIO...]` (scripts/ on PYTHONPATH): the scenarios, in the
order they run and --list names them."""
import sys

from . import bulk, files, identity, notifications, records, review
from .harness import main

SCENARIOS = [
    identity.sign_in,
    review.approve,
    review.reject,
    review.refusals,
    review.live_update,
    files.attachments,
    identity.sign_out,
    identity.foreign_workspace,
    identity.oidc_sign_in,
    bulk.bulk_approve,
    records.compliance,
    records.admin,
    notifications.decision_link,
    notifications.out_of_office,
]

sys.exit(main(SCENARIOS, sys.argv[1:]))
