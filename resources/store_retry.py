"""How the S3 client retries: every method, POST included, on the answers a busy or restarting store gives.

urllib3 retries no POST by default, and S3's multipart upload creates and completes with POSTs: one
`503 SlowDown` there failed the whole station run. Retrying them is safe: a create that is retried leaves
at most an unused upload behind (the bucket's lifecycle rule for incomplete uploads removes it), and a
complete that answered 503 did not complete.
"""

from __future__ import annotations

import urllib3

# 500/502/504: a restarting store or its proxy; 503: `SlowDown` / `ServiceUnavailable`.
RETRY_STATUSES = (500, 502, 503, 504)
ATTEMPTS = 5  # retries of a refused answer after the first try: about 15 s of backoff before giving up
# An unreachable store still fails the run in seconds: few retries of a connection that never opened.
CONNECT_ATTEMPTS = 2
BACKOFF_FACTOR_S = 0.5
BACKOFF_MAX_S = 8.0
MAX_RETRY_AFTER_S = 30.0  # a store's Retry-After is honoured up to this; urllib3 alone would wait any length


class StoreRetry(urllib3.Retry):
    """urllib3's Retry, with the store's Retry-After capped (`new()` keeps the class for every later attempt)."""

    def get_retry_after(self, response) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, MAX_RETRY_AFTER_S)


def store_retry() -> urllib3.Retry:
    return StoreRetry(
        total=ATTEMPTS,
        connect=CONNECT_ATTEMPTS,
        read=CONNECT_ATTEMPTS,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,  # every method: see the module's docstring for POST
        backoff_factor=BACKOFF_FACTOR_S,
        backoff_max=BACKOFF_MAX_S,
        backoff_jitter=BACKOFF_FACTOR_S,
        respect_retry_after_header=True,
        # Out of retries, the store's own answer reaches minio, which names its S3 code (SlowDown), instead
        # of urllib3's MaxRetryError.
        raise_on_status=False,
    )
