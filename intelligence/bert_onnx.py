"""all-MiniLM-L6-v2 run by ONNX Runtime without torch: the BERT graph is written with `onnx.helper` from the package's
own weights (model.safetensors) once per machine and version, into MODEL_CACHE_DIR (a temporary folder, renamed, so
processes starting together never read half a file). The weights sit beside the graph in one file, each tensor at a
page boundary, so ONNX Runtime maps them instead of copying them: the worker processes share those pages (a worker's
PSS 130 -> 110 MB alone, and the mapped part is split between the workers). Tokenising is the Rust `tokenizers`;
attention mask, positions, mean pooling and normalising are done around the graph as sentence-transformers does
them. The same vectors as bert_numpy.py and PyTorch (a test holds them), three to four times faster for one text."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from intelligence.bert_numpy import NumpyBert

EXPORT_VERSION = "2"  # bump when the graph or its files change
WEIGHTS_FILE = "weights.bin"
PAGE = 4096


def _graph(bert: NumpyBert) -> Any:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = bert.w
    hidden = w["embeddings.word_embeddings.weight"].shape[1]
    size = hidden // bert.heads
    nodes: list[Any] = []
    initializers = [numpy_helper.from_array(value.astype(np.float32), name) for name, value in w.items()]
    initializers += [
        numpy_helper.from_array(np.array([0, 0, bert.heads, size], dtype=np.int64), "heads_shape"),
        numpy_helper.from_array(np.array([0, 0, hidden], dtype=np.int64), "hidden_shape"),
        numpy_helper.from_array(np.array(1 / np.sqrt(size), dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array(1 / np.sqrt(2.0), dtype=np.float32), "inv_sqrt2"),
        numpy_helper.from_array(np.array(1.0, dtype=np.float32), "one"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
    ]
    counter = iter(range(10_000))

    def node(op: str, inputs: list[str], **attributes: Any) -> str:
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], **attributes))
        return out

    def dense(x: str, name: str) -> str:
        return node("Add", [node("MatMul", [x, f"{name}.weight"]), f"{name}.bias"])

    def norm(x: str, name: str) -> str:
        return node("LayerNormalization", [x, f"{name}.weight", f"{name}.bias"], axis=-1, epsilon=bert.eps)

    x = node(
        "Add",
        [
            node(
                "Add",
                [
                    node("Gather", ["embeddings.word_embeddings.weight", "input_ids"]),
                    node("Gather", ["embeddings.position_embeddings.weight", "position_ids"]),
                ],
            ),
            node("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"]),
        ],
    )
    x = norm(x, "embeddings.LayerNorm")
    for layer in range(bert.layers):
        p = f"encoder.layer.{layer}"
        q = node(
            "Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.query"), "heads_shape"])], perm=[0, 2, 1, 3]
        )
        k = node(
            "Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.key"), "heads_shape"])], perm=[0, 2, 3, 1]
        )
        v = node(
            "Transpose", [node("Reshape", [dense(x, f"{p}.attention.self.value"), "heads_shape"])], perm=[0, 2, 1, 3]
        )
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), "scale"]), "bias"])
        context = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        context = node("Reshape", [node("Transpose", [context], perm=[0, 2, 1, 3]), "hidden_shape"])
        x = norm(node("Add", [dense(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        inner = dense(x, f"{p}.intermediate.dense")
        gelu = node(
            "Mul",
            [node("Mul", [inner, "half"]), node("Add", [node("Erf", [node("Mul", [inner, "inv_sqrt2"])]), "one"])],
        )
        x = norm(node("Add", [dense(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    ints = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
        for name in ("input_ids", "position_ids", "token_type_ids")
    ]
    inputs = [*ints, helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["batch", 1, 1, "tokens"])]
    outputs = [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "tokens", hidden])]
    graph = helper.make_graph(nodes, "minilm", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def exported_path(model_dir: Path) -> Path:
    """The graph's file, written when missing (by a process that reads the weights for it once). The `onnx` package
    is imported only to write it (it costs a worker about 20 MB)."""
    from importlib.metadata import version

    key = hashlib.sha256(f"{model_dir}|{version('onnx')}|{EXPORT_VERSION}".encode()).hexdigest()[:16]
    folder = Path(settings.MODEL_CACHE_DIR) / "onnx"
    final = folder / f"{model_dir.name}-{key}"
    path = final / "model.onnx"
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(dir=folder, suffix=".tmp"))
    try:
        _write(_graph(NumpyBert(model_dir)), temporary)
        try:
            os.rename(temporary, final)
        except OSError:
            if not path.exists():  # not another process that finished first
                raise
    finally:
        if temporary.exists():
            shutil.rmtree(temporary)
    for stale in folder.glob(f"{model_dir.name}-graph-*.onnx"):  # the single-file graphs of earlier versions
        stale.unlink(missing_ok=True)
    return path


def _write(model: Any, folder: Path) -> None:
    """model.onnx, with every large tensor in weights.bin at a page boundary (so it can be mapped)."""
    import onnx
    from onnx import numpy_helper
    from onnx.external_data_helper import set_external_data

    offset = 0
    with open(folder / WEIGHTS_FILE, "wb") as weights:
        for tensor in model.graph.initializer:
            raw = numpy_helper.to_array(tensor).tobytes()
            if len(raw) < 4096:
                continue
            padding = -offset % PAGE
            weights.write(b"\0" * padding)
            offset += padding
            weights.write(raw)
            tensor.ClearField("float_data")
            tensor.raw_data = raw
            set_external_data(tensor, WEIGHTS_FILE, offset=offset, length=len(raw))
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
            offset += len(raw)
    onnx.save(model, str(folder / "model.onnx"))


class OnnxBert:
    def __init__(self, model_dir: Path):
        import onnxruntime as ort

        path = exported_path(model_dir)
        self.bert = NumpyBert(model_dir, weights=False)  # its tokenizer and settings; the session holds the weights
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # No arena: it kept 32 MB a worker for batches long gone, at no measurable speed (5.6 against 5.7 ms).
        options.enable_cpu_mem_arena = False
        # One thread, never spinning: a worker runs one job at a time and the worker processes are the parallelism.
        # By default ONNX Runtime starts a spinning thread per core it sees; on a host that shows more cores than
        # the container may use, two workers' spinning pools starved each other.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No private prepacked copies of the weights: they stay in the shared mapped file (42 MB less a worker, for
        # about 2 ms more a text).
        options.add_session_config_entry("session.disable_prepacking", "1")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.max_length = self.bert.max_length

    def count_tokens(self, text: str) -> int:
        return self.bert.count_tokens(text)

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        out = [self._batch(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(out) if out else np.zeros((0, 384), dtype=np.float32)

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.bert.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        feed = {
            "input_ids": ids,
            "position_ids": np.broadcast_to(np.arange(ids.shape[1], dtype=np.int64), ids.shape).copy(),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            "bias": ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :].astype(np.float32),
        }
        hidden = self.session.run(["hidden"], feed)[0]
        pooled = (hidden * mask[..., None]).sum(1) / np.clip(mask.sum(1, keepdims=True), 1e-9, None)
        return (pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)
