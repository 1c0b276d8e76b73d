from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from intelligence.models import IntentExample, KnowledgeChunk
from intelligence.reembedding import embeddings_refresh


class Command(BaseCommand):
    help = (
        "Re-embed, in batches, every labelled example and knowledge chunk whose vector was made by another model "
        "than EMBEDDING_MODEL (run after changing it). Until then, queries simply do not see the stale vectors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=256)

    def handle(self, *args, batch_size: int, **options):
        model = settings.EMBEDDING_MODEL
        stale = (
            IntentExample.objects.exclude(embedding_model=model).count()
            + KnowledgeChunk.objects.exclude(embedding_model=model).count()
        )
        with tqdm(total=stale, desc=f"Re-embedding with {model}", unit="text", disable=stale == 0) as bar:
            counts = embeddings_refresh(batch_size=max(1, batch_size), progress=bar.update)
        self.stdout.write(
            f"{counts['examples']} example(s) and {counts['chunks']} chunk(s) re-embedded with {model}; "
            f"{counts['duplicates_removed']} duplicate example(s) removed"
        )
