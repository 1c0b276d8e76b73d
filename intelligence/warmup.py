"""A worker of the LLM queue (the one that classifies and drafts) loads the embedding model and the English reader, the
intent models (English, and every language) and the reply-kind model before it takes its first job (django-q2's
`post_spawn`, in the new worker process), so the first lead or reply after a start does not wait for them. The
default queue's workers (sending, sweeps, webhooks) never classify: they load nothing, and stay small."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import connection

logger = logging.getLogger(__name__)


def worker_warm_up(sender: Any = None, proc_name: str = "", **kwargs: Any) -> float:
    """Load the models into this process; returns the seconds it took. A missing piece (no labelled examples yet)
    is logged and left to the first job, which reports it properly."""
    from django_q.conf import Conf

    if not settings.WORKER_PRELOAD or Conf.SYNC:  # a task run inline (JOBS_SYNC) is not a new worker
        return 0.0
    if Conf.CLUSTER_NAME != settings.LLM_QUEUE:
        logger.info("worker %s of queue %s never classifies: it loads no models", proc_name, Conf.CLUSTER_NAME)
        return 0.0
    from django_q.conf import setproctitle

    from intelligence.classifier import get_intent_model
    from intelligence.embeddings import english_reader_for, get_embedder
    from intelligence.replies import get_reply_model

    if setproctitle:  # the watchdog (bizpilot.worker) counts a starting worker as busy, not frozen
        setproctitle.setproctitle(f"qcluster {proc_name} starting")
    started = time.perf_counter()
    try:
        embedder = get_embedder()
        embedder.embed_one("warm up")
        options = {"embedding_model": embedder.model_name, "method": settings.CLASSIFIER_METHOD}
        get_intent_model(**options, k=settings.CLASSIFIER_K)
        reader = english_reader_for("en")
        if reader is not None:  # English leads: the English reader's model and knowledge re-ranking
            reader.embed_one("warm up")
            get_intent_model(**options, k=settings.CLASSIFIER_K, reader=reader.model_name)
        get_reply_model().probabilities(["warm up"])  # a lead's answer is read at once, too
    except Exception as exc:  # the worker must start anyway; its first job meets the same problem and reports it
        logger.warning("worker %s could not preload the models: %s", proc_name, exc)
        connection.close()  # a broken connection is not handed to the first job
    seconds = time.perf_counter() - started
    logger.info("worker %s preloaded the models in %.1f s", proc_name, seconds)
    return seconds
