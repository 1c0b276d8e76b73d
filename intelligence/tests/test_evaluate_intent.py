from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from intelligence.evaluation import expected_calibration_error

pytestmark = pytest.mark.django_db


def write_csv(tmp_path, text: str):
    path = tmp_path / "eval.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_evaluate_intent_prints_the_metrics_as_json_and_writes_nothing(demo_knowledge, tmp_path):
    path = write_csv(
        tmp_path,
        "message,intent\n"
        '"Our shop opens in two weeks, we need the website now and can pay the deposit today.",hot\n'
        '"How much would a small website cost? Just comparing options.",warm\n'
        '"Do you have any internships for students?",cold\n'
        '"We want to sign the contract this week and start on Monday.",hot\n',
    )
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("evaluate_intent", "--csv", str(path), "--json", "--k", "3", stdout=out)
    report = json.loads(out.getvalue())
    assert report["n"] == 4 and report["k"] == 3
    assert {"accuracy", "macro_f1", "per_class", "confusion_matrix", "ece", "p50_ms", "p95_ms"} <= set(report)
    assert report["accuracy"] == 1.0 and report["macro_f1"] == 1.0
    assert report["confusion_matrix"]["matrix"] == [[2, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert set(report["per_class"]["hot"]) == {"precision", "recall", "f1", "support"}
    assert 0 <= report["ece"] <= 1 and report["p50_ms"] <= report["p95_ms"]
    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []


def test_ablation_options_change_what_runs(demo_knowledge, tmp_path):
    path = write_csv(tmp_path, "message,intent\nNeed a quote for a website today,hot\n")
    out = io.StringIO()
    call_command(
        "evaluate_intent", "--csv", str(path), "--json", "--no-context", "--method", "knn", "--k", "1", stdout=out
    )
    report = json.loads(out.getvalue())
    assert report["knowledge_context"] is False
    assert report["method"].startswith("knn(k=1")


def test_a_bad_csv_is_reported_by_line(demo_knowledge, tmp_path):
    path = write_csv(tmp_path, "message,intent\nhello,cold\nbuy now,scorching\nmaybe later,tepid\n")
    with pytest.raises(CommandError) as error:
        call_command("evaluate_intent", "--csv", str(path))
    assert "line 3: intent must be one of hot, warm, cold, not 'scorching'" in str(error.value)
    assert "line 4" in str(error.value)


def test_a_csv_without_the_right_columns_or_a_missing_file_is_a_clear_error(tmp_path, db):
    with pytest.raises(CommandError, match="message,intent"):
        call_command("evaluate_intent", "--csv", str(write_csv(tmp_path, "text,label\nhi,cold\n")))
    with pytest.raises(CommandError, match="No such file"):
        call_command("evaluate_intent", "--csv", str(tmp_path / "missing.csv"))


def test_expected_calibration_error():
    # Perfectly calibrated: 80% confident and right 4 times out of 5.
    assert expected_calibration_error([0.8] * 5, [True, True, True, True, False]) == pytest.approx(0.0)
    # Always 90% sure and always wrong.
    assert expected_calibration_error([0.9] * 4, [False] * 4) == pytest.approx(0.9)
