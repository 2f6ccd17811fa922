#!/usr/bin/env python3
"""MorIcl models in PyTorch: a torch.nn.Module built from a `mor-icl export --safetensors` file.

    /usr/bin/python3 tools/moricl_torch.py model.safetensors prompt.csv [more.csv ...] [--json]
    /usr/bin/python3 tools/moricl_torch.py model.safetensors --save copy.safetensors

A prompt CSV has the header x1,...,xd,y; its last row is the query (its y is not used), as in
`mor-icl run`. The script prints the prediction and beta (and, where the model has them, the
responsibilities, the symmetric weights and the estimated mixing weights); with --json one JSON
object per prompt. --save writes the module's parameters back in the same layout (what a model
trained in PyTorch would do), for `mor-icl import`. Bad input (a missing file, a prompt of the wrong
dimension, a prompt longer than the model's positional scheme, a file that is not a MorIcl export)
prints one line on stderr and exits with code 2, before torch is imported.

As a library (tools/ on sys.path):

    import torch, moricl_torch
    model = moricl_torch.load("model.safetensors")          # a torch.nn.Module
    out = model(x, y, query)                                 # x: n x d, y: n, query: d (float64 tensors)
    out["prediction"], out["beta"]

The forward pass is docs/math.md §3 (constructed layout) or the GPT of docs/export.md (gpt2 layout).
Attention scores of the constructed layout are computed as Q_pos K_pos^T + Q_cont K_cont^T: the
positional part is a sum of integer products, exact in any order and exactly 0 for admitted pairs,
so adding the content part to it loses nothing -- the reason this module agrees with `mor-icl run`
to rounding (about 1e-15) rather than to the ~1e-12 a single dense product gives.
"""
import json
import math
import os
import struct
import sys

USAGE = "usage: moricl_torch.py MODEL.safetensors PROMPT.csv [PROMPT.csv ...] [--json] | MODEL.safetensors --save OUT.safetensors"
DTYPES = {"F64": ("<f8", 8), "F32": ("<f4", 4), "I64": ("<i8", 8)}


class InputError(Exception):
    """Bad input: reported on one line with exit code 2."""


# ---- checks that need neither numpy nor torch (so bad input fails fast) -------------------------

def read_header(path):
    """The safetensors header (tensor table) and the MorIcl document of its __metadata__."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: file not found")
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise InputError(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
        (size,) = struct.unpack("<Q", head)
        if size > os.path.getsize(path) - 8:
            raise InputError(f"{path}: not a safetensors file (header length {size} exceeds the file)")
        try:
            header = json.loads(f.read(size).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise InputError(f"{path}: not a safetensors file (header is not JSON: {e})")
    meta = header.pop("__metadata__", {}) if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != "moricl" or "moricl" not in meta:
        raise InputError(f"{path}: not a MorIcl export (its __metadata__ has no format 'moricl'; see docs/export.md)")
    try:
        doc = json.loads(meta["moricl"])
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: __metadata__.moricl is not valid JSON ({e})")
    if doc.get("family") not in ("constructed", "gpt2"):
        raise InputError(f"{path}: unknown model family {doc.get('family')!r} (expected constructed or gpt2)")
    return header, meta, doc, 8 + size


def input_dimension(doc):
    return doc["model"]["spec"]["dimension"] if doc["family"] == "constructed" else doc["config"]["d"]


def read_prompt(path, d, max_n):
    """(x rows, y, query) from a CSV x1,...,xd,y whose last row is the query."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: file not found")
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f if line.strip()]
    if not lines:
        raise InputError(f"{path}:1: empty file; expected a header x1,...,x{d},y")
    header = [h.strip() for h in lines[0].split(",")]
    if header[-1:] != ["y"] or header[:-1] != [f"x{a + 1}" for a in range(len(header) - 1)] or len(header) < 2:
        raise InputError(f"{path}:1: header '{lines[0]}' must be x1,...,xd,y")
    if len(header) - 1 != d:
        raise InputError(f"{path}: the prompt has d = {len(header) - 1} features but the model takes d = {d}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(",")
        if len(fields) != d + 1:
            raise InputError(f"{path}:{number}: {len(fields)} fields, expected {d + 1}")
        try:
            values = [float(v) for v in fields]
        except ValueError:
            raise InputError(f"{path}:{number}: a field is not a number")
        if not all(math.isfinite(v) for v in values):
            raise InputError(f"{path}:{number}: a field is not finite")
        rows.append(values)
    if len(rows) < 2:
        raise InputError(f"{path}: needs at least two rows (examples, then the query)")
    n = len(rows) - 1
    if max_n is not None and n > max_n:
        raise InputError(f"{path}: the prompt has n = {n} examples, past the model's positional scheme (n <= {max_n})")
    return [r[:-1] for r in rows[:-1]], [r[-1] for r in rows[:-1]], rows[-1][:-1]


def parse_args(argv):
    """Checks the command line and the files before torch is imported."""
    args = [a for a in argv if a != "--json"]
    as_json = len(args) != len(argv)
    save = None
    if "--save" in args:
        i = args.index("--save")
        if i + 1 >= len(args):
            raise InputError("--save needs an output file")
        save = args[i + 1]
        del args[i:i + 2]
        folder = os.path.dirname(os.path.abspath(save))
        if not os.path.isdir(folder):
            raise InputError(f"{save}: folder '{folder}' does not exist")
    unknown = [a for a in args if a.startswith("--")]
    if unknown:
        raise InputError(f"unknown option {unknown[0]}; {USAGE}")
    if not args or (len(args) < 2 and save is None):
        raise InputError(USAGE)
    model_path, csvs = args[0], args[1:]
    _, _, doc, _ = read_header(model_path)
    d = input_dimension(doc)
    max_n = doc.get("maxPromptLength") if doc["family"] == "constructed" else None
    prompts = [(c, read_prompt(c, d, max_n)) for c in csvs]
    return model_path, prompts, as_json, save


if __name__ == "__main__":
    try:
        ARGS = parse_args(sys.argv[1:])
    except InputError as e:
        print(f"moricl_torch.py: error: {e}", file=sys.stderr)
        sys.exit(2)

import numpy as np  # noqa: E402  (after the checks above, on purpose)
import torch  # noqa: E402


# ---- the file ------------------------------------------------------------------------------------

def read_safetensors(path):
    """(MorIcl document, __metadata__, {name: tensor}) of a MorIcl safetensors file."""
    header, meta, doc, start = read_header(path)
    with open(path, "rb") as f:
        data = f.read()[start:]
    tensors = {}
    for name, info in header.items():
        code, size = DTYPES.get(info.get("dtype"), (None, 0))
        if code is None:
            raise InputError(f"{path}: tensor '{name}' has dtype {info.get('dtype')!r}; expected F64, F32 or I64")
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if end - begin != count * size or end > len(data):
            raise InputError(f"{path}: tensor '{name}' does not fit its data_offsets")
        array = np.frombuffer(data[begin:end], dtype=code).reshape(info["shape"]).copy()
        tensors[name] = torch.from_numpy(array)
    return doc, meta, tensors


def write_safetensors(path, tensors, meta):
    """Writes {name: tensor} and __metadata__ in the safetensors format (atomically: temporary file, then rename)."""
    names = {torch.float64: "F64", torch.float32: "F32", torch.int64: "I64"}
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name, t in tensors.items():
        raw = t.detach().contiguous().cpu().numpy().astype(DTYPES[names[t.dtype]][0], copy=False).tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


# ---- the modules ---------------------------------------------------------------------------------

def _key(name):
    return name.replace(".", "__")   # module parameter names cannot contain '.'


class _Weights(torch.nn.Module):
    """Parameters stored under their file names (layer07.head0.Q -> layer07__head0__Q)."""

    def __init__(self, tensors):
        super().__init__()
        self.names = list(tensors)
        self.weights = torch.nn.ParameterDict({_key(k): torch.nn.Parameter(v, requires_grad=v.is_floating_point()) for k, v in tensors.items()})

    def w(self, name):
        return self.weights[_key(name)]

    def named_file_tensors(self):
        return {k: self.w(k) for k in self.names}


class TransformerModule(_Weights):
    """The constructed layout (docs/export.md): a MorIcl transformer model with its embedding."""

    def __init__(self, doc, tensors):
        super().__init__(tensors)
        m = doc["model"]
        self.doc, self.model = doc, m
        self.blocks = {b["name"]: (b["start"], b["width"]) for b in m["layout"]}
        self.D = m["dimension"]
        self.d = m["spec"]["dimension"]
        self.base = m["embedding"]["positionBase"]
        self.aux = len(m["embedding"]["auxiliaryTokens"])
        self.max_n = doc["maxPromptLength"]

    def row(self, block, offset=0):
        start, width = self.blocks[block]
        if offset >= width:
            raise ValueError(f"block {block} has {width} rows")
        return start + offset

    def embed(self, x, y, query):
        """docs/math.md §3: examples [x_i; y_i; t = 1; 1; positioned; digits; squares], the query, the auxiliary tokens."""
        n = x.shape[0]
        N, dtype = n + 1 + self.aux, x.dtype
        h = torch.zeros(N, self.D, dtype=dtype)
        xs = self.row("x")
        h[:, self.row("one")] = 1
        h[:n, xs:xs + self.d] = x
        h[n, xs:xs + self.d] = query
        h[:n, self.row("y")] = y
        h[:n, self.row("t")] = 1
        h[n, self.row("is_query")] = 1
        h[:n + 1, self.row("positioned")] = 1
        p = torch.arange(n + 1)
        for k in range(self.blocks["pos"][1]):
            digit = (p // self.base ** k % self.base).to(dtype)
            h[:n + 1, self.row("pos", k)] = digit
            h[:n + 1, self.row("pos_sq", k)] = digit * digit
        for a in range(self.aux):
            h[n + 1 + a, self.row("aux", a)] = 1
        return h

    def attention(self, h, layer, index):
        N = h.shape[0]
        delta = torch.zeros_like(h)
        for i, head in enumerate(layer["heads"]):
            name = f"layer{index:02d}.head{i}"
            rows = self.w(name + ".V_rows")
            if rows.numel() == 0:
                continue
            q, k, v = h @ self.w(name + ".Q").T, h @ self.w(name + ".K").T, h @ self.w(name + ".V").T
            p = head["positionalDims"]
            # Positional dimensions first: an exact integer part (0 for admitted pairs), then the content part.
            s = q[:, :p] @ k[:, :p].T if p > 0 else torch.zeros(N, N, dtype=h.dtype)
            if q.shape[1] > p:
                s = s + q[:, p:] @ k[:, p:].T
            act = head["activation"]
            if act == "relu":
                out = (torch.relu(s) @ v) * (1.0 / N)
            elif act == "linear":
                out = (s @ v) * (1.0 / N)
            elif act == "softmax":
                e = torch.exp(s - s.max(dim=1, keepdim=True).values)
                out = (e @ v) / e.sum(dim=1, keepdim=True)
            else:
                raise InputError(f"{name}: unknown activation {act!r}")
            delta[:, rows] = delta[:, rows] + out
        return h + delta

    def mlp(self, h, index):
        p = f"layer{index:02d}.mlp."
        z = torch.relu(h @ self.w(p + "W1").T + self.w(p + "b1"))
        return h + (z @ self.w(p + "W2").T + self.w(p + "b2"))

    def forward(self, x, y, query):
        n = x.shape[0]
        h = self.embed(x, y, query)
        read = self.model["readOut"]
        out = {"positions_in_range": n <= self.max_n}
        for index, layer in enumerate(self.model["layers"]):
            h = self.attention(h, layer, index) if layer["kind"] == "attention" else self.mlp(h, index)
            if layer.get("decode") == "Responsibilities" and read.get("responsibilities"):
                out["responsibilities"] = h[:n, read["responsibilities"]]
            if layer.get("decode") == "SymmetricWeights" and read.get("symmetricWeightPlusOne", -1) >= 0:
                out["weights"] = h[:n, read["symmetricWeightPlusOne"]] - 1
        token = h[n]
        out["prediction"] = token[read["prediction"]]
        beta = torch.stack([token[self.row(b):self.row(b) + self.blocks[b][1]] for b in read["beta"]])
        out["beta"] = torch.cat([beta, -beta]) if self.model["spec"]["symmetric"] else beta
        if read.get("mixing"):
            start, width = self.blocks[read["mixing"]]
            out["mixing"] = token[start:start + width]
        return out


class GptModule(_Weights):
    """The gpt2 layout (docs/export.md): read-in, query marker, pre-LayerNorm blocks, read-out."""

    def __init__(self, doc, tensors):
        super().__init__(tensors)
        c = doc["config"]
        self.doc, self.d, self.L, self.D, self.H = doc, c["d"], c["layers"], c["width"], c["heads"]
        self.eps = c.get("layerNormEpsilon", 1e-5)

    def ln(self, h, name):
        return torch.nn.functional.layer_norm(h, (self.D,), self.w(name + ".gamma"), self.w(name + ".beta"), self.eps)

    def forward(self, x, y, query):
        n, D, H = x.shape[0], self.D, self.H
        dk = D // H
        tokens = torch.cat([torch.cat([x, y[:, None]], 1), torch.cat([query, query.new_zeros(1)])[None, :]], 0)
        h = tokens @ self.w("read_in.W") + self.w("read_in.b")
        h = h + torch.nn.functional.one_hot(torch.tensor(n), n + 1).to(h.dtype)[:, None] * self.w("query_embedding")
        for l in range(self.L):
            p = f"block{l}."
            a = self.ln(h, p + "ln1")
            q, k, v = ((a @ self.w(p + "attn.W" + m) + self.w(p + "attn.b" + m)).reshape(n + 1, H, dk).transpose(0, 1) for m in "qkv")
            probabilities = torch.softmax((q @ k.transpose(1, 2)) * (1.0 / math.sqrt(dk)), dim=-1)
            heads = (probabilities @ v).transpose(0, 1).reshape(n + 1, D)
            h = h + heads @ self.w(p + "attn.Wo") + self.w(p + "attn.bo")
            u = self.ln(h, p + "ln2") @ self.w(p + "mlp.W1") + self.w(p + "mlp.b1")
            h = h + torch.nn.functional.gelu(u, approximate="tanh") @ self.w(p + "mlp.W2") + self.w(p + "mlp.b2")
        last = self.ln(h[n], "ln_f")
        return {"prediction": last @ self.w("read_out.w") + self.w("read_out.b")[0]}


def load(path):
    """The torch.nn.Module of a MorIcl safetensors file (constructed or gpt2 layout)."""
    doc, meta, tensors = read_safetensors(path)
    module = TransformerModule(doc, tensors) if doc["family"] == "constructed" else GptModule(doc, tensors)
    module.metadata = meta
    return module


def save(module, path):
    """Writes a module's parameters in its file layout, with the metadata it was loaded with."""
    write_safetensors(path, module.named_file_tensors(), module.metadata)


def _plain(v):
    if isinstance(v, torch.Tensor):
        return v.item() if v.dim() == 0 else v.tolist()
    return v


def _main(args):
    model_path, prompts, as_json, save_to = args
    module = load(model_path)
    dtype = torch.float64 if module.doc["precision"] == "double" else torch.float32
    with torch.no_grad():
        for path, (x, y, query) in prompts:
            out = module(torch.tensor(x, dtype=dtype), torch.tensor(y, dtype=dtype), torch.tensor(query, dtype=dtype))
            if as_json:
                print(json.dumps({"prompt": path, **{k: _plain(v) for k, v in out.items()}}))
                continue
            print(f"{path}: prediction {repr(_plain(out['prediction']))}")
            for key in ("beta", "mixing"):
                if key in out:
                    for k, b in enumerate(_plain(out[key]) if key == "beta" else [_plain(out[key])]):
                        print(f"  {key}[{k}] {b}" if key == "beta" else f"  {key} {b}")
    if save_to is not None:
        save(module, save_to)
        print(f"wrote {save_to}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(_main(ARGS))
    except InputError as e:
        print(f"moricl_torch.py: error: {e}", file=sys.stderr)
        sys.exit(2)
