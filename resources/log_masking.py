"""Masks ID-card-like numbers and credentials in the debug logs of the HTTP libraries we drive.

Object keys hold ID numbers by design, and an API-key dialect sends its key in the query string;
urllib3 (under requests and minio) logs request paths and queries at DEBUG level. With this
filter, turning on debug logging never shows a raw ID number or a credential parameter.
"""

from __future__ import annotations

import logging

from pv_model.scrub import scrub

LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "minio")


class IdMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = scrub(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = IdMaskingFilter()


def install() -> None:
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
