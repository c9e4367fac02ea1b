#!/usr/bin/env python3
"""Builds a Faiss IVF index with its `add` split over several processes (docs/search.md, the 1M comparison).

Debian's python3-faiss 1.7.3 links the reference BLAS and encodes on one core, so adding 1,000,000 vectors to an
`IVF4096,RQ8x8_Nfloat` index with its default beam 5 takes about 20 minutes in one process. This trains once, writes the
empty trained index, adds each slice of the database in its own process with ids equal to the row numbers, and merges
the slices with IndexIVF.merge_from (ids kept): the same index as one `index.add(base)`, in a fraction of the time.

    /usr/bin/python3 faiss_build_split.py --key "IVF4096,RQ8x8_Nfloat" --centroids c4096.fvecs \
        --train bigsift_learn.bvecs [--train-rows 0:262144] --base bigsift_base.bvecs --processes 2 --out f-ivfrq-b5.index
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import faiss

from faiss_peer import read_vecs, set_beam


def train(args):
    xt = read_vecs(args.train, args.train_rows)
    index = faiss.index_factory(xt.shape[1], args.key)
    set_beam(index, args.beam)
    faiss.extract_index_ivf(index).quantizer.add(read_vecs(args.centroids))
    t0 = time.time()
    index.train(xt)
    faiss.write_index(index, args.out + ".empty")
    return time.time() - t0


def add_slice(args):
    index = faiss.read_index(args.out + ".empty")
    a, b = (int(x) for x in args.slice.split(":"))
    xb = read_vecs(args.base, args.slice)
    index.add_with_ids(xb, np.arange(a, b, dtype=np.int64))
    faiss.write_index(index, f"{args.out}.{a}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--key", required=True)
    p.add_argument("--centroids", required=True, help="coarse centroids (.fvecs); IndexIVF.train then skips its k-means")
    p.add_argument("--train", required=True)
    p.add_argument("--train-rows")
    p.add_argument("--base", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--beam", type=int, help="RQ beam (Faiss max_beam_size); Faiss' default is 5")
    p.add_argument("--slice", help=argparse.SUPPRESS)  # internal: the worker process adding rows A:B
    args = p.parse_args()
    faiss.omp_set_num_threads(1)
    if args.slice:
        add_slice(args)
        return
    train_s = train(args)
    d = int(np.fromfile(args.base, dtype=np.int32, count=1)[0])
    rows = os.path.getsize(args.base) // (4 + d * (1 if args.base.endswith("bvecs") else 4))
    bounds = np.linspace(0, rows, args.processes + 1).astype(int)
    t0 = time.time()
    workers = [subprocess.Popen([sys.executable, __file__, *sys.argv[1:], "--slice", f"{a}:{b}"]) for a, b in zip(bounds, bounds[1:])]
    if any(w.wait() != 0 for w in workers):
        raise SystemExit("an add process failed")
    add_s = time.time() - t0
    merged = faiss.read_index(f"{args.out}.{bounds[0]}")
    for a in bounds[1:-1]:
        part = faiss.read_index(f"{args.out}.{a}")
        faiss.extract_index_ivf(merged).merge_from(faiss.extract_index_ivf(part), 0)
    faiss.write_index(merged, args.out)
    for name in [args.out + ".empty"] + [f"{args.out}.{a}" for a in bounds[:-1]]:
        os.remove(name)
    print(json.dumps({"key": args.key, "train_s": train_s, "add_s": add_s, "processes": args.processes, "ntotal": merged.ntotal}))


if __name__ == "__main__":
    sys.exit(main())
