"""conf/stations.yaml: loading, and errors that name the file, line, station and field."""

from pathlib import Path

import pytest

from pv_model.registry import RegistryError
from resources.registry import load_registry

GOOD = """\
defaults:
  max_connections: 3
stations:
  - id: ST-0001
    name: 某某分布式光伏
    base_url: https://st0001.example.com/
    region_company_code: RC-320100
    account_env: ST0001_ACCOUNT
    password_env: ST0001_PASSWORD
    media_hosts: [files.example.com]
  - id: ST-0002
    base_url: http://st0002.example.com
    account_env: ST0002_ACCOUNT
    password_env: ST0002_PASSWORD
    max_connections: 8
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stations.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_registry_loads_with_defaults(tmp_path):
    registry = load_registry(write(tmp_path, GOOD))
    first, second = registry.stations
    assert registry.ids() == ["ST-0001", "ST-0002"]
    assert first.base_url == "https://st0001.example.com" and first.max_connections == 3
    assert first.media_hosts == ("files.example.com",) and first.accepted_pickup_status == ("已提货", "picked_up")
    assert second.region_company_code is None and second.max_connections == 8
    assert first.source.endswith("stations.yaml:4")


def test_credentials_come_from_the_environment(tmp_path, monkeypatch):
    station = load_registry(write(tmp_path, GOOD)).get("ST-0001")
    monkeypatch.setenv("ST0001_ACCOUNT", "st-0001")
    monkeypatch.setenv("ST0001_PASSWORD", "s3cret-value")
    assert station.credentials() == ("st-0001", "s3cret-value")
    monkeypatch.delenv("ST0001_PASSWORD")
    with pytest.raises(
        RegistryError,
        match="stations.yaml:4: station ST-0001: field 'password_env': the environment variable it names is not set",
    ):
        station.credentials()
    monkeypatch.delenv("ST0001_ACCOUNT")
    with pytest.raises(RegistryError, match="field 'account_env': the environment variable ST0001_ACCOUNT is not set"):
        station.credentials()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "    max_connections: 8\n",
                "    max_connections: 8\n  - id: ST-0001\n    base_url: http://x\n"
                "    account_env: A\n    password_env: B\n",
            ),
            r"stations.yaml:16: station ST-0001: field 'id': duplicate station id \(first defined at line 4\)",
        ),
        (("    base_url: http://st0002.example.com\n", ""), r":11: station ST-0002: field 'base_url': is missing"),
        (
            ("http://st0002.example.com", "ftp://st0002.example.com"),
            r":11: station ST-0002: field 'base_url': "
            "must be an http\\(s\\) URL",
        ),
        (
            ("    password_env: ST0002_PASSWORD\n", "    password: hunter2-secret\n"),
            r":11: station ST-0002: field 'password': secrets are not kept in the registry",
        ),
        (
            ("password_env: ST0002_PASSWORD", "password_env: hunter2 secret!"),
            r"field 'password_env': must be the NAME of an environment variable",
        ),
        (("max_connections: 8", "max_connections: many"), r"field 'max_connections': must be a whole number"),
        (("- id: ST-0002", "- id: ../ST"), r"station ../ST: field 'id'"),
        (("    media_hosts: [files.example.com]\n", "    mediahosts: []\n"), r"field 'mediahosts': unknown field"),
    ],
)
def test_each_broken_registry_names_file_line_station_and_field(tmp_path, change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(RegistryError, match=message) as info:
        load_registry(write(tmp_path, GOOD.replace(old, new, 1)))
    assert "hunter2" not in str(info.value)


def test_bad_yaml_names_the_line(tmp_path):
    with pytest.raises(RegistryError, match=r"stations.yaml:3: not valid YAML"):
        load_registry(write(tmp_path, "stations:\n  - id: [unclosed\n  - id: x\n"))


def test_duplicate_yaml_keys_are_refused(tmp_path):
    with pytest.raises(RegistryError, match=r"stations.yaml:7: not valid YAML: duplicate key 'base_url'"):
        load_registry(
            write(tmp_path, GOOD.replace("    region_company_code: RC-320100\n", "    base_url: http://other\n"))
        )


def test_missing_registry_says_how_to_point_at_one(tmp_path):
    with pytest.raises(RegistryError, match="station registry not found .*PV_STATIONS_FILE"):
        load_registry(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("change", "message", "secret"),
    [
        (
            ("base_url: https://st0001.example.com/", "base_url: ftp://admin:Pw-77aa@st0001.example.com/"),
            r":4: station ST-0001: field 'base_url': must be an http\(s\) URL with a host$",
            "Pw-77aa",
        ),
        (
            ("base_url: https://st0001.example.com/", "base_url: https://admin:Pw-77aa@st0001.example.com/"),
            r"field 'base_url': must not carry credentials$",
            "Pw-77aa",
        ),
        (
            ("password_env: ST0001_PASSWORD", "password_env: Summer2024_Pw_7731"),
            r":4: station ST-0001: field 'password_env': must be the NAME of an environment variable",
            "Summer2024_Pw_7731",
        ),
        (
            ("base_url: https://st0001.example.com/", "base_url: https://st0001.example.com:99999/"),
            r"field 'base_url': has an invalid port \(a number from 1 to 65535\)$",
            "99999",
        ),
        (
            ("  max_connections: 3\n", "  max_connections: 3\n  password: Summer2024_Pw_7731\n"),
            r"stations.yaml:2: defaults: field 'password': secrets are not kept in the registry",
            "Summer2024_Pw_7731",
        ),
        (
            ("  max_connections: 3\n", "  max_conections: 3\n"),
            r"stations.yaml:2: defaults: field 'max_conections': unknown field \(did you mean 'max_connections'\?\)",
            None,
        ),
        (
            ("  max_connections: 3\n", "  max_connections: 0\n"),
            r"defaults: field 'max_connections': must be a whole number of at least 1",
            None,
        ),
        (
            ("    media_hosts: [files.example.com]\n", "    media_host: [files.example.com]\n"),
            r"field 'media_host': unknown field \(did you mean 'media_hosts'\?\)",
            None,
        ),
        (
            ("region_company_code: RC-320100", 'region_company_code: "RC-9\\nX"'),
            r"field 'region_company_code': must be letters, digits",
            None,
        ),
    ],
)
def test_errors_never_print_values_that_may_be_secrets(tmp_path, change, message, secret):
    old, new = change
    assert old in GOOD
    with pytest.raises(RegistryError, match=message) as info:
        load_registry(write(tmp_path, GOOD.replace(old, new, 1)))
    if secret:
        assert secret not in str(info.value)


def test_a_parsed_registry_is_reused_by_the_next_process_without_parsing(tmp_path, monkeypatch):
    from resources import registry as registry_module

    path = write(tmp_path, GOOD)
    first = load_registry(path)
    assert len(list((tmp_path / "cache").glob("registry-*.json"))) == 1
    registry_module._load_version.cache_clear()  # as a new process would start

    def no_parsing(*_args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(registry_module, "read_yaml", no_parsing)
    again = load_registry(path)
    assert again.stations == first.stations and again.stations[0].source.endswith("stations.yaml:4")
    # A changed file is parsed again (new sha256), never served from the cache.
    path.write_text(GOOD.replace("ST-0002", "ST-0009"), encoding="utf-8")
    with pytest.raises(AssertionError, match="parsed again"):
        load_registry(path)


def test_a_station_names_its_own_signature_parameters(tmp_path):
    text = GOOD.replace("    media_hosts: [files.example.com]\n", "    signature_params: [sign, ' ts ']\n")
    first = load_registry(write(tmp_path, text)).stations[0]
    assert first.signature_params == ("sign", "ts")
    assert load_registry(write(tmp_path, GOOD)).stations[1].signature_params == ()


def test_a_misspelled_top_level_key_gets_a_did_you_mean(tmp_path):
    with pytest.raises(
        RegistryError, match=r"stations.yaml: unknown top-level key 'statons' \(did you mean 'stations'\?\)"
    ):
        load_registry(write(tmp_path, GOOD.replace("stations:\n", "statons:\n", 1)))


def test_a_password_written_in_capitals_where_its_variable_belongs_is_never_printed(tmp_path, monkeypatch):
    station = load_registry(write(tmp_path, GOOD.replace("ST0001_PASSWORD", "XK7Q9ZP2M4W8"))).get("ST-0001")
    monkeypatch.setenv("ST0001_ACCOUNT", "st-0001")
    with pytest.raises(RegistryError) as info:
        station.credentials()
    assert "XK7Q9ZP2M4W8" not in str(info.value) and "password_env" in str(info.value)


def test_codes_keep_their_leading_zeros_and_merge_keys_still_merge(tmp_path):
    # YAML 1.2 (ryaml): 0012 is the string a station cloud uses, not PyYAML 1.1's octal 10.
    text = (
        GOOD.replace("    name: 某某分布式光伏\n", "    station_code: 0012\n").replace(
            "  - id: ST-0001\n", "  - &first\n    id: ST-0001\n"
        )
        + "  - <<: *first\n    id: ST-0003\n    max_connections: 5\n"
    )
    first, _, third = load_registry(write(tmp_path, text)).stations
    assert first.station_code == "0012"
    assert (third.id, third.base_url, third.station_code, third.max_connections) == (
        "ST-0003", "https://st0001.example.com", "0012", 5,
    )  # fmt: skip
    assert third.source.endswith("stations.yaml:17")


def test_line_numbers_are_looked_up_only_when_a_message_needs_one(tmp_path, monkeypatch):
    import yaml

    path = write(tmp_path, GOOD)

    def no_second_parse(*_args, **_kwargs):
        raise AssertionError("parsed for line numbers")

    with monkeypatch.context() as patch:
        patch.setattr(yaml, "compose", no_second_parse)
        patch.setattr(yaml, "load", no_second_parse)
        station = load_registry(path).get("ST-0002")
    monkeypatch.delenv("ST0002_ACCOUNT", raising=False)
    with pytest.raises(RegistryError, match=r"stations.yaml:11: station ST-0002: field 'account_env'"):
        station.credentials()


def test_a_registry_saved_with_a_bom_loads(tmp_path):
    path = tmp_path / "stations.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode("utf-8"))  # as Notepad saves UTF-8
    assert load_registry(path).ids() == ["ST-0001", "ST-0002"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        # YAML reads these as floats: the code as written (1e5, 1.50) would be lost.
        ("    name: 某某分布式光伏\n", "    station_code: 1e5\n", r"yaml:4: station ST-0001: field 'station_code'"),
        ("- id: ST-0002", "- id: 1.50", r"stations.yaml:11: stations\[1\]: field 'id'"),
    ],
)
def test_a_code_yaml_reads_as_a_float_must_be_quoted(tmp_path, old, new, message):
    with pytest.raises(RegistryError, match=message + ": is read as a number, not as written: put it in quotes"):
        load_registry(write(tmp_path, GOOD.replace(old, new, 1)))


def test_a_number_the_parser_cannot_hold_is_refused_without_printing_it(tmp_path):
    secret = "98765432109876543210987654"
    with pytest.raises(RegistryError, match=r"not valid YAML: .* at line 5 column 15") as info:
        load_registry(write(tmp_path, GOOD.replace("    name: 某某分布式光伏\n", f"    password: {secret}\n")))
    assert secret not in str(info.value)


def test_a_duplicate_key_beside_a_merge_key_is_named_with_its_line(tmp_path):
    text = GOOD.replace("  - id: ST-0001\n", "  - &first\n    id: ST-0001\n") + (
        "  - <<: *first\n    id: ST-0003\n    base_url: http://b\n    base_url: http://c\n"
    )
    with pytest.raises(RegistryError, match=r"stations.yaml:20: not valid YAML: duplicate key 'base_url'"):
        load_registry(write(tmp_path, text))


def test_region_names_are_read_by_code_and_a_bad_entry_is_named(tmp_path):
    named = "regions:\n  RC-320100: 南京区域公司\n  RC-330100: 杭州区域公司\n" + GOOD
    registry = load_registry(write(tmp_path, named))
    assert registry.region_name("RC-320100") == "南京区域公司" and registry.region_name("RC-999999") is None
    assert registry.region_name(None) is None and load_registry(write(tmp_path, GOOD)).region_names == {}
    with pytest.raises(RegistryError, match=r"regions: entry 'RC-320100': a region company code and its name"):
        load_registry(write(tmp_path, "regions:\n  RC-320100: [a, list]\n" + GOOD))
    with pytest.raises(RegistryError, match="unknown top-level key 'region'.*did you mean 'regions'"):
        load_registry(write(tmp_path, "region:\n  RC-320100: 南京区域公司\n" + GOOD))
