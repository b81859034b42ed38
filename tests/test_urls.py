"""URL list splitting and normalising (d1): every rule of 'URL lists in the wild'."""

import pytest

from pv_model.urls import (
    InvalidMediaUrl,
    normalize_media_url,
    parse_url_items,
    redirect_target,
    split_url_field,
    url_identity,
)

BASE = "http://st0001.example.com:8080"


@pytest.mark.parametrize(
    ("field", "items"),
    [
        ("a.jpg,b.jpg", ["a.jpg", "b.jpg"]),
        ("a.jpg，b.jpg", ["a.jpg", "b.jpg"]),  # full-width comma
        (" a.jpg , b.jpg ,", ["a.jpg", "b.jpg"]),  # spaces, trailing comma
        ("a.jpg,,b.jpg,，", ["a.jpg", "b.jpg"]),  # empty items of both kinds
        ("a.jpg,a.jpg", ["a.jpg", "a.jpg"]),  # duplicates are kept here, removed by the manifest
        ("", []),
        ("  ", []),
        (None, []),
        (float("nan"), []),
    ],
)
def test_split_url_field(field, items):
    assert split_url_field(field) == items


def test_relative_url_resolves_against_the_station_base_url():
    assert normalize_media_url("/files/abc.jpg", BASE) == "http://st0001.example.com:8080/files/abc.jpg"
    assert normalize_media_url("files/abc.jpg", BASE + "/") == "http://st0001.example.com:8080/files/abc.jpg"


def test_raw_and_percent_encoded_chinese_names_give_the_same_url():
    raw = normalize_media_url("/files/R1/现场照片1.jpg", BASE)
    encoded = normalize_media_url("/files/R1/%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%871.jpg", BASE)
    lower = normalize_media_url("/files/R1/%e7%8e%b0%e5%9c%ba%e7%85%a7%e7%89%871.jpg", BASE)
    assert raw == encoded == lower == f"{BASE}/files/R1/%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%871.jpg"


def test_percent_is_never_encoded_twice():
    signed = "https://oss.example.com/a.jpg?Expires=1700000000&Signature=ab%2Bcd%3D"
    assert normalize_media_url(signed, BASE) == signed
    assert "%252B" not in normalize_media_url(signed, BASE)


def test_a_lone_percent_sign_is_escaped():
    assert normalize_media_url("/files/100%.jpg", BASE).endswith("/files/100%25.jpg")


def test_scheme_and_host_are_lower_cased_and_default_port_dropped():
    assert normalize_media_url("HTTP://CDN.Example.COM:80/A.jpg", BASE) == "http://cdn.example.com/A.jpg"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("ftp://files.example.com/a.jpg", "scheme 'ftp'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://x/1", "scheme 'gopher'"),
        ("data:image/png;base64,AAAA", "scheme 'data'"),
        ("http://user:pw@cdn.example.com/a.jpg", "credentials"),
        ("http:///a.jpg", "no host"),
        ("http://cdn.example.com/a\x00.jpg", "control characters"),
    ],
)
def test_refused_urls_say_why(item, reason):
    with pytest.raises(InvalidMediaUrl, match=reason):
        normalize_media_url(item, BASE)


def test_parse_url_items_keeps_refused_items_with_their_reason():
    items = parse_url_items("/a.jpg, ftp://x/b.jpg", BASE)
    assert [i.url for i in items] == [f"{BASE}/a.jpg", None]
    assert items[1].problem.startswith("invalid URL: scheme 'ftp'")


def test_url_identity_ignores_signatures_but_not_real_parameters():
    a = "https://oss.example.com/a.jpg?Expires=1&OSSAccessKeyId=k&Signature=s1"
    b = "https://oss.example.com/a.jpg?Expires=2&OSSAccessKeyId=k&Signature=s2"
    cos = "https://cos.example.com/a.jpg?q-sign-algorithm=sha1&q-signature=zz"
    assert url_identity(a) == url_identity(b) == "https://oss.example.com/a.jpg"
    assert url_identity(cos) == "https://cos.example.com/a.jpg"
    assert url_identity("http://h/f?id=1") != url_identity("http://h/f?id=2")


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("c.jpg", "http://st.example.com/a/c.jpg"),  # RFC 3986: relative to the directory
        ("/c.jpg", "http://st.example.com/c.jpg"),
        ("../c.jpg", "http://st.example.com/c.jpg"),
        ("https://oss.example.com/x.jpg?Signature=a%2Bb", "https://oss.example.com/x.jpg?Signature=a%2Bb"),
    ],
)
def test_redirect_targets_resolve_against_the_answering_url(location, target):
    assert redirect_target("http://st.example.com/a/b.jpg", location) == target
