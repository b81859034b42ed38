"""The gallery index as producer (pv_assets) and viewer (pv_gallery) agree on it: where it is, its
columns, and which record fields a page may show (an allow-list; the rule is in docs/security.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from pv_model.personal_data import mask_personal_text

GALLERY_PREFIX = "_pv-media/gallery"
INDEX_KEY = f"{GALLERY_PREFIX}/index.parquet"
PIECES_PREFIX = f"{GALLERY_PREFIX}/stations/"

# name, pyarrow type name.
INDEX_COLUMNS: list[tuple[str, str]] = [
    ("item_id", "string"),
    ("region_company_code", "string"),
    ("station_id", "string"),
    ("station_name", "string"),
    ("record_id", "string"),
    ("pickup_status", "string"),
    ("pickup_status_raw", "string"),
    ("id_card_masked", "string"),
    ("record_fields", "string"),
    ("media_kind", "string"),
    ("media_field", "string"),
    ("status", "string"),
    ("failure_reason", "string"),
    ("object_key", "string"),
    ("content_type", "string"),
    ("thumb_key", "string"),
    ("medium_key", "string"),
    ("poster_key", "string"),
    ("preview_problem", "string"),
    ("size", "int64"),
    ("width", "int64"),
    ("height", "int64"),
    ("duration_s", "float64"),
    ("collected_at", "string"),
    # The regional company's name from the registry's `regions:` (null when it names none: show the code).
    ("region_company_name", "string"),
    # What a photo shows (pv_model.photo_types; "other" when the dialect does not say), null for videos.
    ("photo_type", "string"),
    # The record's required photo types, comma-separated (the registry's setting for its station).
    ("required_photo_types", "string"),
    # The planner's typed fields (pv_model.dialect.planner), null where the station gives none or it did not
    # read; the text ones masked like record_fields. Coordinates are the installation's: pages round them.
    ("capacity_kw", "float64"),
    ("install_date", "date32"),
    ("pickup_date", "date32"),
    ("project_name", "string"),
    ("province", "string"),
    ("city", "string"),
    ("county", "string"),
    ("town", "string"),
    ("village", "string"),
    ("address", "string"),
    ("latitude", "float64"),
    ("longitude", "float64"),
]
INDEX_COLUMN_NAMES = [name for name, _type in INDEX_COLUMNS]

# -- which record fields a page may show (docs/security.md) ----------------------------------------
#
# Allowed, not merely "not known to be personal": a field is shown when a part of its name says it
# describes the installation (project, address, capacity, dates, coordinates, equipment) and no part
# says it is about a person (owner, phone, ID, e-mail, bank, household, account, ...). Anything else
# is left out. Nested values are walked: `household.mobile` is personal by its first part,
# `location.lat` descriptive by its last. Every value shown is masked again by what it looks like
# (pv_model.personal_data): an ID, phone, e-mail or bank number in a descriptive field is masked too.

# ASCII names: a whole word (camelCase, snake_case, kebab-case split) or, for the long stems, its start.
_PERSONAL_WORDS = frozenset(
    "owner customer user username person people contact contacts phone phones mobile cell tel telephone fax "
    "cert certificate idcard idno idnumber identity passport email mail emails household householder holder "
    "account acct bank card iban birth birthday dob gender sex age nation ethnicity wechat weixin qq signature "
    "nickname surname firstname lastname fullname family spouse relative applicant signer marital marriage "
    "education income religion health "
    # pinyin abbreviations stations use: 姓名 户名 户主姓名 业主姓名 联系人 联系电话 电话 手机号 身份证(号/号码)
    # 证件号码 银行卡(号) 开户行 - and the same spelled out
    "xm hm hzxm yzxm lxr lxdh dh sjh sjhm sfz sfzh sfzhm zjhm yhk yhkh khh xingming huming lianxiren "
    "dianhua shouji shenfenzheng".split()
)
_PERSONAL_STEMS = (
    "owner",
    "customer",
    "username",
    "person",
    "contact",
    "phone",
    "mobile",
    "telephone",
    "certif",
    "idcard",
    "idno",
    "idnum",
    "passport",
    "email",
    "household",
    "account",
    "birth",
    "wechat",
    "signature",
    "surname",
    "nickname",
)
# Looked for in the name with case and separators removed: `IDNumber`, `id_card_no`, `OWNERNAME`.
_PERSONAL_FLAT = (
    "idcard",
    "idno",
    "idnum",
    "identity",
    "phone",
    "mobile",
    "email",
    "passport",
    "owner",
    "customer",
    "contact",
    "household",
    "birth",
    "wechat",
    "bankcard",
    "account",
)
_PERSONAL_CJK = (
    "身份",
    "证件",
    "电话",
    "手机",
    "联系",
    "户主",
    "户名",
    "姓名",
    "名字",
    "业主",
    "客户",
    "用户",
    "邮箱",
    "邮件",
    "银行",
    "卡号",
    "账号",
    "账户",
    "开户",
    "出生",
    "生日",
    "性别",
    "民族",
    "年龄",
    "微信",
    "签名",
    "签字",
    "家属",
    "配偶",
    "申请人",
)
# A plain `name` (or `xm`, `姓名`...) is a person's: not shown, and its value masked elsewhere in the record;
# `projectName` is the project's.
_NAME_WORDS = frozenset("name names".split())
# Never shown though not about a person: links and secrets.
_HIDDEN_WORDS = frozenset("url urls uri link links href path key token secret password pwd sign".split())
_SHOWN_WORDS = frozenset(
    "project projects address addr province city county district town township village street road "
    "capacity kw kwp mw power date time day year month latitude longitude lat lng lon altitude elevation "
    "module modules panel panels inverter inverters meter meters brand model manufacturer count qty quantity "
    "type kind category status station plant site area roof orientation tilt azimuth grid voltage phase "
    "install installation installed pickup commissioning construction completion acceptance region location "
    "coordinates gps".split()
)
_SHOWN_STEMS = (
    "project",
    "address",
    "capacit",
    "install",
    "latitud",
    "longitud",
    "province",
    "district",
    "village",
    "inverter",
    "module",
    "panel",
    "commission",
)
_SHOWN_CJK = (
    "项目",
    "地址",
    "省",
    "市",
    "县",
    "区",
    "镇",
    "乡",
    "村",
    "街道",
    "容量",
    "功率",
    "日期",
    "时间",
    "经度",
    "纬度",
    "组件",
    "逆变器",
    "电表",
    "品牌",
    "型号",
    "数量",
    "类型",
    "状态",
    "名称",
    "屋顶",
    "朝向",
    "倾角",
    "并网",
    "电压",
    "安装",
    "提货",
    "验收",
    "竣工",
    "区域",
    "场站",
    "电站",
    "位置",
)
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
MAX_DEPTH = 6  # nested values deeper than this are not shown
MAX_SHOWN = 100  # fields per record
MAX_VALUE_CHARS = 500
MAX_JSON_CHARS = 64 * 1024  # a text that holds JSON is walked when it is at most this long


def _words(name: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(name)]


def _says(name: str, words: frozenset[str], stems: tuple[str, ...], cjk: tuple[str, ...]) -> bool:
    found = _words(name)
    return (
        any(w in words for w in found)
        or any(w.startswith(stem) for w in found for stem in stems)
        or any(part in name for part in cjk)
    )


def is_personal_field(name: str) -> bool:
    """True when a part of the field name says it is about a person."""
    flat = re.sub(r"[^a-z0-9]", "", name.lower())
    return any(part in flat for part in _PERSONAL_FLAT) or _says(name, _PERSONAL_WORDS, _PERSONAL_STEMS, _PERSONAL_CJK)


def is_shown_field(path: Sequence[str]) -> bool:
    """A field (its name, or its path into a nested value) a page may show: see the rule above."""
    if any(is_personal_field(part) or any(w in _HIDDEN_WORDS for w in _words(part)) for part in path):
        return False
    return any(_says(part, _SHOWN_WORDS, _SHOWN_STEMS, _SHOWN_CJK) for part in path)


def _nested(value: Any) -> Any:
    """A text that holds a JSON object or array, parsed: stations nest values, and the record table keeps
    them as JSON text."""
    if isinstance(value, str) and len(value) <= MAX_JSON_CHARS and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def leaves(values: Mapping[str, Any], depth: int = 0) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(path, value) of every scalar in a record's values, nested objects and arrays walked."""
    for key, value in values.items():
        value = _nested(value)
        if isinstance(value, Mapping):
            if depth < MAX_DEPTH:
                yield from (((str(key), *path), v) for path, v in leaves(value, depth + 1))
        elif isinstance(value, list):
            if depth < MAX_DEPTH:
                indexed = {f"{n}": item for n, item in enumerate(value)}
                yield from (((str(key), *path), v) for path, v in leaves(indexed, depth + 1))
        elif value is not None and value != "":
            yield (str(key),), value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def personal_values(values: Mapping[str, Any]) -> set[str]:
    """The values of a record's personal fields (nested ones too), to be masked wherever else they appear.

    Only values of two characters or more with a letter or digit (not a placeholder like "--", which
    would mangle every field it occurs in) and not shaped like an ID number (that has its own mask)."""
    found = set()
    for path, value in leaves(values):
        text = _text(value).strip()
        about_a_person = any(is_personal_field(part) for part in path) or (
            not is_shown_field(path) and _words(path[-1])[-1:] in ([w] for w in _NAME_WORDS)
        )
        if about_a_person and len(text) >= 2 and any(c.isalnum() for c in text):
            if mask_personal_text(text) == text:
                found.add(text)
    return found


# A household's coordinates are shown to 0.01 degree (about 1 km: a village, not a house), as the map shows them.
_COORDINATE_WORDS = frozenset("latitude longitude lat lng lon coordinate coordinates gps".split())
_COORDINATE_CJK = ("经度", "纬度", "坐标")
_PRECISE_DECIMAL = re.compile(r"(?<![\d.])-?\d{1,3}\.\d{3,}(?![\d.])")


def _is_coordinate(name: str) -> bool:
    return any(w in _COORDINATE_WORDS for w in _words(name)) or any(c in name for c in _COORDINATE_CJK)


def coarse_coordinates(text: str) -> str:
    """Every decimal number with three or more decimals rounded to two (32.0612,118.7934 -> 32.06,118.79)."""
    return _PRECISE_DECIMAL.sub(lambda m: f"{float(m.group(0)):.2f}", text)


def shown_fields(values: Mapping[str, Any], personal: Iterable[str] = ()) -> dict[str, str]:
    """The fields of a record a page may show, by dotted path, each value masked: by what it looks like
    (ID, phone, e-mail, bank numbers) and where it holds one of the record's `personal` values; a
    coordinate to 0.01 degree."""
    personal = sorted({p for p in personal if p}, key=len, reverse=True)
    shown: dict[str, str] = {}
    for path, value in leaves(values):
        if len(shown) >= MAX_SHOWN:
            break
        if not is_shown_field(path):
            continue
        text = mask_personal_text(_text(value))
        if _is_coordinate(path[-1]):
            text = coarse_coordinates(text)
        for secret in personal:
            text = text.replace(secret, secret[:1] + "*" * (len(secret) - 1))
        shown[".".join(path)] = text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"
    return shown


def station_page_url(public_url: str | None, station_id: str) -> str | None:
    """The viewer's page of a station under the gallery's public address (PV_GALLERY_PUBLIC_URL), or None when
    no address is configured: the producer links to it from the Dagster UI, the viewer serves it."""
    base = (public_url or "").strip().rstrip("/")
    if not base:
        return None
    return f"{base}/station/{quote(station_id, safe='')}"


# -- the station health table (issue 25): every registry station, collected or not -----------------
# Written by the station_health asset (pv_assets/gallery/health.py) beside the index; times are UTC ISO 8601.
HEALTH_KEY = f"{GALLERY_PREFIX}/station-health.parquet"
HEALTH_COLUMNS: list[tuple[str, str]] = [
    ("station_id", "string"),
    ("station_name", "string"),
    ("region_company_code", "string"),
    ("region_company_name", "string"),
    ("last_attempt_at", "string"),  # when the latest finished collection ended; null: never attempted
    ("last_outcome", "string"),  # succeeded | failed | never
    ("last_success_at", "string"),  # null: never succeeded
    ("failure_reason", "string"),  # the latest failure's technical reason, masked; null when it succeeded
    ("failure_category", "string"),  # pv_model.failure_categories
    ("run_id", "string"),  # the latest run, for the Dagster UI link
]
# Collection health over time: each station's state as the month's last health run saw it (one row per station
# and month, the last 36 months), for the dashboard's health series.
HEALTH_HISTORY_KEY = f"{GALLERY_PREFIX}/station-health-history.parquet"
HEALTH_HISTORY_COLUMNS: list[tuple[str, str]] = [
    ("month", "string"),  # YYYY-MM (UTC)
    ("station_id", "string"),
    ("region_company_code", "string"),
    ("last_outcome", "string"),  # succeeded | failed | never
]
