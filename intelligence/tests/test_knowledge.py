from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from intelligence.chunking import chunk_markdown
from intelligence.knowledge import knowledge_load_path
from intelligence.models import KnowledgeChunk, KnowledgeDocument
from intelligence.reembedding import embeddings_refresh
from intelligence.retrieval import knowledge_search

pytestmark = pytest.mark.django_db


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_markdown_is_chunked_by_heading_and_paragraph_with_overlap():
    long_section = "\n\n".join(
        f"Paragraph {i} opens here. " + "It has a lot to say about services. " * 8 for i in range(6)
    )
    chunks = chunk_markdown(
        f"# Studio\n\nWe build sites.\n\n## Services\n\n{long_section}\n\n## Prices\n\nFrom £3,500."
    )
    assert [c.heading for c in chunks][:2] == ["Studio", "Services"] and chunks[-1].heading == "Prices"
    services = [c for c in chunks if c.heading == "Services"]
    assert len(services) >= 2
    assert all(250 <= len(c.text) <= 1400 for c in services)  # about 60-350 tokens
    # consecutive chunks of a section share a sentence
    last_sentence = services[0].text.rsplit(". ", 1)[-1]
    assert services[1].text.startswith(last_sentence.strip())


def test_loading_a_folder_is_idempotent_and_reuses_unchanged_chunks(tmp_path, demo_knowledge):
    write(tmp_path, "services.md", "# Services\n\nWe fix boilers.\n\n## Hours\n\nOpen 8 to 6 on weekdays.")
    write(tmp_path, "faq.csv", "question,answer\nDo you work weekends?,Only for emergencies.\n")
    first = knowledge_load_path(path=tmp_path)
    assert (first.loaded, first.chunks_embedded, first.errors) == (2, 3, [])
    assert KnowledgeDocument.objects.get(source_path=str((tmp_path / "faq.csv").resolve())).kind == "faq"

    again = knowledge_load_path(path=tmp_path)
    assert (again.loaded, again.unchanged, again.chunks_embedded) == (0, 2, 0)

    write(tmp_path, "services.md", "# Services\n\nWe fix boilers.\n\n## Hours\n\nOpen 7 to 7 every day.")
    edited = knowledge_load_path(path=tmp_path)
    assert (edited.loaded, edited.chunks_embedded, edited.chunks_reused) == (1, 1, 1)
    texts = list(KnowledgeChunk.objects.filter(document__title="Services").values_list("text", flat=True))
    assert "Open 7 to 7 every day." in texts and "Open 8 to 6 on weekdays." not in texts


def test_a_file_removed_from_the_folder_is_removed_from_the_knowledge_base(tmp_path, db):
    write(tmp_path, "a.md", "# A\n\nAlpha facts.")
    gone = write(tmp_path, "b.md", "# B\n\nBeta facts.")
    knowledge_load_path(path=tmp_path)
    gone.unlink()
    report = knowledge_load_path(path=tmp_path)
    assert report.deleted == 1
    assert list(KnowledgeDocument.objects.values_list("title", flat=True)) == ["A"]


def test_unreadable_files_are_reported_and_the_others_still_load(tmp_path, db):
    write(tmp_path, "good.md", "# Good\n\nFine text.")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    write(tmp_path, "bad.csv", "q,a\nx,y\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 file"):
        call_command("load_knowledge", str(tmp_path), "--no-progress", stderr=err, stdout=io.StringIO())
    assert "latin1.txt: not UTF-8 text" in err.getvalue()
    assert "bad.csv: an FAQ CSV needs the columns question,answer" in err.getvalue()
    assert KnowledgeDocument.objects.filter(title="Good").exists()


def test_a_missing_path_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_knowledge", str(tmp_path / "nope"))


def test_editing_a_document_in_the_admin_re_embeds_it(admin_client, demo_knowledge, django_capture_on_commit_callbacks):
    document = KnowledgeDocument.objects.get(title="Northwind Web Studio")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/intelligence/knowledgedocument/{document.pk}/change/",
            {
                "title": document.title,
                "kind": "doc",
                "content": "# Northwind\n\nWe now also build mobile apps in Flutter.",
                "chunks-TOTAL_FORMS": "0",
                "chunks-INITIAL_FORMS": "0",
            },
        )
    assert response.status_code == 302
    chunks = list(KnowledgeChunk.objects.filter(document=document))
    assert [c.text for c in chunks] == ["We now also build mobile apps in Flutter."]
    from intelligence.embeddings import get_embedder

    hits = knowledge_search(vector=get_embedder().embed_one("Do you make Flutter mobile apps?"), limit=1)
    assert hits[0].text == "We now also build mobile apps in Flutter."


def test_a_new_embedding_model_re_embeds_everything_and_queries_never_mix_models(demo_knowledge, settings):
    from intelligence.classification import classify_text
    from intelligence.models import IntentExample

    # Pretend the stored vectors came from an older model.
    IntentExample.objects.update(embedding_model="old-model")
    KnowledgeChunk.objects.update(embedding_model="old-model")
    with pytest.raises(RuntimeError, match="No labelled intent examples"):
        classify_text(text="We need a website this week, budget approved")  # old vectors are never used

    counts = embeddings_refresh(batch_size=50)
    assert counts["examples"] == IntentExample.objects.count() and counts["chunks"] == KnowledgeChunk.objects.count()
    assert not IntentExample.objects.exclude(embedding_model=settings.EMBEDDING_MODEL).exists()
    assert classify_text(text="We need a website this week, budget approved").intent == "hot"


def test_search_filtered_by_kind_returns_k_rows_of_that_kind(tmp_path, demo_knowledge):
    from intelligence.embeddings import get_embedder

    write(tmp_path, "policy.md", "# Refunds\n\nDeposits are refundable up to 14 days before kickoff.")
    knowledge_load_path(path=tmp_path, kind="policy")
    vector = get_embedder().embed_one("How much does a website cost?")
    assert [s.heading for s in knowledge_search(vector=vector, limit=3, kind="policy")] == ["Refunds"]
    faq = knowledge_search(vector=vector, limit=3, kind="faq")
    assert len(faq) == 3
    assert {s.document for s in faq} == {"Faq"}


def test_reembed_command_reports_what_it_did(demo_knowledge):
    from intelligence.models import IntentExample

    IntentExample.objects.filter(pk__in=IntentExample.objects.values("pk")[:5]).update(embedding_model="old-model")
    out = io.StringIO()
    call_command("reembed", "--batch-size", "2", stdout=out)
    assert "5 example(s), 0 chunk(s), 0 voice example(s) re-embedded" in out.getvalue()


@pytest.mark.parametrize("backend", ["onnx", "numpy"])
def test_the_torch_free_backends_give_pytorchs_vectors(settings, backend):
    """all-MiniLM-L6-v2 runs without torch (ONNX Runtime from a graph written from its weights, or numpy): its
    vectors must be the ones PyTorch made (kept in tests/data/minilm_reference.json, made by sentence-transformers
    on torch), or everything stored would need embedding again. Texts: ordinary, tiny, accented, and longer than
    the 256-token window."""
    import json

    import numpy as np

    from intelligence.embeddings import Embedder

    reference = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())
    settings.EMBEDDING_BACKEND = backend
    vectors = np.array(Embedder("all-MiniLM-L6-v2").embed(reference["texts"]))
    assert vectors.shape == (6, 512) and not vectors[:, 384:].any()  # 384, padded to the column's width
    assert np.abs(vectors[:, :384] - np.array(reference["vectors"])).max() < 1e-5


def test_the_torch_backend_gives_the_reference_vectors(settings):
    """With the optional torch extra: PyTorch itself, through sentence-transformers."""
    import json

    import numpy as np

    pytest.importorskip("sentence_transformers", reason="EMBEDDING_BACKEND=torch needs the optional torch extra")
    from intelligence.embeddings import Embedder

    reference = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())
    settings.EMBEDDING_BACKEND = "torch"
    vectors = np.array(Embedder("all-MiniLM-L6-v2").embed(reference["texts"]))
    assert np.abs(vectors[:, :384] - np.array(reference["vectors"])).max() < 1e-5
