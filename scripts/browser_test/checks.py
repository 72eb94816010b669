"""What a failed expectation is, and the two ways the scenarios state one: check (now)
and wait_until (within a time)."""
import time

from selenium.common.exceptions import WebDriverException


class Failure(AssertionError):
    pass


def check(condition, message):
    """An assertion that survives `python -O` and says what was expected."""
    if not condition:
        raise Failure(message)


def wait_until(what, predicate, timeout=10.0, interval=0.2):
    """Polls predicate() until it returns something truthy (which is returned)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except (Failure, WebDriverException) as error:
            last_error = error
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not within {timeout:g} s" + (f" (last: {last_error})" if last_error else ""))
        time.sleep(interval)
