"""Take the folded-in mirror averaging out of a TFLite model, keeping its int8 weights and calibration exactly.

    python -m training.strip_mirror resources/models/kise_emotion.tflite --out single_pass.tflite

`training.export` folds test-time mirror averaging into the graph: the face and
its mirror image run through the same weights and the two softmaxes are
averaged. That doubles the cost of a face, which an AVX2-only laptop cannot
afford (1.67 ms against 0.93 ms a face there, see the model card), while an
AVX-512 VNNI CPU runs both passes in half a millisecond. So the bundled file
is the single pass, and the classifier mirrors at run time where the CPU can
afford it (`"mirror"` in the sidecar, `kise_desktop/core/classifier.py`).

Rebuilding the network from the file and exporting it again would recalibrate
the int8 activations and cost about 0.3 points of validation accuracy. This
instead edits the flatbuffer: it keeps the operators that the first
(unmirrored) branch's softmax depends on, points the final DEQUANTIZE at that
softmax, and drops the tensors and weight buffers nothing uses any more. Every
remaining tensor, weight and quantisation parameter is the original's, so the
single pass computes bit for bit what the first branch of the original did.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kise_desktop.core.results import atomic_write_bytes
from training.data.ferplus import DataError, one_line_errors

MIRROR_OP = "REVERSE_V2"


def _op_names(model) -> list[str]:
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    return [names[max(code.builtinCode, code.deprecatedBuiltinCode)] for code in model.operatorCodes]


def strip_mirror(model_bytes: bytes, source: str = "model") -> bytes:
    """The single-pass graph of a mirror-folded TFLite model (raises DataError if it has no folded mirror)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    try:
        model = flatbuffer_utils.convert_bytearray_to_object(bytearray(model_bytes))
    except Exception as exc:                          # the flatbuffer reader raises anything on garbage
        raise DataError(f"{source}: not a TFLite model ({type(exc).__name__})") from None
    if len(model.subgraphs) != 1:
        raise DataError(f"{source}: expected one subgraph, found {len(model.subgraphs)}")
    graph, codes = model.subgraphs[0], _op_names(model)
    kind = [codes[op.opcodeIndex] for op in graph.operators]
    if kind.count(MIRROR_OP) != 1 or kind.count("SOFTMAX") != 2 or kind[-1] != "DEQUANTIZE":
        raise DataError(f"{source}: not a mirror-folded KISE model (no single {MIRROR_OP} feeding two softmaxes)")
    producer = {int(t): i for i, op in enumerate(graph.operators) for t in op.outputs}
    mirrored = {int(graph.operators[kind.index(MIRROR_OP)].outputs[0])}
    for op in graph.operators:                        # operators run in order: taint what the mirror feeds
        if any(int(t) in mirrored for t in op.inputs):
            mirrored.update(int(t) for t in op.outputs)
    softmax = [int(op.outputs[0]) for op, k in zip(graph.operators, kind) if k == "SOFTMAX"]
    plain = [t for t in softmax if t not in mirrored]
    if len(plain) != 1:
        raise DataError(f"{source}: could not tell the unmirrored branch from the mirrored one")

    keep, stack = set(), [plain[0]]
    while stack:                                      # the operators the plain softmax depends on
        tensor = stack.pop()
        if tensor in producer and producer[tensor] not in keep:
            keep.add(producer[tensor])
            stack.extend(int(t) for t in graph.operators[producer[tensor]].inputs if t >= 0)
    dequantize = graph.operators[-1]
    dequantize.inputs = [plain[0]]
    operators = [graph.operators[i] for i in sorted(keep)] + [dequantize]

    used = sorted({int(t) for op in operators for t in list(op.inputs) + list(op.outputs) if t >= 0}
                  | {int(t) for t in graph.inputs} | {int(t) for t in graph.outputs})
    remap = {old: new for new, old in enumerate(used)}
    for op in operators:
        op.inputs = [remap[int(t)] if t >= 0 else -1 for t in op.inputs]
        op.outputs = [remap[int(t)] for t in op.outputs]
    graph.tensors = [graph.tensors[t] for t in used]
    graph.inputs = [remap[int(t)] for t in graph.inputs]
    graph.outputs = [remap[int(t)] for t in graph.outputs]
    graph.operators = operators
    for signature in model.signatureDefs or []:
        for entry in list(signature.inputs or []) + list(signature.outputs or []):
            entry.tensorIndex = remap[int(entry.tensorIndex)]
    live = {int(t.buffer) for t in graph.tensors} | {int(m.buffer) for m in model.metadata or []}
    for index, buffer in enumerate(model.buffers):
        if index not in live:
            buffer.data = None                      # keep the index (tensors refer to buffers by position)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


@one_line_errors()
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Take the folded-in mirror averaging out of a TFLite model.")
    parser.add_argument("model", help="a mirror-folded .tflite (training.export without --no-flip)")
    parser.add_argument("--out", required=True, help="where to write the single-pass .tflite")
    args = parser.parse_args(argv)
    source, out = Path(args.model), Path(args.out)
    if not source.is_file():
        raise DataError(f"{source}: model file not found")
    if out.resolve() == source.resolve():
        raise DataError(f"{out}: would overwrite the input; choose another --out")
    data = strip_mirror(source.read_bytes(), str(source))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out, data)
    print(f"wrote {out} ({len(data) / 1024:.0f} KB, from {source.stat().st_size / 1024:.0f} KB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
