"""RQ quality regimes of issue 16 built from the shared data, and Faiss 1.7.3's RQ MSE on them (the peer).

    /usr/bin/python3 tools/crosscheck/rq_regimes.py build OUTDIR         # writes OUTDIR/<regime>_{train,test}.fvecs
    /usr/bin/python3 tools/crosscheck/rq_regimes.py faiss OUTDIR [REGIME ...] [--seeds 1234,1,2]
    /usr/bin/python3 tools/crosscheck/rq_regimes.py qinco OUTDIR [REGIME ...] [--seeds 1234,1,2] \
        [--cli "dotnet Qinco.Cli/bin/Release/net10.0/qinco.dll"]  # the same cases with `qinco train/eval --threads 2`

Regimes (train rows / test rows, all float32 .fvecs):
  low25     25-d: the first 25 principal components (fitted on bigsift_learn rows 0:100,000) of bigsift_learn
            rows 0:8,000 (train) and bigsift_base rows 0:10,000 (test); the issue's 25-d, 8k-train word vectors.
  sift4k    128-d: sift10k_base rows 0:4,000 (train) and 5,000:10,000 (test); the 4,000-vector image-feature regime.
  cat768    768-d: 6 consecutive bigsift descriptors concatenated; 1,000 from bigsift_learn rows 0:6,000 (train),
            1,000 from bigsift_base rows 0:6,000 (test); ~4 training vectors per codeword, like the 784-d images.
  cat512    512-d: the same with 4 descriptors (bigsift_learn rows 0:4,000 / bigsift_base rows 0:4,000).
The cases measured per regime are in CASES (M, beam). MSE = mean over test vectors of the squared L2 error.
"""
import os
import sys

import numpy as np



def find_data():
    """shared/datasets beside the repository or any folder above it (as the tests look for it)."""
    here = os.path.abspath(".")
    while True:
        for candidate in (os.path.join(here, "shared", "datasets"), os.path.join(here, "..", "shared", "datasets")):
            if os.path.isdir(candidate):
                return os.path.normpath(candidate) + "/"
        if os.path.dirname(here) == here:
            sys.exit("shared/datasets not found above the current folder")
        here = os.path.dirname(here)


DATA = find_data()
CASES = {
    "low25": [(4, 1), (4, 5), (8, 1), (8, 5)],
    "sift4k": [(8, 1), (8, 5), (16, 1), (16, 5)],
    "cat768": [(8, 1), (8, 5), (7, 5)],
    "cat512": [(8, 1), (8, 5)],
}


def read_vecs(path, dtype, rows=None):
    if dtype == "uint8":
        d = int(np.fromfile(path, dtype="int32", count=1)[0])
        raw = np.memmap(path, dtype="uint8", mode="r").reshape(-1, d + 4)
        raw = raw if rows is None else raw[rows[0]:rows[1]]
        return raw[:, 4:].astype("float32")
    raw = np.fromfile(path, dtype="int32")
    raw = raw.reshape(-1, raw[0] + 1)[:, 1:].view(dtype)
    return (raw if rows is None else raw[rows[0]:rows[1]]).copy()


def write_fvecs(path, x):
    x = np.ascontiguousarray(x, dtype="float32")
    out = np.empty((x.shape[0], x.shape[1] + 1), dtype="float32")
    out[:, 0] = np.array([x.shape[1]], dtype="int32").view("float32")[0]
    out[:, 1:] = x
    out.tofile(path)


def build(outdir):
    os.makedirs(outdir, exist_ok=True)
    learn = DATA + "bigsift/bigsift_learn.bvecs"
    base = DATA + "bigsift/bigsift_base.bvecs"
    fit = read_vecs(learn, "uint8", (0, 100_000)).astype("float64")
    mean = fit.mean(0)
    _, vectors = np.linalg.eigh(np.cov(fit - mean, rowvar=False))
    axes = vectors[:, ::-1][:, :25]
    write_fvecs(f"{outdir}/low25_train.fvecs", (read_vecs(learn, "uint8", (0, 8000)) - mean) @ axes)
    write_fvecs(f"{outdir}/low25_test.fvecs", (read_vecs(base, "uint8", (0, 10000)) - mean) @ axes)
    sift = read_vecs(DATA + "sift10k/sift10k_base.fvecs", "float32")
    write_fvecs(f"{outdir}/sift4k_train.fvecs", sift[:4000])
    write_fvecs(f"{outdir}/sift4k_test.fvecs", sift[5000:10000])
    for name, parts in (("cat768", 6), ("cat512", 4)):
        write_fvecs(f"{outdir}/{name}_train.fvecs", read_vecs(learn, "uint8", (0, 1000 * parts)).reshape(1000, -1))
        write_fvecs(f"{outdir}/{name}_test.fvecs", read_vecs(base, "uint8", (0, 1000 * parts)).reshape(1000, -1))


def cases(regimes):
    """REGIME (all its CASES) or REGIME:M:BEAM (one case)."""
    for regime in regimes:
        if ":" in regime:
            name, m, beam = regime.split(":")
            yield name, int(m), int(beam)
        else:
            for m, beam in CASES[regime]:
                yield regime, m, beam


def run_faiss(outdir, regimes, seeds):
    import faiss

    faiss.omp_set_num_threads(2)
    # Faiss prints one "WARNING clustering ... points" line per k-means stage on these small sets: silence fd 2.
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    for regime, m, beam in cases(regimes):
        train = read_vecs(f"{outdir}/{regime}_train.fvecs", "float32")
        test = read_vecs(f"{outdir}/{regime}_test.fvecs", "float32")
        mses = []
        for seed in seeds:
            rq = faiss.ResidualQuantizer(train.shape[1], m, 8)
            rq.max_beam_size = beam
            rq.cp.seed = seed
            rq.train(train)
            mses.append(float(((test - rq.decode(rq.compute_codes(test))) ** 2).sum(1).mean()))
        text = " ".join(f"{v:.6g}" for v in mses)
        print(f"faiss {regime} M={m} beam={beam} median {np.median(mses):.6g} seeds {text}", flush=True)


def run_qinco(outdir, regimes, seeds, cli):
    import json
    import shlex
    import subprocess
    import time

    model = os.path.join(outdir, "rq-regime.qinco")
    for regime, m, beam in cases(regimes):
        mses, seconds = [], []
        for seed in seeds:
            train = shlex.split(cli) + ["train", "--method", "rq", "--train", f"{outdir}/{regime}_train.fvecs",
                                        "--steps", str(m), "--beam", str(beam), "--seed", str(seed),
                                        "--threads", "2", "--out", model]
            start = time.perf_counter()
            subprocess.run(train, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seconds.append(time.perf_counter() - start)
            evaluate = shlex.split(cli) + ["eval", "--model", model, "--base", f"{outdir}/{regime}_test.fvecs",
                                           "--threads", "2", "--json"]
            out = subprocess.run(evaluate, check=True, capture_output=True, text=True).stdout
            mses.append(float(json.loads(out)["mse"]))
        text = " ".join(f"{v:.6g}" for v in mses)
        print(f"qinco {regime} M={m} beam={beam} median {np.median(mses):.6g} seeds {text}"
              f"  train s (median) {np.median(seconds):.1f}", flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    seeds = [1234, 1, 2]
    cli = "dotnet Qinco.Cli/bin/Release/net10.0/qinco.dll"
    if "--seeds" in args:
        at = args.index("--seeds")
        seeds = [int(s) for s in args[at + 1].split(",")]
        del args[at:at + 2]
    if "--cli" in args:
        at = args.index("--cli")
        cli = args[at + 1]
        del args[at:at + 2]
    if args[0] == "build":
        build(args[1])
    elif args[0] == "faiss":
        run_faiss(args[1], args[2:] or list(CASES), seeds)
    else:
        run_qinco(args[1], args[2:] or list(CASES), seeds, cli)
