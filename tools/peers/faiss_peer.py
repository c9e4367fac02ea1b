#!/usr/bin/env python3
"""Faiss peer measurements for docs/search.md: the same files, the same recall and timing definitions as `qinco search`.

A peer, never a dependency: it needs only Debian's python3-faiss (1.7.3) and numpy, at /usr/bin/python3.

    faiss_peer.py build --key "IVF4096,RQ8x8_Nfloat" --train LEARN --base BASE --out F.index [--centroids C.fvecs] [--threads 2] [--beam B]
    faiss_peer.py search --index F.index --queries Q --groundtruth GT --nprobe 1,4,16 [--k 100] [--threads 2] [--repeat 3]
    faiss_peer.py scan --key "IVF1,RQ8x8_Nfloat" --train LEARN --base BASE --codes 1000000 --queries Q [--threads 2] [--beam 1]

`search` prints one JSON object per nprobe with the fields of `qinco search --json` (r_at_k as shares 0..1, us_per_query
the median of --repeat timed searches of all queries after a warm-up). `scan` builds a one-list index over the first
--codes base vectors and reports the look-up-table scan cost per code (time per query / codes).
"""
import argparse
import json
import sys
import time

import numpy as np
import faiss


def read_vecs(path, rows=None):
    """.fvecs/.bvecs/.ivecs -> float32 (ivecs: int64) array; rows 'A:B' selects rows A..B-1."""
    kind = path.rsplit(".", 1)[-1]
    raw = np.fromfile(path, dtype=np.uint8)
    d = int(raw[:4].view(np.int32)[0])
    elem = {"fvecs": 4, "ivecs": 4, "bvecs": 1}[kind]
    row = 4 + d * elem
    data = raw.reshape(-1, row)[:, 4:]
    if rows:
        a, b = (int(x) if x else None for x in rows.split(":"))
        data = data[a:b]
    if kind == "bvecs":
        return np.ascontiguousarray(data).astype(np.float32)
    if kind == "fvecs":
        return np.ascontiguousarray(data).view(np.float32).reshape(len(data), d)
    return np.ascontiguousarray(data).view(np.int32).reshape(len(data), d).astype(np.int64)


def recall(ids, gt, k):
    return float(np.mean([gt[i, 0] in ids[i, :k] for i in range(len(gt))]))


def set_beam(index, beam):
    """Sets the RQ's training and encoding beam (Faiss' max_beam_size, default 5) when the index has one."""
    if beam is None:
        return
    inner = faiss.downcast_index(faiss.extract_index_ivf(index) if "IVF" in type(index).__name__ else index)
    rq = getattr(inner, "rq", None)
    if rq is None:
        raise SystemExit(f"--beam: {type(inner).__name__} has no residual quantizer")
    rq.max_beam_size = beam


def build(args):
    faiss.omp_set_num_threads(args.threads)
    xt = read_vecs(args.train, args.train_rows)
    xb = read_vecs(args.base, args.base_rows)
    index = faiss.index_factory(xt.shape[1], args.key)
    set_beam(index, args.beam)
    if args.centroids:
        # The same coarse quantizer as the index compared with: IndexIVF.train then skips its k-means.
        faiss.extract_index_ivf(index).quantizer.add(read_vecs(args.centroids))
    t0 = time.time()
    index.train(xt)
    t1 = time.time()
    index.add(xb)
    t2 = time.time()
    faiss.write_index(index, args.out)
    print(json.dumps({"key": args.key, "train_s": t1 - t0, "add_s": t2 - t1, "ntotal": index.ntotal,
                      "code_size": index.code_size if hasattr(index, "code_size") else None, "threads": args.threads}))


def search(args):
    faiss.omp_set_num_threads(args.threads)
    index = faiss.read_index(args.index)
    xq = read_vecs(args.queries, args.query_rows)
    gt = read_vecs(args.groundtruth, args.query_rows)
    ivf = faiss.extract_index_ivf(index) if "IVF" in type(index).__name__ or hasattr(index, "nprobe") else None
    for nprobe in [int(p) for p in args.nprobe.split(",")]:
        if ivf is not None:
            ivf.nprobe = nprobe
        index.search(xq[:64], args.k)  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.time()
            _, ids = index.search(xq, args.k)
            times.append(time.time() - t0)
        us = sorted(times)[len(times) // 2] * 1e6 / len(xq)
        print(json.dumps({"index": args.index, "nprobe": nprobe if ivf is not None else None, "k": args.k,
                          "r_at_1": recall(ids, gt, 1), "r_at_10": recall(ids, gt, 10), "r_at_100": recall(ids, gt, 100),
                          "us_per_query": us, "threads": args.threads, "queries": len(xq)}), flush=True)


def scan(args):
    faiss.omp_set_num_threads(args.threads)
    xt = read_vecs(args.train, args.train_rows)
    xb = read_vecs(args.base, f"0:{args.codes}")
    xq = read_vecs(args.queries, f"0:{args.nq}")
    index = faiss.index_factory(xt.shape[1], args.key)
    set_beam(index, args.beam)
    index.train(xt)
    index.add(xb)
    faiss.extract_index_ivf(index).nprobe = 1
    index.search(xq[:4], 100)
    times = []
    for _ in range(args.repeat):
        t0 = time.time()
        index.search(xq, 100)
        times.append(time.time() - t0)
    per_query = sorted(times)[len(times) // 2] / len(xq)
    # Each query scans every code with args.threads threads working on different queries: ns per code per thread.
    print(json.dumps({"key": args.key, "codes": args.codes, "queries": args.nq, "threads": args.threads,
                      "us_per_query": per_query * 1e6, "ns_per_code": per_query * 1e9 / args.codes * args.threads}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build")
    b.add_argument("--key", required=True)
    b.add_argument("--train", required=True)
    b.add_argument("--train-rows")
    b.add_argument("--base", required=True)
    b.add_argument("--base-rows")
    b.add_argument("--out", required=True)
    b.add_argument("--centroids", help="coarse centroids (.fvecs) to use instead of training the IVF k-means")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--beam", type=int, help="RQ beam (Faiss max_beam_size) for training and encoding; Faiss' default is 5")
    s = sub.add_parser("search")
    s.add_argument("--index", required=True)
    s.add_argument("--queries", required=True)
    s.add_argument("--query-rows")
    s.add_argument("--groundtruth", required=True)
    s.add_argument("--nprobe", default="1")
    s.add_argument("--k", type=int, default=100)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--repeat", type=int, default=1)
    c = sub.add_parser("scan")
    c.add_argument("--key", default="IVF1,RQ8x8_Nfloat")
    c.add_argument("--train", required=True)
    c.add_argument("--train-rows", default="0:100000")
    c.add_argument("--base", required=True)
    c.add_argument("--codes", type=int, default=1000000)
    c.add_argument("--queries", required=True)
    c.add_argument("--nq", type=int, default=100)
    c.add_argument("--threads", type=int, default=2)
    c.add_argument("--repeat", type=int, default=3)
    c.add_argument("--beam", type=int, help="RQ beam; the scan's speed does not depend on it, so 1 builds fastest")
    args = p.parse_args()
    {"build": build, "search": search, "scan": scan}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
