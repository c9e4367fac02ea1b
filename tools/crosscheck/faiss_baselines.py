"""Faiss RQ and PQ baselines on the standard SIFT split, trained on the first N rows (4,500 = QINCo's training
rows; 5,000 = training + validation rows, as the issue's Faiss figures were). Needs Debian's python3-faiss.

    /usr/bin/python3 tools/crosscheck/faiss_baselines.py 4500 5000 2>/dev/null
"""
import sys

import faiss
import numpy as np

SIFT = "../shared/datasets/sift10k/"


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype="int32")
    return raw.reshape(-1, raw[0] + 1)[:, 1:].view(dtype).copy()


base = read_vecs(SIFT + "sift10k_base.fvecs", "float32")
queries = read_vecs(SIFT + "sift10k_query.fvecs", "float32")
truth = read_vecs(SIFT + "sift10k_groundtruth_rows5000.ivecs", "int32")
database = base[5000:10000]
faiss.omp_set_num_threads(2)


def report(name, rows, reconstruction):
    mse = float(((database - reconstruction) ** 2).sum(1).mean())
    index = faiss.IndexFlatL2(database.shape[1])
    index.add(reconstruction)
    _, found = index.search(queries, 100)
    recall = [float((found[:, :r] == truth[:, :1]).any(1).mean() * 100) for r in (1, 10, 100)]
    print(f"{name:12} train rows 0:{rows}  MSE {mse:,.0f}  R@1/10/100 {recall[0]:.1f}/{recall[1]:.1f}/{recall[2]:.1f}", flush=True)


for rows in map(int, sys.argv[1:] or ["4500", "5000"]):
    for beam in (1, 5):
        rq = faiss.ResidualQuantizer(128, 8, 8)
        rq.max_beam_size = beam
        rq.train(base[:rows])
        report(f"RQ beam {beam}", rows, rq.decode(rq.compute_codes(database)))
    pq = faiss.ProductQuantizer(128, 8, 8)
    pq.train(base[:rows])
    report("PQ 8x8", rows, pq.decode(pq.compute_codes(database)))
