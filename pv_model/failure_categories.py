"""Why something could not be collected, in categories a manager reads (the engineer keeps the reason).

Pure: the health table's producer and the gallery's pages both sort reasons with it; the words for
each category are the gallery's (pv_gallery.i18n). The first rule that matches wins, in this order.
"""

from __future__ import annotations

import re

CATEGORIES = (
    "login_failed",  # 登录失败（账号或密码错误）
    "link_dead",  # 链接失效 (404, too many redirects)
    "file_deleted",  # 文件已删除 (410)
    "not_media",  # 返回网页而非图片
    "unsafe_address",  # 地址不安全已拒绝 (SSRF rules)
    "bad_link",  # 链接格式错误 (not a http(s) URL, no ID number...)
    "no_response",  # 站点无响应 (timeouts, 5xx, connection refused)
    "too_large",  # 文件过大
    "other",
)
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("login_failed", r"login failed|bad_credentials|refused the \w+ credentials|unauthorized|invalid_client"),
        ("file_deleted", r"^gone\b|HTTP 410"),
        ("link_dead", r"^not_found\b|HTTP 404|too_many_redirects"),
        ("not_media", r"^not_media\b|HTML|login page"),
        ("unsafe_address", r"^forbidden_target\b"),
        ("bad_link", r"^invalid_input\b|invalid URL"),
        ("too_large", r"^too_large\b|byte cap"),
        ("no_response", r"timed? ?out|timeout|deadline|unavailable|connect|HTTP 5\d\d|transient|^http_error\b"),
    )
)


def category_of(reason: str | None) -> str:
    """The manager's category of a technical reason ("gone: HTTP 410" -> file_deleted)."""
    text = (reason or "").strip()
    for name, pattern in _RULES:
        if pattern.search(text):
            return name
    return "other"
