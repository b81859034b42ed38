"""Credentials in media links stay out of what is kept (issue 22, item 11): the audit tables and Dagster's metadata
get a keyed tag in place of the value, the same redactor `dialect check` and the logs use."""

from __future__ import annotations

import pandas as pd

from pv_assets.io_manager import without_link_secrets
from pv_assets.metadata import masked_preview
from pv_model.scrub import redact_link_secrets, scrub

LINK = "https://cdn.example.cn/a/1.jpg?{}=s3cr3t-Value-91&size=large"


def test_every_secret_looking_query_key_is_replaced_by_a_tag_and_the_rest_of_the_link_stays():
    for name in ("token", "access_token", "api_key", "apiKey", "auth_token", "accessToken", "X-Amz-Signature", "sign"):
        redacted = redact_link_secrets(LINK.format(name))
        assert "s3cr3t" not in redacted
        assert redacted.startswith(f"https://cdn.example.cn/a/1.jpg?{name}=[redacted:")
        assert redacted.endswith("]&size=large") and len(redacted) == len(LINK.format(name)) - 15 + 21
        assert scrub(LINK.format(name)) == f"https://cdn.example.cn/a/1.jpg?{name}=[redacted]&size=large"
    plain = "https://cdn.example.cn/a/1.jpg?id=5&size=large&page=2"
    assert redact_link_secrets(plain) == plain


def test_two_links_that_differ_only_in_their_token_stay_two_and_the_tag_is_keyed(monkeypatch):
    one, two = "https://h/f?token=a1", "https://h/f?token=b2"
    assert redact_link_secrets(one) != redact_link_secrets(two)
    assert redact_link_secrets(one) == redact_link_secrets(one)
    unkeyed = redact_link_secrets(one)
    monkeypatch.setenv("PV_ID_PSEUDONYM_KEY", "group-privacy-key")
    assert redact_link_secrets(one) != unkeyed  # a keyed hash: without the key, a short token is not guessed


def test_the_stored_table_and_the_preview_keep_no_credential_and_a_table_without_one_is_left_alone():
    frame = pd.DataFrame(
        {
            "record_id": ["R1", "R2"],
            "source_url": [LINK.format("token"), "https://h/b.jpg"],
            "media_items": ['[["photo","photoUrls","https://h/a?access_token=s3cr3t-Value-91",null]]', None],
            "size": [1, 2],
        }
    )
    stored = without_link_secrets(frame)
    assert "s3cr3t" not in stored.to_csv() and "s3cr3t" in frame.to_csv()  # the run's own table stays whole
    assert stored.loc[1, "source_url"] == "https://h/b.jpg" and stored["size"].tolist() == [1, 2]
    assert without_link_secrets(frame.drop(columns=["source_url", "media_items"])) is None
    preview = masked_preview(frame, ["record_id", "source_url"]).value
    assert "s3cr3t" not in preview and "token=[redacted:" in preview
