"""The runtime decodes HEIC with pi-heif (libheif + libde265, no encoder); pillow-heif, whose wheels bundle
the GPL x265 encoder, is the simulator's only and never reaches the runtime set of uv.lock
(docs/dependencies.md, "Bundled codecs and their licences")."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

from PIL import Image

from pv_assets.gallery.previews.render import register_heif
from pv_simulator.media_gen import media_bytes

ROOT = Path(__file__).resolve().parents[1]


def locked_closure(extras: tuple[str, ...] = ()) -> set[str]:
    """Every package uv.lock installs for pv-media with these extras (markers ignored: any platform)."""
    packages = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text("utf-8"))["package"]}
    seen: set[str] = set()
    todo = [("pv-media", extras)]
    while todo:
        name, wanted = todo.pop()
        package = packages[name]
        deps = [*package.get("dependencies", [])]
        deps += [d for extra in wanted for d in package.get("optional-dependencies", {}).get(extra, [])]
        for dep in deps:
            key = (dep["name"], tuple(dep.get("extra", ())))
            if key not in seen:
                seen.add(key)
                todo.append(key)
    return {name for name, _ in seen} - {"pv-media"}


def test_the_runtime_set_decodes_heic_with_pi_heif_and_holds_no_pillow_heif():
    runtime = locked_closure()
    assert {"pi-heif", "pillow", "av", "dagster"} <= runtime
    assert "pillow-heif" not in runtime
    assert "pillow-heif" in locked_closure(("simulator",))


def test_the_heic_opener_of_the_runtime_is_pi_heifs_decoder_only():
    import pi_heif

    info = pi_heif.libheif_info()
    assert "libde265" in info["decoders"]
    assert not any("265" in name or "hevc" in name.lower() for name in info["encoders"])  # no x265 in the runtime
    register_heif()
    heic = media_bytes("heic", 7, 40_000, "ST-1 / R0 / photo")  # made by the simulator's encoder
    with Image.open(io.BytesIO(heic)) as image:
        assert type(image).__module__.startswith("pi_heif")
        image.load()
        assert image.size[0] > 0 and image.mode in ("RGB", "RGBA")
