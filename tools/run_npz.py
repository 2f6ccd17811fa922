#!/usr/bin/env python3
"""Run a MorIcl model exported with `mor-icl construct --npz model.npz` in NumPy.

    /usr/bin/python3 tools/run_npz.py model.npz prompt.csv      # last CSV row is the query

A second, independent implementation of docs/math.md §3's forward pass: tokens are rows h_i; an
attention layer adds (1/N) Σ_j ReLU(<Q h_i, K h_j>) V h_j (ReLU heads), (1/N) Σ_j <Q h_i, K h_j> V h_j
(linear heads) or Σ_j softmax_j(...) V h_j (softmax heads) for every head, an MLP layer adds
W2 ReLU(W1 h + b1) + b2. Scores sum the head's positional dimensions first (an exact integer part,
0 for admitted pairs) and then add the content part, as the runtime does, so the result agrees with
`mor-icl run` to rounding. Prints ŷ and β̂. Bad input (a missing file, a prompt of the wrong
dimension or longer than the positional scheme, a file that is not a MorIcl .npz) prints one line on
stderr and exits with code 2. For PyTorch and safetensors, see tools/moricl_torch.py.
"""
import os
import sys

import numpy as np


class InputError(Exception):
    pass


def load_model(path):
    if not os.path.isfile(path):
        raise InputError(f"{path}: file not found")
    try:
        z = dict(np.load(path))
    except (ValueError, OSError) as e:
        raise InputError(f"{path}: not a .npz archive ({e})")
    if "layout.names" not in z or "layers.count" not in z:
        raise InputError(f"{path}: not a MorIcl model (no layout.names or layers.count; write it with mor-icl construct --npz)")
    return z


def blocks(z):
    return {str(n): (int(s), int(w)) for n, s, w in zip(z["layout.names"], z["layout.start"], z["layout.width"])}


def read_prompt(path, d, max_n):
    if not os.path.isfile(path):
        raise InputError(f"{path}: file not found")
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    if header[-1:] != ["y"] or header[:-1] != [f"x{a + 1}" for a in range(len(header) - 1)]:
        raise InputError(f"{path}:1: header must be x1,...,xd,y")
    if len(header) - 1 != d:
        raise InputError(f"{path}: the prompt has d = {len(header) - 1} features but the model takes d = {d}")
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as e:
        raise InputError(f"{path}: {e}")
    if data.shape[0] < 2:
        raise InputError(f"{path}: needs at least two rows (examples, then the query)")
    if not np.all(np.isfinite(data)):
        raise InputError(f"{path}: a field is not finite")
    n = data.shape[0] - 1
    if n > max_n:
        raise InputError(f"{path}: the prompt has n = {n} examples, past the model's positional scheme (n <= {max_n})")
    return data[:-1, :-1], data[:-1, -1], data[-1, :-1]


def embed(z, blk, x, y, xq):
    D = max(s + w for s, w in blk.values())
    base = int(z["embedding.position_base"][0])
    aux = [a for a in z["embedding.auxiliary_tokens"] if a]
    n, d = x.shape
    H = np.zeros((n + 1 + len(aux), D))
    def row(name, off=0): return blk[name][0] + off
    H[:, row("one")] = 1
    H[:n, row("x"):row("x") + d] = x
    H[n, row("x"):row("x") + d] = xq
    H[:n, row("y")] = y
    H[:n, row("t")] = 1
    H[n, row("is_query")] = 1
    H[:n + 1, row("positioned")] = 1
    p = np.arange(n + 1)
    for k in range(blk["pos"][1]):
        digit = (p // base ** k) % base
        H[:n + 1, row("pos", k)] = digit
        H[:n + 1, row("pos_sq", k)] = digit * digit
    for a in range(len(aux)):
        H[n + 1 + a, row("aux", a)] = 1
    return H


def forward(z, H):
    N = H.shape[0]
    for l in range(int(z["layers.count"][0])):
        p = f"layer{l:02d}"
        delta = np.zeros_like(H)
        if z[f"{p}.kind"][0] == "attention":
            h = 0
            while f"{p}.head{h}.Q" in z:
                Q, K, V = (z[f"{p}.head{h}.{m}"] for m in "QKV")
                q, k = H @ Q.T, H @ K.T
                pos = int(z[f"{p}.head{h}.positional_dims"][0])
                S = q[:, :pos] @ k[:, :pos].T + q[:, pos:] @ k[:, pos:].T   # positional part first (exact)
                act = z[f"{p}.head{h}.activation"][0]
                if act == "relu":
                    W = np.maximum(S, 0) * (1.0 / N)
                elif act == "linear":
                    W = S * (1.0 / N)
                elif act == "softmax":
                    W = np.exp(S - S.max(axis=1, keepdims=True))
                    W /= W.sum(axis=1, keepdims=True)
                else:
                    raise InputError(f"{p}.head{h}: unknown activation {act!r}")
                delta += W @ (H @ V.T)
                h += 1
        else:
            W1, b1, W2, b2 = (z[f"{p}.mlp.{m}"] for m in ("W1", "b1", "W2", "b2"))
            delta = np.maximum(H @ W1.T + b1, 0) @ W2.T + b2
        H = H + delta
    return H


def main(argv):
    if len(argv) != 2:
        raise InputError("usage: run_npz.py model.npz prompt.csv")
    z = load_model(argv[0])
    blk = blocks(z)
    max_n = int(z["embedding.position_base"][0]) ** blk["pos"][1] - 1
    x, y, xq = read_prompt(argv[1], blk["x"][1], max_n)
    H = forward(z, embed(z, blk, x, y, xq))
    n = x.shape[0]
    print("prediction", repr(float(H[n, int(z["readout.prediction_row"][0])])))
    for b in z["readout.beta_blocks"]:
        s, w = blk[str(b)]
        print(b, " ".join(repr(float(v)) for v in H[n, s:s + w]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        print(f"run_npz.py: error: {e}", file=sys.stderr)
        sys.exit(2)
