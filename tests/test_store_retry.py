"""The S3 client's retry policy (issue 22, item 15), pure: every method on a busy store's answers, capped waits."""

from __future__ import annotations

from urllib3 import HTTPResponse

from resources.store_retry import MAX_RETRY_AFTER_S, store_retry


def test_the_stores_retry_after_is_honoured_up_to_a_cap_and_posts_are_retried():
    retry = store_retry()
    assert retry.is_retry("POST", 503) and retry.is_retry("PUT", 503) and not retry.is_retry("POST", 412)
    assert retry.get_retry_after(HTTPResponse(status=503, headers={"Retry-After": "2"})) == 2
    assert retry.get_retry_after(HTTPResponse(status=503, headers={"Retry-After": "86400"})) == MAX_RETRY_AFTER_S
    later = retry.increment("POST", "/b/k?uploads", HTTPResponse(status=503))
    assert later.get_retry_after(HTTPResponse(status=503, headers={"Retry-After": "86400"})) == MAX_RETRY_AFTER_S
