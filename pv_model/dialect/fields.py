"""pv-media's record <- the station's fields (the `fields:` section), and what a photo shows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from pv_model.dialect.base import FieldPath, NonEmpty, TextValue, _codes, _names, _Section


def _lower_codes(value: Any) -> Any:
    """Type values compared without case on both sides: the station's value is lowered when it is read."""
    codes = _codes(value)
    return frozenset(code.lower() for code in codes) if isinstance(codes, frozenset) else codes


# What a photo shows, whatever the vendor calls it: a dialect maps its photo fields or attachment type values here.
PHOTO_TYPES = ("roof_panorama", "modules", "inverter", "meter_box", "grid_connection", "nameplate", "other")
PhotoType = Literal["roof_panorama", "modules", "inverter", "meter_box", "grid_connection", "nameplate", "other"]


class FieldMap(_Section):
    """pv-media's record <- the station's fields, each a field path."""

    record_id: FieldPath
    id_card_no: FieldPath
    pickup_status: FieldPath
    updated_at: FieldPath | None = None
    region_company_code: FieldPath | None = Field(None, description="the region code of each record, if it has one")
    photo_urls: Annotated[tuple[FieldPath, ...], BeforeValidator(_names)] = ()
    video_urls: Annotated[tuple[FieldPath, ...], BeforeValidator(_names)] = ()
    url_key: NonEmpty = Field("url", description="the URL key of attachment objects")
    type_key: NonEmpty | None = Field("type", description="the key that says photo or video in attachment objects")
    video_types: Annotated[frozenset[str], BeforeValidator(_lower_codes)] = Field(
        frozenset({"video", "movie", "mp4", "2"}),
        description="type values that mean video (others: photo), compared without case",
    )
    keep: dict[str, FieldPath] = Field(default_factory=dict, description="extra columns: name -> field path")
    photo_types: dict[FieldPath, PhotoType] = Field(
        default_factory=dict, description="photo field (one of photo_urls) -> what its photos show"
    )
    url_templates: dict[FieldPath, str] = Field(
        default_factory=dict,
        description="media field (one of photo_urls / video_urls) -> the URL its items (ids) are fetched from: "
        "{item}, {record.<path>}, {station_code}, {station_id} or a registry dialect_params name; relative to the "
        "station's base",
    )
    photo_type_values: dict[TextValue, PhotoType] = Field(
        default_factory=dict, description="type value of attachment objects (at type_key) -> what the photo shows"
    )

    @model_validator(mode="after")
    def _some_media(self) -> FieldMap:
        if not self.photo_urls and not self.video_urls:
            raise ValueError("'photo_urls' or 'video_urls' must name at least one field")
        unknown = sorted(set(self.photo_types) - set(self.photo_urls))
        if unknown:
            raise ValueError(f"photo_types names {', '.join(map(repr, unknown))}, which is not one of photo_urls")
        templated = sorted(set(self.url_templates) - {*self.photo_urls, *self.video_urls})
        if templated:
            raise ValueError(f"url_templates names {', '.join(map(repr, templated))}, not one of the media fields")
        without_item = sorted(field for field, template in self.url_templates.items() if "{item}" not in template)
        if without_item:
            raise ValueError(f"url_templates for {', '.join(map(repr, without_item))} must hold {{item}}")
        if self.photo_type_values and not self.type_key:
            raise ValueError("photo_type_values needs type_key (the key of attachment objects that holds the value)")
        clash = sorted({v.lower() for v in self.photo_type_values} & {v.lower() for v in self.video_types})
        if clash:
            raise ValueError(f"photo_type_values {', '.join(map(repr, clash))} is also one of video_types")
        return self

    def photo_type_of(self, field: str, type_value: str | None = None) -> str:
        """What a photo shows: by its attachment type value (compared like video_types, without case), else by
        its field; `other` when neither says."""
        if type_value is not None:
            wanted = type_value.strip().lower()
            for value, photo_type in self.photo_type_values.items():
                if value.lower() == wanted:
                    return photo_type
        return self.photo_types.get(field, "other")
