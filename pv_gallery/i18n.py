"""The gallery's words: Chinese by default (its readers are planners and supervisors), English on request."""

from __future__ import annotations

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "光伏安装影像库",
        "overview": "总览",
        "regions": "区域",
        "region": "区域",
        "stations": "场站",
        "station": "场站",
        "picked_up": "已提货安装",
        "with_photo": "有照片",
        "with_video": "有视频",
        "media_items": "影像数",
        "failed": "失败",
        "gap": "缺照片",
        "gap_help": "已提货但没有任何照片的安装",
        "last_collected": "最近采集",
        "all_regions": "全部区域",
        "installations": "安装",
        "record_id": "记录编号",
        "id_card": "身份证号",
        "photos": "照片",
        "videos": "视频",
        "pickup_status": "提货状态",
        "media_kind": "影像类型",
        "any": "全部",
        "photo": "照片",
        "video": "视频",
        "none": "无影像",
        "search": "搜索",
        "search_placeholder": "记录编号或身份证后4位",
        "filter": "筛选",
        "no_results": "没有符合条件的安装。",
        "page": "页",
        "prev": "上一页",
        "next": "下一页",
        "of": "共",
        "installation": "安装",
        "fields": "记录信息",
        "no_photo": "无照片",
        "no_preview": "无预览",
        "full_size": "查看原图",
        "failed_items": "采集失败的影像",
        "reason": "原因",
        "login": "登录",
        "logout": "退出",
        "password": "口令",
        "login_failed": "口令不正确。",
        "login_throttled": "失败次数过多，请稍后再试。",
        "proxy_only": "请通过单位的统一登录入口访问。",
        "no_index": "还没有图库索引。请先运行采集：pv-media collect --all",
        "bad_index": "图库索引无法读取（格式不符）。请重新运行采集：pv-media collect --all",
        "not_found": "未找到。",
        "store_error": "对象存储暂时无法读取，请稍后再试。",
        "language": "English",
        "back": "返回",
        "photo_n": "照片",
        "duration": "时长",
        "sort_by": "排序",
    },
    "en": {
        "title": "PV installation gallery",
        "overview": "Overview",
        "regions": "Regions",
        "region": "Region",
        "stations": "Stations",
        "station": "Station",
        "picked_up": "Picked up",
        "with_photo": "With photo",
        "with_video": "With video",
        "media_items": "Media items",
        "failed": "Failed",
        "gap": "No photo",
        "gap_help": "picked-up installations without any photo",
        "last_collected": "Last collected",
        "all_regions": "All regions",
        "installations": "Installations",
        "record_id": "Record",
        "id_card": "ID number",
        "photos": "Photos",
        "videos": "Videos",
        "pickup_status": "Pickup status",
        "media_kind": "Media",
        "any": "Any",
        "photo": "Photo",
        "video": "Video",
        "none": "No media",
        "search": "Search",
        "search_placeholder": "record id or last 4 of the ID",
        "filter": "Filter",
        "no_results": "No installation matches.",
        "page": "Page",
        "prev": "Previous",
        "next": "Next",
        "of": "of",
        "installation": "Installation",
        "fields": "Record",
        "no_photo": "no photo",
        "no_preview": "no preview",
        "full_size": "Full size",
        "failed_items": "Media that could not be collected",
        "reason": "Reason",
        "login": "Sign in",
        "logout": "Sign out",
        "password": "Password",
        "login_failed": "Wrong password.",
        "login_throttled": "Too many failed attempts; try again later.",
        "proxy_only": "Open the gallery through your organisation's sign-on portal.",
        "no_index": "There is no gallery index yet. Run the collection first: pv-media collect --all",
        "bad_index": "The gallery index cannot be read (unexpected format). "
        "Run the collection again: pv-media collect --all",
        "not_found": "Not found.",
        "store_error": "The object store cannot be read right now; try again later.",
        "language": "中文",
        "back": "Back",
        "photo_n": "Photo",
        "duration": "Duration",
        "sort_by": "Sort",
    },
}

# Labels for the record fields stations commonly send; others are shown by their own name.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "projectName": "项目名称",
        "address": "地址",
        "capacityKw": "装机容量 (kW)",
        "installDate": "安装日期",
        "installationDate": "安装日期",
        "pickupTime": "提货时间",
        "latitude": "纬度",
        "longitude": "经度",
        "county": "区县",
        "village": "村",
    },
    "en": {
        "projectName": "Project",
        "address": "Address",
        "capacityKw": "Capacity (kW)",
        "installDate": "Installed",
        "installationDate": "Installed",
        "pickupTime": "Picked up at",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "county": "County",
        "village": "Village",
    },
}


def pick_language(query_value: str | None, cookie_value: str | None) -> str:
    for value in (query_value, cookie_value):
        if value in LANGUAGES:
            return value
    return DEFAULT_LANGUAGE


class Translator:
    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._strings = STRINGS[self.lang]

    def __call__(self, key: str) -> str:
        return self._strings.get(key, key)

    def field(self, name: str) -> str:
        return FIELD_LABELS[self.lang].get(name, name)
