#!/usr/bin/env python3
"""The PyTorch peer of StructuredForwardBenchmarks: tools/moricl_torch.py's module (eager, float64),
serving forward passes over stdin so that the benchmark times the forward alone.

    /usr/bin/python3 torch_forward_server.py MODEL.safetensors THREADS

Commands, one per line: "load NAME PROMPT.csv" reads a prompt (its last row is the query);
"run NAME" runs one forward pass on it under torch.no_grad(). Each answers one line: "ok" or "ok PREDICTION".
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import torch  # noqa: E402
import moricl_torch  # noqa: E402


def main():
    model = moricl_torch.load(sys.argv[1])
    torch.set_num_threads(int(sys.argv[2]))
    prompts = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "load":
            rows = [list(map(float, r.split(","))) for r in open(parts[2], encoding="utf-8").read().splitlines()[1:] if r.strip()]
            data = torch.tensor(rows, dtype=torch.float64)
            prompts[parts[1]] = (data[:-1, :-1].contiguous(), data[:-1, -1].contiguous(), data[-1, :-1].contiguous())
            print("ok", flush=True)
        elif parts[0] == "run":
            x, y, q = prompts[parts[1]]
            with torch.no_grad():
                out = model(x, y, q)
            print("ok", float(out["prediction"]), flush=True)
        else:
            print("unknown command", flush=True)


if __name__ == "__main__":
    main()
