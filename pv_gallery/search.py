"""One search across the whole gallery: record id, the last 4 characters of the ID number, the project name
(its owner's surname masked, as the index holds it) and the address parts (province, city, county, town,
village, street) of every picked-up record.

Built on the first search of an index version: one row per record and one text per record of what a page
shows of it (its shown fields' values, never their names), searched with one vectorized substring match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from pv_gallery.installations import installation_key, safe_fields
from pv_model.personal_data import mask_personal_text

MAX_RESULTS = 100
MAX_QUERY_CHARS = 64
# The fields a result shows: the project and the address as the card does (docs: README, "Search").
RESULT_FIELDS = ("projectName", "province", "city", "county", "town", "village", "address")
_KEYS = r'"(?:[^"\\]|\\.)*"\s*:'  # the JSON object's keys: not searched (else "address" finds every record)


@dataclass(frozen=True)
class Hit:
    station_id: str
    key: str  # the installation's opaque id
    label: str  # the record id as shown (masked)
    id_card_masked: str
    fields: dict[str, str]


def shown_record_ids(record_ids: pa.ChunkedArray) -> pa.Array:
    """The record ids as pages show them: masked where they look like an ID, phone or bank number (few do, so
    only those go through Python), so that a search never confirms digits a page hides."""
    ids = pc.fill_null(record_ids, "").to_pylist()
    for n in pc.indices_nonzero(pc.fill_null(pc.match_substring_regex(record_ids, r"\d{6,}"), False)).to_pylist():
        ids[n] = mask_personal_text(ids[n])
    return pa.array(ids, pa.string())


class SearchTable:
    def __init__(self, table: pa.Table):
        grouped = (
            table.select(["station_id", "record_id", "id_card_masked", "record_fields"])
            .group_by(["station_id", "record_id"])
            .aggregate([("id_card_masked", "min"), ("record_fields", "min")])
        )
        self.records = grouped
        fields = pc.fill_null(grouped["record_fields_min"], "")
        values = pc.replace_substring_regex(fields, _KEYS, "\x1f")
        self.text = pc.binary_join_element_wise(shown_record_ids(grouped["record_id"]), values, "\x1f")
        masked = pc.fill_null(grouped["id_card_masked_min"], "")
        self.last4 = pc.utf8_upper(pc.utf8_slice_codeunits(masked, -4))

    def search(self, query: str, secret: bytes, limit: int = MAX_RESULTS) -> tuple[list[Hit], int]:
        """The records matching, at most `limit`, and how many matched in all."""
        q = query.strip()[:MAX_QUERY_CHARS]
        if not q:
            return [], 0
        hit = pc.match_substring(self.text, json.dumps(q, ensure_ascii=False)[1:-1], ignore_case=True)
        if len(q) == 4:
            hit = pc.or_(hit, pc.equal(self.last4, q.upper()))
        found = pc.indices_nonzero(pc.fill_null(hit, False))
        # Only the shown results are converted: a city name matches a third of the group.
        rows = self.records.take(found.slice(0, limit))
        hits = []
        for row in rows.to_pylist():
            label = mask_personal_text(row["record_id"])
            shown = safe_fields(row["record_fields_min"])
            hits.append(
                Hit(
                    station_id=row["station_id"],
                    key=installation_key(secret, row["station_id"], row["record_id"]),
                    label=label,
                    id_card_masked=row["id_card_masked_min"] or "",
                    fields={k: v for k, v in shown.items() if k in RESULT_FIELDS},
                )
            )
        return hits, len(found)
