"""The SSRF policy for media URLs (design: rules that hold everywhere)."""

import pytest

from resources.net_guard import ForbiddenTarget, MediaUrlPolicy

PUBLIC = {
    "cdn.example.com": ["93.184.216.34"],
    "sneaky.example.com": ["93.184.216.34", "10.1.2.3"],
    "meta.example.com": ["169.254.169.254"],
    "v6.example.com": ["fd00::1"],
}


def fake_resolver(host, port):
    if host not in PUBLIC:
        raise OSError("no such host")
    return PUBLIC[host]


POLICY = MediaUrlPolicy.for_station("http://127.0.0.1:8080", ["files.lan:9000", "nas.lan"], fake_resolver)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/files/a.jpg",  # the station's own host
        "http://127.0.0.1:9999/a.jpg",  # its host name at another port: still the station's machine
        "http://files.lan:9000/a.jpg",  # listed host:port
        "https://nas.lan/a.jpg",  # listed host, any port
        "https://cdn.example.com/a.jpg",  # public
        "http://93.184.216.34/a.jpg",
    ],
)
def test_allowed(url):
    POLICY.check(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.2/a.jpg", "loopback"),  # another loopback address is not the station
        ("http://localhost.localdomain.invalid/a.jpg", "cannot be resolved"),
        ("http://10.0.0.5/a.jpg", "private"),
        ("http://172.16.3.4/a.jpg", "private"),
        ("http://192.168.1.1/a.jpg", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/a.jpg", "loopback"),
        ("http://[fd00::1]/a.jpg", "private"),
        ("http://[fe80::1]/a.jpg", "link-local"),
        ("http://[::ffff:127.0.0.1]/a.jpg", "loopback"),
        ("http://0.0.0.0/a.jpg", "unspecified"),
        ("http://sneaky.example.com/a.jpg", "resolves to 10.1.2.3, which is a private address"),
        ("http://meta.example.com/a.jpg", "resolves to 169.254.169.254, which is a link-local address"),
        ("http://v6.example.com/a.jpg", "resolves to fd00::1"),
        ("http://nas.lan.evil.com/a.jpg", "cannot be resolved"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("gopher://cdn.example.com/", "scheme 'gopher'"),
        ("http://u:p@cdn.example.com/a.jpg", "credentials"),
    ],
)
def test_refused_with_a_specific_reason(url, reason):
    with pytest.raises(ForbiddenTarget, match=reason.replace(".", r"\.")):
        POLICY.check(url)


def test_station_host_means_scheme_host_and_port():
    assert POLICY.is_station_host("http://127.0.0.1:8080/x")
    assert not POLICY.is_station_host("http://127.0.0.1:8081/x")
    assert not POLICY.is_station_host("http://localhost:8080/x")


@pytest.mark.parametrize("address", ["[64:ff9b::127.0.0.1]", "[2002:7f00:1::]", "[::127.0.0.1]", "[2002:a00:1::]"])
def test_ipv6_forms_that_embed_a_private_ipv4_are_refused(address):
    with pytest.raises(ForbiddenTarget):
        POLICY.check(f"http://{address}/a.jpg")


def test_the_token_origin_includes_the_scheme():
    https = MediaUrlPolicy.for_station("https://st.example.com", (), fake_resolver)
    assert https.is_station_host("https://st.example.com/a.jpg")
    assert not https.is_station_host("http://st.example.com:443/a.jpg")  # would carry the token in clear text


def test_connect_time_check_catches_a_changed_dns_answer():
    POLICY.check_peer("cdn.example.com", 443, "93.184.216.34")
    POLICY.check_peer("127.0.0.1", 8080, "127.0.0.1")  # the station itself
    with pytest.raises(ForbiddenTarget, match="connected to 127.0.0.1, a loopback address"):
        POLICY.check_peer("cdn.example.com", 443, "127.0.0.1")
