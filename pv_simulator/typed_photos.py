"""Where a dialect puts each kind of photo: typed fields, or attachment objects with a type value.

The world keeps a record's photos in v1 fields, one per kind of photo (`WORLD_PHOTO_FIELDS`, the
same names conf/dialects/default.yaml declares) plus `photoUrls` for the others. A dialect says
what its photos show in one of two shapes (pv_model.dialect.FieldMap):

- `photo_types`: a field per kind (`photoInfo.roof`, `roofPics` ...);
- `photo_type_values`: objects in one list whose type key says the kind (`{"kind": "roof"}`).

A kind the dialect has no field or value for goes with the untyped photos, as a real station
that cannot say it would send it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pv_model.dialect import FieldMap

# canonical photo type -> the world's v1 field for it
WORLD_PHOTO_FIELDS: dict[str, str] = {
    "roof_panorama": "roofPhotoUrls",
    "modules": "modulePhotoUrls",
    "inverter": "inverterPhotoUrls",
    "meter_box": "meterBoxPhotoUrls",
    "grid_connection": "gridPointPhotoUrls",
    "nameplate": "nameplatePhotoUrls",
}
OTHER_PHOTOS, VIDEOS = "photoUrls", "videoUrls"
WORLD_MEDIA_FIELDS = frozenset({OTHER_PHOTOS, VIDEOS, *WORLD_PHOTO_FIELDS.values()})


@dataclass(frozen=True)
class PhotoLayout:
    untyped_paths: tuple[str, ...]  # where the other photos are spread, as before types existed
    field_for: dict[str, str]  # canonical type -> the dialect's field path
    value_for: dict[str, str]  # canonical type -> the dialect's type value
    objects_path: str | None  # the list that holds value-typed photos (`attachments[*].url` or `attachments`)

    @property
    def others_are_objects(self) -> bool:
        """Value-typed photos and the others share one list: the others become objects too."""
        return self.objects_path is not None and self.objects_path in self.untyped_paths


def photo_layout(fields: FieldMap) -> PhotoLayout:
    field_for: dict[str, str] = {}
    for path in fields.photo_urls:
        kind = fields.photo_types.get(path)
        if kind and kind != "other":
            field_for.setdefault(kind, path)
    value_for: dict[str, str] = {}
    for value, kind in fields.photo_type_values.items():
        if kind != "other":
            value_for.setdefault(kind, value)
    objects_path = None
    if value_for:
        objects_path = next((p for p in fields.photo_urls if "[*]." in p), None) or (fields.photo_urls or (None,))[0]
    untyped = [p for p in fields.photo_urls if p not in fields.photo_types]
    if objects_path in untyped and len(untyped) > 1:
        untyped.remove(objects_path)  # documents[*].url beside a plain photos field: the plain one is untyped
    return PhotoLayout(tuple(untyped), field_for, value_for, objects_path)


def is_world_record(record: dict) -> bool:
    """A record of a group world (typed photo fields), rather than of a single quirky station."""
    return any(name in record for name in WORLD_PHOTO_FIELDS.values())


def joined(*texts: str | None) -> str | None:
    """URL lists joined with a comma; None when all are empty."""
    parts = [text for text in texts if text]
    return ",".join(parts) if parts else None


def split_by_layout(record: dict, layout: PhotoLayout) -> tuple[dict[str, str], dict[str, str], str | None]:
    """(texts per dialect field, texts per type value, other photos' text) of a world record."""
    by_field: dict[str, str] = {}
    by_value: dict[str, str] = {}
    others = record.get(OTHER_PHOTOS)
    for kind, world_field in WORLD_PHOTO_FIELDS.items():
        text = record.get(world_field)
        if not text:
            continue
        if kind in layout.field_for:
            by_field[layout.field_for[kind]] = text
        elif kind in layout.value_for:
            by_value[layout.value_for[kind]] = text
        else:
            others = joined(others, text)
    return by_field, by_value, others
