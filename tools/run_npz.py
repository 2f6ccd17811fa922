#!/usr/bin/env python3
"""Run a MorIcl model exported with `mor-icl construct --npz model.npz` in NumPy.

    python3 tools/run_npz.py model.npz prompt.csv      # last CSV row is the query

A second, independent implementation of docs/math.md §3's forward pass: tokens are columns h_i; an
attention layer adds (1/N) Σ_j ReLU(<Q h_i, K h_j>) V h_j (ReLU heads), (1/N) Σ_j <Q h_i, K h_j> V h_j
(linear heads) or Σ_j softmax_j(...) V h_j (softmax heads) for every head, an MLP layer adds W2 ReLU(W1 h + b1) + b2. Prints ŷ and β̂.
"""
import sys
import numpy as np


def embed(z, x, y, xq):
    names = list(z["layout.names"]); start = z["layout.start"]; width = z["layout.width"]
    blk = {n: (int(s), int(w)) for n, s, w in zip(names, start, width)}
    D = int(start[-1] + width[-1])
    base = int(z["embedding.position_base"][0])
    aux = [a for a in z["embedding.auxiliary_tokens"] if a]
    n, d = x.shape
    N = n + 1 + len(aux)
    H = np.zeros((N, D))
    def row(name, off=0): return blk[name][0] + off
    H[:, row("one")] = 1
    for i in range(n + 1):
        H[i, row("x"):row("x") + d] = x[i] if i < n else xq
        if i < n:
            H[i, row("y")] = y[i]; H[i, row("t")] = 1
        else:
            H[i, row("is_query")] = 1
        H[i, row("positioned")] = 1
        p = i
        for dgt in range(blk["pos"][1]):
            H[i, row("pos", dgt)] = p % base; H[i, row("pos_sq", dgt)] = (p % base) ** 2; p //= base
    for a in range(len(aux)):
        H[n + 1 + a, row("aux", a)] = 1
    return H, blk


def forward(z, H):
    N = H.shape[0]
    for l in range(int(z["layers.count"][0])):
        p = f"layer{l:02d}"
        delta = np.zeros_like(H)
        if z[f"{p}.kind"][0] == "attention":
            h = 0
            while f"{p}.head{h}.Q" in z:
                Q, K, V = (z[f"{p}.head{h}.{m}"] for m in "QKV")
                S = (H @ Q.T) @ (H @ K.T).T              # S[i, j] = <Q h_i, K h_j>
                act = z[f"{p}.head{h}.activation"][0]
                if act == "relu":
                    W = np.maximum(S, 0) / N
                elif act == "linear":
                    W = S / N
                elif act == "softmax":
                    S = S - S.max(axis=1, keepdims=True)
                    W = np.exp(S); W /= W.sum(axis=1, keepdims=True)
                else:
                    raise ValueError(f"{p}.head{h}: unknown activation {act!r}")
                delta += W @ (H @ V.T)
                h += 1
        else:
            W1, b1, W2, b2 = (z[f"{p}.mlp.{m}"] for m in ("W1", "b1", "W2", "b2"))
            delta = np.maximum(H @ W1.T + b1, 0) @ W2.T + b2
        H = H + delta
    return H


def main():
    z = dict(np.load(sys.argv[1]))
    data = np.loadtxt(sys.argv[2], delimiter=",", skiprows=1, ndmin=2)
    x, y = data[:-1, :-1], data[:-1, -1]
    H, blk = embed(z, x, y, data[-1, :-1])
    H = forward(z, H)
    n = x.shape[0]
    print("prediction", repr(float(H[n, int(z["readout.prediction_row"][0])])))
    for b in z["readout.beta_blocks"]:
        s, w = blk[b]
        print(b, np.array2string(H[n, s:s + w], precision=12))


if __name__ == "__main__":
    main()
