"""Trained models kept in MODEL_CACHE_DIR between processes (the intent model, the reply-kind model): written to a
temporary file and renamed, so a reader never sees half of one; an unreadable or outdated file is trained again."""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)
T = TypeVar("T")


def model_load(path: Path, kind: type[T]) -> T | None:
    """The model saved at `path`, or None when there is none, it is torn, or it is not a `kind`."""
    try:
        with path.open("rb") as handle:
            model = pickle.load(handle)  # noqa: S301 (our own file, in a directory only BizPilot writes)
    except FileNotFoundError:
        return None
    except Exception:  # a torn or outdated file is trained again and replaced
        logger.warning("Trained model %s is unreadable; training again", path)
        return None
    return model if isinstance(model, kind) else None


def model_save(path: Path, model: object) -> None:
    """Keep `model` for the next process. Failing to save costs only a retrain later."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError as exc:
        logger.warning("Could not keep the trained model at %s: %s", path, exc)
