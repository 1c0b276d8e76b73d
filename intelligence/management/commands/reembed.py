from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from intelligence.embedding_state import embedding_state
from intelligence.encoders import EncoderUnavailable
from intelligence.reembedding import embeddings_refresh, pending_count


class Command(BaseCommand):
    help = (
        "Embed every labelled example, knowledge chunk and voice example again with EMBEDDING_MODEL, beside the "
        "vectors in use, and switch to it when all are done. Resumable: a run that stops continues where it left "
        "off. Until the switch, leads are still embedded with the previous model and compared with its vectors."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=256)
        parser.add_argument("--status", action="store_true", help="only say which model is active and what is left")
        parser.add_argument("--quiet", action="store_true", help="no progress bar (a line per 10%% instead)")

    def handle(self, *args, batch_size: int, status: bool, quiet: bool, **options):
        target = settings.EMBEDDING_MODEL
        state = embedding_state()
        left = pending_count(target) if state.active_model != target else 0
        if status:
            self.stdout.write(
                f"active model: {state.active_model}; configured: {target}; "
                + (f"{left} text(s) left to embed" if left else "nothing to do")
            )
            return
        reported = [0]

        def line_progress(n: int) -> None:
            reported[0] += n
            if left and (reported[0] * 10 // left) != ((reported[0] - n) * 10 // left):
                self.stdout.write(f"re-embedding with {target}: {reported[0]} of {left}", ending="\n")
                self.stdout.flush()

        try:
            with tqdm(total=left, desc=f"Re-embedding with {target}", unit="text", disable=quiet or not left) as bar:
                counts = embeddings_refresh(
                    target=target, batch_size=max(1, batch_size), progress=line_progress if quiet else bar.update
                )
        except EncoderUnavailable as exc:
            self.stderr.write(f"cannot re-embed: {exc}")
            raise SystemExit(2) from exc
        if quiet and not left and not counts["switched"] and not any(counts[k] for k in ("examples", "chunks")):
            return  # `make run` starts this at every start: silent when there was nothing to do
        done = (
            f"{counts['examples']} example(s), {counts['chunks']} chunk(s), {counts['voice_examples']} voice example(s)"
        )
        if counts["switched"]:
            self.stdout.write(f"{done} re-embedded; {target} is now the active model")
        else:
            self.stdout.write(f"{done} re-embedded; {counts['active']} is the active model")
