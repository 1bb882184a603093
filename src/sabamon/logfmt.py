"""One log format for every sabamon process: a line per event, with the time, the level,
the logger and the event's key=value fields."""

from __future__ import annotations

import logging
import sys
from typing import Any

LOG_FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


def setup_logging(level: int | str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, format=LOG_FORMAT, force=True)


def logging_config(level: str) -> dict[str, Any]:
    """The same format as a `logging.config.dictConfig` document, for uvicorn, which applies
    it in every worker process it starts."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"event": {"format": LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "event",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        "loggers": {
            name: {"level": level.upper(), "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
