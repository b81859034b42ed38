"""The registry's YAML reader against its alternatives, on a 10,000-station registry, in one process:
ryaml (YAML 1.2, the one pv-media uses), ruamel.yaml (YAML 1.2, pure Python; measured when importable, it is
not a dependency), PyYAML's libyaml binding (YAML 1.1: other semantics), and the parse cache's hit (json.loads
of the cached document, what every process but the first pays). Medians; one JSON line.

    .venv/bin/python -m bench.yaml_readers
    pip install --target /tmp/yb ruamel.yaml && PYTHONPATH=/tmp/yb .venv/bin/python -m bench.yaml_readers
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
from collections.abc import Callable

import ryaml
import yaml


def registry_text(stations: int = 10_000) -> str:
    lines = ["defaults:", "  max_connections: 4", "regions:", "  RC-320100: 南京区域公司", "stations:"]
    for i in range(stations):
        lines += [
            f"  - id: ST-{i:05d}",
            f"    name: 测试{i}号分布式光伏电站",
            f"    base_url: https://st{i}.example.com",
            "    region_company_code: RC-320100",
            f"    account_env: ST{i:05d}_ACCOUNT",
            f"    password_env: ST{i:05d}_PASSWORD",
            "    media_hosts: [cdn.example.com]",
        ]
    return "\n".join(lines) + "\n"


def median_s(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def main() -> None:
    text = registry_text()
    document = ryaml.loads(text)
    cached = json.dumps(document, ensure_ascii=False)
    figures: dict[str, object] = {"stations": 10_000, "bytes": len(text.encode())}
    figures["ryaml_s"] = median_s(lambda: ryaml.loads(text), 5)
    figures["pyyaml_libyaml_yaml11_s"] = median_s(lambda: yaml.load(text, Loader=yaml.CSafeLoader), 5)  # noqa: S506
    figures["cache_hit_s"] = median_s(lambda: json.loads(cached), 5)
    try:  # not a dependency of pv-media: measured only where someone installed it for the comparison
        ruamel_yaml = importlib.import_module("ruamel.yaml")
    except ImportError:
        figures["ruamel_yaml12_s"] = "not installed"
    else:
        reader = ruamel_yaml.YAML(typ="safe", pure=True)
        figures["ruamel_yaml12_s"] = median_s(lambda: reader.load(text), 3)
        figures["ruamel_reads_the_same"] = reader.load(text) == document
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
