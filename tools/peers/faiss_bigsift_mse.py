#!/usr/bin/env python3
"""Faiss 1.7.3 baselines on bigsift (a peer, never a dependency: Debian's python3-faiss at /usr/bin/python3):
database MSE and R@1/10/100 of exhaustive search over the decoded database, for the factory keys given, trained on
learn rows A:B, encoded with Faiss' own encoder. Prints one JSON object per key, fields as `qinco eval --json`.

    /usr/bin/python3 tools/peers/faiss_bigsift_mse.py --keys "RQ8x8,PQ8x8,IVF1024,RQ8x8" --train-rows 0:500000 \
        --base-rows 0:100000 --beam 5 [--threads 2] [--data ../shared/datasets/bigsift]

Keys are separated by ';' when one contains a comma ("IVF1024,RQ8x8;RQ8x8"). --beam sets every RQ's max_beam_size
(Faiss' default is 5).

--compose-ivf builds an "IVF<n>,RQ<m>x<b>" key from Faiss' parts instead of index_factory: faiss.Kmeans for the n lists
(IndexIVF's coarse training: 25 iterations, 256 points per centroid at most), every training vector's residual to its
nearest centroid, faiss.ResidualQuantizer(d, m, b) with the beam trained on those residuals, and encoding as
IndexIVFResidualQuantizer does (residual to the nearest centroid, then the RQ's beam search); code_bytes counts the RQ
code only (the list number adds ceil(log2 n) bits). Faiss 1.7.3's own IVF-RQ training ran over 35 minutes on 100,000 rows here without
finishing, the composition trains in about the time of the plain RQ. Checked against index_factory on 20,000 rows,
"IVF64,RQ4x8", beam 5: MSE 39,226 composed, 39,219 from the factory index. Ground truth: bigsift_groundtruth_base100k.ivecs for base rows 0:100000, else the full file.
"""
import argparse
import json
import re
import sys
import time

import faiss
import numpy as np


def read_vecs(path, rows=None):
    kind = path.rsplit(".", 1)[-1]
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    d = int(np.frombuffer(raw[:4].tobytes(), dtype=np.int32)[0])
    elem = 1 if kind == "bvecs" else 4
    data = raw.reshape(-1, 4 + d * elem)
    if rows:
        a, b = (int(x) if x else None for x in rows.split(":"))
        data = data[a:b]
    body = np.ascontiguousarray(data[:, 4:])
    if kind == "bvecs":
        return body.astype(np.float32)
    if kind == "fvecs":
        return body.view(np.float32).reshape(len(body), d)
    return body.view(np.int32).reshape(len(body), d)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--keys", required=True)
    p.add_argument("--train-rows", default="0:500000")
    p.add_argument("--base-rows", default="0:100000")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default="../shared/datasets/bigsift")
    p.add_argument("--compose-ivf", action="store_true")
    a = p.parse_args()
    faiss.omp_set_num_threads(a.threads)
    learn = read_vecs(f"{a.data}/bigsift_learn.bvecs", a.train_rows)
    base = read_vecs(f"{a.data}/bigsift_base.bvecs", a.base_rows)
    queries = read_vecs(f"{a.data}/bigsift_query.bvecs")
    gt_file = "bigsift_groundtruth_base100k.ivecs" if a.base_rows == "0:100000" else "bigsift_groundtruth.ivecs"
    truth = read_vecs(f"{a.data}/{gt_file}")[:, 0]
    keys = a.keys.split(";") if ";" in a.keys else a.keys.split(",") if "IVF" not in a.keys else [a.keys]
    for key in keys:
        composed = re.fullmatch(r"IVF(\d+),RQ(\d+)x(\d+)", key) if a.compose_ivf else None
        if composed:
            report(a, key, *composed_ivf_rq(learn, base, a.beam, *(int(g) for g in composed.groups())), queries, truth)
            continue
        index = faiss.index_factory(learn.shape[1], key)
        # extract_index_ivf returns the IndexIVF base class: downcast it, or its rq is invisible and the beam stays
        # at Faiss' default of 5 whatever --beam says.
        target = faiss.downcast_index(faiss.extract_index_ivf(index)) if isinstance(index, faiss.IndexIVF) else index
        if "RQ" in key:
            if not hasattr(target, "rq"):
                raise SystemExit(f"{key}: no residual quantizer found to set the beam on")
            target.rq.max_beam_size = a.beam
        t0 = time.time()
        index.train(learn)
        train_s = time.time() - t0
        t0 = time.time()
        codes = index.sa_encode(base)
        encode_us = (time.time() - t0) / len(base) * 1e6
        report(a, key, train_s, encode_us, codes.shape[1], index.sa_decode(codes), base, queries, truth)


def composed_ivf_rq(learn, base, beam, lists, steps, bits):
    d = learn.shape[1]
    t0 = time.time()
    kmeans = faiss.Kmeans(d, lists, niter=25, max_points_per_centroid=256, seed=1234)
    kmeans.train(learn)
    coarse = faiss.IndexFlatL2(d)
    coarse.add(kmeans.centroids)
    _, learn_lists = coarse.search(learn, 1)
    rq = faiss.ResidualQuantizer(d, steps, bits)
    rq.max_beam_size = beam
    rq.train(np.ascontiguousarray(learn - kmeans.centroids[learn_lists[:, 0]]))
    train_s = time.time() - t0
    t0 = time.time()
    _, base_lists = coarse.search(base, 1)
    centroids = kmeans.centroids[base_lists[:, 0]]
    codes = rq.compute_codes(np.ascontiguousarray(base - centroids))
    encode_us = (time.time() - t0) / len(base) * 1e6
    decoded = rq.decode(codes) + centroids
    return train_s, encode_us, codes.shape[1], decoded, base


def report(a, key, train_s, encode_us, code_bytes, decoded, base, queries, truth):
    mse = float(((base - decoded) ** 2).sum(1).mean())
    flat = faiss.IndexFlatL2(base.shape[1])
    flat.add(decoded)
    _, found = flat.search(queries, 100)
    recall = {k: float((found[:, :k] == truth[:, None]).any(1).mean()) for k in (1, 10, 100)}
    print(json.dumps({"method": f"Faiss {key} beam {a.beam}", "train_rows": a.train_rows, "mse": mse, "r_at_1": recall[1],
                      "r_at_10": recall[10], "r_at_100": recall[100], "train_s": round(train_s, 1),
                      "encode_us_per_vector": round(encode_us, 1), "code_bytes": code_bytes, "threads": a.threads,
                      "composed_ivf": bool(a.compose_ivf and key.startswith("IVF"))}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
