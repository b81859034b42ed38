"""ID numbers, object keys and media sniffing: the pure rules of the design."""

import hashlib

import pytest

from pv_model.identity import (
    InvalidIdCardNumber,
    id_checksum_ok,
    mask_id,
    mask_id_like,
    mask_values_in,
    normalize_id_card,
)
from pv_model.keys import InvalidKeySegment, mask_key, object_key_stem, pseudonymize_id, stem_of, url_hash
from resources.sniff import NotMedia, sniff_media_type

VALID_ID = "11010519491231002X"  # the GB 11643 standard's own example


@pytest.mark.parametrize(
    "raw", ["11010519491231002X", "11010519491231002x", " 110105 19491231002X ", "１１０１０５１９４９１２３１００２Ｘ"]
)
def test_id_numbers_in_the_wild_normalize_to_one_form(raw):
    assert normalize_id_card(raw) == VALID_ID


def test_legacy_15_digit_numbers_are_accepted():
    assert normalize_id_card("110105491231002") == "110105491231002"


@pytest.mark.parametrize(
    "raw",
    [
        "../../x",
        "1101/0519491231002X",
        "11010519491231\n02X",
        "",
        None,
        "abc",
        "1" * 19,
        "११०१०५१९४९१२३१००२X",  # Devanagari digits: `\d` matches them, GB 11643 does not
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits
    ],
)
def test_anything_else_is_not_an_id_number_and_the_message_does_not_repeat_it(raw):
    with pytest.raises(InvalidIdCardNumber, match="invalid ID card number") as info:
        normalize_id_card(raw)
    if raw:
        assert raw.strip() not in str(info.value)


def test_checksum_by_stdnum():
    assert id_checksum_ok(VALID_ID)
    assert not id_checksum_ok("110105194912310021")


def test_mask_shows_first_six_and_last_four():
    assert mask_id(VALID_ID) == "110105********002X"
    assert mask_id("1234") == "****"
    assert mask_id_like(f"owner {VALID_ID} failed") == "owner 110105********002X failed"


def test_object_key_stem_is_deterministic_and_follows_the_design():
    url = "http://st.example.com/files/a.jpg"
    stem = object_key_stem("RC-320100", "ST-0001", VALID_ID, url)
    assert stem == f"RC-320100/ST-0001/{VALID_ID}_{hashlib.sha256(url.encode()).hexdigest()[:8]}"
    assert stem == object_key_stem("RC-320100", "ST-0001", VALID_ID, url)
    assert stem_of(stem + ".jpg") == stem


def test_a_fresh_signature_keeps_the_key():
    assert url_hash("https://o.example.com/a.jpg?Signature=1&Expires=2") == url_hash("https://o.example.com/a.jpg")


@pytest.mark.parametrize("segment", ["../x", "a/b", "", "..", "RC-9\n", "RC-9\r\n"])
def test_unsafe_segments_never_reach_a_key(segment):
    with pytest.raises(InvalidKeySegment):
        object_key_stem(segment, "ST-1", VALID_ID, "http://h/a.jpg")


def test_mask_key_hides_the_id_part():
    assert mask_key(f"RC/ST/{VALID_ID}_0badcafe.jpg") == "RC/ST/110105********002X_0badcafe.jpg"


def test_pseudonymized_id_is_keyed_and_stable():
    a = pseudonymize_id(VALID_ID, b"k1")
    assert a == pseudonymize_id(VALID_ID, b"k1") and a != pseudonymize_id(VALID_ID, b"k2")
    assert VALID_ID not in a and len(a) == 24


@pytest.mark.parametrize(
    ("head", "ext", "kind"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ".jpg", "photo"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ".png", "photo"),
        (b"GIF89a\x01\x00", ".gif", "photo"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ".webp", "photo"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", ".heic", "photo"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", ".heif", "photo"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", ".mp4", "video"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", ".mov", "video"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", ".avi", "video"),
    ],
)
def test_sniff_accepts_the_media_of_the_interface(head, ext, kind):
    media = sniff_media_type(head + b"\x00" * 300)
    assert (media.extension, media.kind) == (ext, kind)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>login</body></html>", "HTML page"),
        (b"\xef\xbb\xbf  <html><head>", "HTML page"),
        (b'{"code": 401, "msg": "token"}', "JSON body"),
        (b"%PDF-1.7 ...", "unrecognised file type"),
        (b"", "empty body"),
    ],
)
def test_sniff_refuses_non_media_and_says_what_it_is(body, reason):
    with pytest.raises(NotMedia, match=reason):
        sniff_media_type(body)


def test_personal_values_inside_text_are_masked_longest_first():
    # "张三" inside "张三丰" must not leave "丰" behind a shorter mask.
    text = "张三丰户用分布式光伏项目, 联系人张三 13812345678"
    masked = mask_values_in(text, ["张三", "张三丰", "13812345678", ""])
    assert masked == "张**户用分布式光伏项目, 联系人张* 1**********"


@pytest.mark.parametrize("number", ["460100195001010010", "50010119500101001X", "320115195001010014"])
def test_a_valid_number_whose_area_code_is_younger_than_its_owner_is_valid(number):
    """Hainan (46), Chongqing (50) and Nanjing's Jiangning district (320115) were created after 1950, yet people
    born in 1950 carry those codes: a number keeps the area code of its first registration. python-stdnum's
    is_valid says no; the checksum and the birth date say yes, and the area question is asked apart."""
    from stdnum.cn import ric

    from pv_model.identity import id_area_known, id_checksum_ok

    assert not ric.is_valid(number)
    assert id_checksum_ok(number) and not id_area_known(number)


@pytest.mark.parametrize(
    ("number", "why"),
    [("110105195001010013", "wrong check digit"), ("110105195002300012", "30 February"), ("11010519500101001", "17")],
)
def test_a_wrong_check_digit_or_birth_date_is_still_invalid(number, why):
    from pv_model.identity import id_checksum_ok

    assert not id_checksum_ok(number), why
