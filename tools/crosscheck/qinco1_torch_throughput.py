"""Training throughput of QINCo1's reference recipe in PyTorch on this machine, for the side-by-side comparison of
issue 17 (tools/crosscheck/training-throughput runs it beside `qinco train`). Uses the independent implementation of
qinco1_torch.py (written from ALGORITHM.md §1): per batch, the greedy exhaustive encoding (every step evaluates all K
codewords through the step network, no gradient), then the loss of every prefix, backward and an Adam step.

    /usr/bin/python3 tools/crosscheck/qinco1_torch_throughput.py --data ../shared/datasets/bigsift/bigsift_learn.bvecs --threads 2

Codebooks are training rows (their values do not change the cost); layers have PyTorch's default init. Prints one JSON
line: threads, batch, M, K, L, h, batches timed and training vectors per second (after warm-up batches).
"""
import argparse, json, os, sys, time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qinco1_torch import Qinco1, train_step  # noqa: E402


def read_rows(path, rows):
    """The first `rows` vectors of a .bvecs or .fvecs file as float32."""
    if path.endswith(".bvecs"):
        d = int(np.fromfile(path, dtype="int32", count=1)[0])
        raw = np.fromfile(path, dtype="uint8", count=rows * (d + 4)).reshape(rows, d + 4)
        return raw[:, 4:].astype("float32")
    d = int(np.fromfile(path, dtype="int32", count=1)[0])
    raw = np.fromfile(path, dtype="int32", count=rows * (d + 1)).reshape(rows, d + 1)
    return raw[:, 1:].view("float32").copy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--rows", type=int, default=40960)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=8, help="M")
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batches", type=int, default=12)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = read_rows(a.data, a.rows)
    scale = float(x.max())
    x /= scale
    rng = np.random.RandomState(0)
    books = np.stack([x[rng.choice(len(x), a.k, replace=False)] * (0.5 ** m) for m in range(a.steps)])
    model = Qinco1(books, a.blocks, a.hidden)
    xt = torch.from_numpy(x)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = rng.permutation(len(x))
    timed = 0
    for b in range(a.warmup + a.batches):
        if b == a.warmup:
            t0 = time.perf_counter()
        s = (b * a.batch) % (len(order) - a.batch + 1)
        train_step(model, optimizer, xt[order[s:s + a.batch]])
        timed += a.batch if b >= a.warmup else 0
    seconds = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch " + torch.__version__, "threads": a.threads, "batch": a.batch, "M": a.steps, "K": a.k,
                      "L": a.blocks, "h": a.hidden, "batches": a.batches, "vectors_per_s": round(timed / seconds, 1)}))


if __name__ == "__main__":
    main()
