"""Importing what a business already has: a PDF page by page, a Word file by its sections, an FAQ CSV one question
per page, a website from its sitemap (main text only). Each with progress; a re-import replaces only what changed;
a page a person removed stays out; an unreadable file says why; an import resumes after its worker is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bizpilot.errors import ValidationFailed
from bizpilot.tests.processes import test_database_url, wait_for
from intelligence.knowledge_import import (
    knowledge_import_page_remove,
    knowledge_import_run,
    knowledge_import_site,
    knowledge_import_upload,
    knowledge_imports_resume,
)
from intelligence.model_calls import embed_logged
from intelligence.models import KnowledgeDocument, KnowledgeImport, KnowledgeImportPage, ModelCall
from intelligence.retrieval import knowledge_search
from intelligence.tests.documents import Website, docx_bytes, pdf_bytes

SERVICES = [
    "Tap washer replacement",
    "Radiator bleed and balance",
    "Toilet cistern repair",
    "Outside tap fitting",
    "Shower valve replacement",
    "Kitchen sink unblocking",
    "Emergency callout",
    "Boiler annual service",
    "Water heater flush",
    "Leak detection survey",
]


def price_list(pages: int = 40, *, notes: int = 0) -> bytes:
    """A plumber's price list: one service per page, its price and what it includes (and `notes` lines of terms)."""
    terms = [f"Term {k}: work in area {k} is booked in two-hour windows, Monday to Saturday." for k in range(notes)]
    return pdf_bytes(
        [
            [
                f"Flow Right Plumbing price list, page {n + 1}",
                f"{SERVICES[n % 10]} (area {n // 10 + 1}): £{60 + 5 * n} fixed price.",
                "Includes labour and standard parts. VAT included. Guaranteed for 12 months.",
                *terms,
            ]
            for n in range(pages)
        ]
    )


def nearest(question: str, limit: int = 1) -> list[str]:
    (vector,) = embed_logged([question], operation="embed:test")
    return [f"{s.document}: {s.heading} {s.text}" for s in knowledge_search(vector=vector, limit=limit)]


@pytest.mark.django_db
def test_a_40_page_pdf_price_list_is_imported_page_by_page_and_answers_a_price_question():
    knowledge_import = knowledge_import_upload(name="Price list 2026.pdf", data=price_list(), actor="owner")
    done = knowledge_import_run(import_id=knowledge_import.pk)
    assert (done.status, done.total, done.done, done.error) == ("done", 40, 40, "")
    assert done.upload is None  # the file is not kept once read
    pages = list(done.pages.order_by("ordinal"))
    assert [p.ref for p in pages[:2]] == ["page 1", "page 2"] and all(p.status == "stored" for p in pages)
    assert pages[6].title == "Price list 2026, page 7" and "Emergency callout (area 1): £90" in pages[6].content
    assert KnowledgeDocument.objects.filter(source_path__startswith="import:upload:Price list 2026.pdf#").count() == 40
    (best,) = nearest("How much do you charge for an emergency callout?")
    assert "Emergency callout" in best and "£" in best


@pytest.mark.django_db
def test_a_word_file_is_read_by_its_sections():
    data = docx_bytes(
        {
            "About Flow Right": ["Family plumbers in Leeds since 1998.", "Gas Safe registered engineers."],
            "Areas we cover": ["Leeds, Bradford and Wakefield. No callout charge within the ring road."],
        }
    )
    done = knowledge_import_run(import_id=knowledge_import_upload(name="about.docx", data=data, actor="o").pk)
    assert [(p.ref, p.status) for p in done.pages.order_by("ordinal")] == [
        ("About Flow Right", "stored"),
        ("Areas we cover", "stored"),
    ]
    assert "Gas Safe registered" in done.pages.get(ref="About Flow Right").content
    assert "Wakefield" in nearest("Do you cover Wakefield?")[0]


FAQ = "question,answer\nDo you work weekends?,Yes: Saturdays 8 to 4.\nAre you Gas Safe?,Yes: all engineers.\n"


@pytest.mark.django_db
def test_a_reimport_replaces_what_changed_keeps_the_rest_and_a_removed_page_stays_out():
    first = knowledge_import_run(
        import_id=knowledge_import_upload(
            name="faq.csv", data=(FAQ + "Do you fit showers?,Yes.\n").encode(), actor="o"
        ).pk
    )
    assert first.kind == "faq" and first.total == 3
    showers = first.pages.get(ref="Do you fit showers?")
    knowledge_import_page_remove(page_id=first.pages.get(ref="Are you Gas Safe?").pk, actor="owner")
    assert not KnowledgeDocument.objects.filter(title="Are you Gas Safe?").exists()
    embedded_before = ModelCall.objects.filter(operation="embed:knowledge").count()

    changed = FAQ.replace("Saturdays 8 to 4", "Saturdays 9 to 1").replace("Do you fit showers?,Yes.\n", "")
    second = knowledge_import_run(
        import_id=knowledge_import_upload(
            name="faq.csv", data=(changed + "Do you do bathrooms?,Yes.\n").encode(), actor="o"
        ).pk
    )
    statuses = {p.ref: p.status for p in second.pages.all()}
    assert statuses == {
        "Do you work weekends?": "stored",  # changed
        "Are you Gas Safe?": "removed",  # removed by a person, and it reads the same
        "Do you do bathrooms?": "stored",  # new
    }
    titles = set(KnowledgeDocument.objects.values_list("title", flat=True))
    assert titles == {"Do you work weekends?", "Do you do bathrooms?"}  # the showers question is gone
    assert not KnowledgeDocument.objects.filter(pk=showers.document_id).exists()
    assert "9 to 1" in KnowledgeDocument.objects.get(title="Do you work weekends?").content
    assert ModelCall.objects.filter(operation="embed:knowledge").count() == embedded_before + 2  # only the new text

    third = knowledge_import_run(
        import_id=knowledge_import_upload(
            name="faq.csv", data=(changed + "Do you do bathrooms?,Yes.\n").encode(), actor="o"
        ).pk
    )
    assert {p.status for p in third.pages.all()} == {"unchanged", "removed"}
    assert ModelCall.objects.filter(operation="embed:knowledge").count() == embedded_before + 2  # nothing embedded


@pytest.mark.django_db
def test_what_cannot_be_read_says_why_and_stores_nothing():
    with pytest.raises(ValidationFailed) as refused:
        knowledge_import_upload(name="setup.exe", data=b"MZ", actor="o")
    assert "use PDF, Word" in refused.value.fields["file"][0]
    broken = knowledge_import_run(
        import_id=knowledge_import_upload(name="scan.pdf", data=b"%PDF-1.4 junk", actor="o").pk
    )
    assert broken.status == "failed" and "not a readable PDF" in broken.error
    no_columns = knowledge_import_run(import_id=knowledge_import_upload(name="q.csv", data=b"a,b\n1,2\n", actor="o").pk)
    assert no_columns.status == "failed" and "question,answer" in no_columns.error
    assert not KnowledgeDocument.objects.exists()


def plumbing_site(pages: int) -> dict[str, tuple[str, list[str]]]:
    site = {
        f"/services/{n}": (
            f"{SERVICES[n % 10]} in district {n}",
            [f"We offer {SERVICES[n % 10].lower()} across district {n}.", f"From £{50 + n} with a 12-month guarantee."],
        )
        for n in range(pages - 1)
    }
    site["/callout"] = ("Emergency callouts", ["An emergency callout costs £95 and we arrive within two hours."])
    return site


@pytest.mark.django_db
def test_a_200_page_website_is_read_from_its_sitemap_main_text_only():
    site = Website(plumbing_site(200))
    try:
        done = knowledge_import_run(import_id=knowledge_import_site(address=site.url, actor="owner").pk)
    finally:
        site.stop()
    assert (done.status, done.total, done.done) == ("done", 200, 200)
    assert set(done.pages.values_list("status", flat=True)) == {"stored"}
    assert "/robots.txt" in site.hits and "/sitemap_index.xml" in site.hits
    callout = done.pages.get(ref=f"{site.url}/callout")
    assert callout.title == "Emergency callouts" and "£95" in callout.content
    assert not KnowledgeDocument.objects.filter(content__contains="Cookie settings").exists()  # no footers
    assert not KnowledgeDocument.objects.filter(content__contains="Contact us").exists()  # nor menus
    assert "£95" in nearest("what does an emergency callout cost")[0]


@pytest.mark.django_db(transaction=True)
def test_an_import_resumes_after_its_worker_is_killed_and_stores_each_page_once():
    # Long enough that the worker is still reading when it is killed; made without queueing its job (jobs run inline
    # in tests), so that the worker below is the one that runs it.
    knowledge_import = KnowledgeImport.objects.create(
        source="upload", name="big price list.pdf", upload=price_list(300, notes=30)
    )
    env = {**os.environ, "DATABASE_URL": test_database_url(), "JOBS_SYNC": "0"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            f"from intelligence.tasks import import_knowledge; import_knowledge({knowledge_import.pk})",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(
            lambda: KnowledgeImportPage.objects.filter(knowledge_import=knowledge_import, status="stored").count() >= 5,
            timeout=180,
            what="the worker to store five pages",
            processes=[worker],
            every=0.05,
        )
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    knowledge_import.refresh_from_db()
    stored = knowledge_import.pages.filter(status="stored").count()
    assert knowledge_import.status == "running" and 5 <= stored < 300
    assert stored - 1 <= knowledge_import.done <= stored  # progress is written just after each page is stored
    assert knowledge_imports_resume() == 0  # its last sign of life is recent: not taken for stalled yet
    KnowledgeImport.objects.filter(pk=knowledge_import.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    assert knowledge_imports_resume() == 1  # the sweep queues it again (run inline here)
    knowledge_import.refresh_from_db()
    assert (knowledge_import.status, knowledge_import.done) == ("done", 300)
    assert KnowledgeDocument.objects.filter(source_path__startswith=knowledge_import.source_prefix).count() == 300
    assert KnowledgeImportPage.objects.filter(knowledge_import=knowledge_import, status="stored").count() == 300


@pytest.mark.django_db
def test_the_admin_imports_an_upload_shows_each_page_and_removes_a_wrong_one(
    admin_client, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    refused = admin_client.post(
        "/admin/intelligence/knowledgeimport/add/", {"file": SimpleUploadedFile("virus.exe", b"MZ")}
    )
    assert "use PDF, Word" in refused.content.decode() and not KnowledgeImport.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(
            "/admin/intelligence/knowledgeimport/add/",
            {"file": SimpleUploadedFile("prices.pdf", price_list(3), content_type="application/pdf")},
        )
    assert answer.status_code == 302
    knowledge_import = KnowledgeImport.objects.get()
    assert (knowledge_import.status, knowledge_import.done) == ("done", 3)  # the job ran once the upload committed
    page = admin_client.get(f"/admin/intelligence/knowledgeimport/{knowledge_import.pk}/change/").content.decode()
    assert "3 of 3 pages" in page and "prices, page 2" in page and "Radiator bleed and balance (area 1): £65" in page
    wrong = knowledge_import.pages.get(ref="page 3")
    removed = admin_client.post(
        "/admin/intelligence/knowledgeimportpage/",
        {"action": "remove_selected", "_selected_action": [wrong.pk]},
        follow=True,
    )
    assert "1 page(s) removed" in removed.content.decode()
    assert (
        KnowledgeDocument.objects.count() == 2 and not KnowledgeDocument.objects.filter(title="prices, page 3").exists()
    )
