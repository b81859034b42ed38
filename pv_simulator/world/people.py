"""The households: owners' names, ID numbers (GB 11643, valid check character) and mobile numbers."""

from __future__ import annotations

import datetime as dt
import random

from stdnum.cn import ric

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "建国",
    "国强",
    "玉兰",
    "春梅",
    "海燕",
    "志强",
    "德明",
    "永福",
    "金花",
    "红梅",
    "文华",
    "立新",
    "家豪",
    "子涵",
    "宇航",
    "欣怡",
]
_MOBILE_PREFIXES = [
    "130",
    "131",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def owner_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def id_card_number(rng: random.Random, area_codes: tuple[str, ...], taken: set[str]) -> str:
    """A unique 18-character ID number of someone born 1950-2000 (most in the 1960s-70s, who own the houses),
    with the first of `area_codes` (newest first, the city's own code last) that was in use in the birth year,
    as stdnum checks it."""
    for _attempt in range(50):
        year = round(rng.triangular(1950, 2000, 1968))
        birth = dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        sequence = f"{rng.randint(0, 999):03d}"
        for code in area_codes:
            body = f"{code}{birth:%Y%m%d}{sequence}"
            number = body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character
            if ric.is_valid(number):
                break
        else:
            continue
        if number not in taken:
            taken.add(number)
            return number
    raise ValueError(f"no valid ID number for area codes {area_codes}")
