"""Writes the PyTorch checkpoint fixtures of Qinco.Interop's tests (Qinco.Tests/TestData/pytorch/) with Debian's
python3-torch, and checks a Qinco.NET safetensors export against PyTorch. Not part of the build.

    /usr/bin/python3 tools/pytorch/make_fixtures.py [OUT_DIR]          # default Qinco.Tests/TestData/pytorch
    /usr/bin/python3 tools/pytorch/make_fixtures.py --check-export MODEL.safetensors FIXTURE.npz [MODEL2 FIXTURE2 ...]

The models are the independent definitions of model_qinco.py (same class paths and keys as the reference's
`torch.save(model)`, ALGORITHM.md §7.1), with random weights (PyTorch's default init) and random codebooks, so every
layer matters. For each model the script stores vectors x, their codes from QINCo1's greedy exhaustive search, and
the PyTorch decoder's output for those codes (`<name>.npz`: x float32 [n, D], codes int64 [n, indices], decoded
float32 [n, D]); vectors whose best and second-best candidates at some step are closer than GAP (float64 squared
distance, normalised units) are dropped, so the codes do not hinge on rounding.

--check-export loads each safetensors file written by `qinco export` / ReferenceCheckpoint.WriteSafetensors (parsed
with NumPy, no safetensors package needed) into these modules with load_state_dict(strict=True), decodes the paired
fixture's codes and prints one JSON line with the largest difference to the fixture's decoded vectors relative to
their largest magnitude; the exit code is 0 when every one is at most 1e-5.
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model_qinco  # noqa: E402  (the pickles must name the module model_qinco, not __main__)

GAP = 1e-4
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Qinco.Tests", "TestData", "pytorch")


def randomise(model, generator):
    """Random codebooks N(0, 0.5²); the layers keep PyTorch's default init (drawn from the global seed)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("codebook.weight") or name.startswith("codebook0"):
                p.copy_(torch.randn(p.shape, generator=generator) * 0.5)


def make_set(model, n, generator, noise=0.05):
    """n vectors near reconstructions of random codes, their greedy codes and the decoder's outputs."""
    kept_x, kept_codes = [], []
    sizes = [model.codebook0.num_embeddings] + [step.K for step in model.steps()]
    while sum(len(c) for c in kept_codes) < n:
        codes = torch.stack([torch.randint(0, k, (256,), generator=generator) for k in sizes], dim=1)
        with torch.no_grad():
            x = model.decode(codes) + torch.randn(256, model.d, generator=generator) * noise * float(model.db_scale)
            ok = torch.ones(256, dtype=torch.bool)
            for i in range(256):
                _, g = model.encode(x[i:i + 1])
                ok[i] = g >= GAP
            x = x[ok]
            found, _ = model.encode(x)
        kept_x.append(x)
        kept_codes.append(found)
    x = torch.cat(kept_x)[:n].contiguous()
    codes = torch.cat(kept_codes)[:n].contiguous()
    with torch.no_grad():
        decoded = model.decode(codes)
        _, g = model.encode(x)
    return x.numpy(), codes.numpy().astype(np.int64), decoded.numpy(), g


def save_model(model, out, name, n, generator, compressed=False):
    torch.save(model, os.path.join(out, name + ".pt"))
    x, codes, decoded, g = make_set(model, n, generator)
    (np.savez_compressed if compressed else np.savez)(os.path.join(out, name + ".npz"), x=x, codes=codes, decoded=decoded)
    return {"vectors": len(x), "smallest_gap": g}


def qinco2_checkpoint(generator):
    """A QINCo2-style dict checkpoint (ALGORITHM.md §7.2; D = 8, K = 16, M = 2, L = 1, dh = 16, A = 4, B = 2)."""
    d, k, dh = 8, 16, 16
    model = OrderedDict()
    model["data_mean"] = torch.randn(d, generator=generator)
    model["data_std"] = torch.tensor(2.5)
    model["steps.0.codebook.weight"] = torch.randn(k, d, generator=generator)
    model["steps.1.codebook.weight"] = torch.randn(k, d, generator=generator)
    model["steps.1.substep.codebook.weight"] = torch.randn(k, d, generator=generator)
    model["steps.1.concat.mlp.weight"] = torch.randn(d, 2 * d, generator=generator)
    model["steps.1.concat.mlp.bias"] = torch.randn(d, generator=generator)
    model["steps.1.residual_blocks.0.up_proj.weight"] = torch.randn(dh, d, generator=generator)
    model["steps.1.residual_blocks.0.down_proj.weight"] = torch.randn(d, dh, generator=generator)
    model._metadata = OrderedDict([("", {"version": 1})])
    optimizer = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(k, d), "exp_avg_sq": torch.zeros(k, d)}},
        "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "params": [0]}],
    }
    return {
        "epoch": 3,
        "model": model,
        "optimizer": optimizer,
        "scheduler": {"last_epoch": 3, "base_lrs": [1e-3]},
        "logger": {"val_mse": [1.5, 1.25, 1.125]},
        "parameters": {"K": k, "M": 2, "dh": dh, "L": 1, "A": 4, "B": 2},
        "data_dim": d,
    }


def dtype_fixture(generator):
    """Tensors of every storage type the reader converts, a transposed (non-contiguous) view, a view at a storage
    offset that shares its storage with another tensor, a scalar and an empty tensor; the expected values as JSON."""
    base = torch.randn(4, 6, generator=generator)
    tensors = OrderedDict()
    tensors["f32"] = base
    tensors["f16"] = base.half()
    tensors["bf16"] = base.bfloat16()
    tensors["i64"] = torch.arange(-6, 6, dtype=torch.int64).reshape(3, 4) * 1000003
    tensors["i32"] = torch.arange(-6, 6, dtype=torch.int32).reshape(2, 6) * 7
    tensors["transposed"] = base.t()              # shares base's storage, strides (1, 6)
    tensors["offset_view"] = base[1:3, 2:5]       # shares base's storage, offset 8, strides (6, 1)
    tensors["scalar"] = torch.tensor(0.375)
    tensors["empty"] = torch.zeros(0, 3)
    expected = {name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
                       "values": [float(v) for v in t.double().flatten().tolist()]}
                for name, t in tensors.items()}
    return tensors, expected


def write_fixtures(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(15)
    generator = torch.Generator().manual_seed(15)
    report = {}

    qinco1 = model_qinco.QINCo(d=8, K=16, L=2, M=3, h=16)
    randomise(qinco1, generator)
    qinco1.db_scale = np.float32(37.5)           # the reference stores xt.max(), a NumPy float32 scalar
    qinco1.eval()
    report["qinco1"] = save_model(qinco1, out, "qinco1", 48, generator)
    torch.save(qinco1.state_dict(), os.path.join(out, "qinco1_state_dict.pt"))

    ivf = model_qinco.IVFQINCo(d=8, K=16, L=1, M=2, h=16, K_IVF=10)
    randomise(ivf, generator)
    ivf.db_scale = 12.0                          # a plain float this time
    ivf.eval()
    report["ivf_qinco1"] = save_model(ivf, out, "ivf_qinco1", 48, generator, compressed=True)

    lowrank = model_qinco.QINCoLR(d=8, K=4, L=1, M=2, h=4)
    lowrank.db_scale = 1.0
    torch.save(lowrank, os.path.join(out, "qinco_lr.pt"))
    pq = model_qinco.PQ_QINCo(d=8, nsub=2, K=4, L=1, M=2, h=4)
    torch.save(pq, os.path.join(out, "pq_qinco.pt"))

    torch.save(qinco2_checkpoint(generator), os.path.join(out, "qinco2.pt"))
    tensors, expected = dtype_fixture(generator)
    torch.save(tensors, os.path.join(out, "dtypes.pt"))
    with open(os.path.join(out, "dtypes.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")

    report["files"] = {name: os.path.getsize(os.path.join(out, name)) for name in sorted(os.listdir(out))}
    print(json.dumps(report))


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack_from("<Q", data, 0)
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return meta, tensors


def check_export(path, fixture):
    meta, tensors = read_safetensors(path)
    fmt = meta["format"]
    args = {key: int(meta[key]) for key in ("d", "K", "L", "M", "h")}
    if fmt == "qinco1":
        model = model_qinco.QINCo(**args)
    elif fmt == "ivf-qinco1":
        model = model_qinco.IVFQINCo(**args, K_IVF=int(meta["K_IVF"]))
    else:
        raise SystemExit(f"unknown format {fmt}")
    model.load_state_dict(tensors, strict=True)
    model.db_scale = float(meta["db_scale"])
    expected = np.load(fixture)
    with torch.no_grad():
        decoded = model.decode(torch.from_numpy(expected["codes"])).numpy()
    rel = float(np.max(np.abs(decoded - expected["decoded"])) / np.max(np.abs(expected["decoded"])))
    print(json.dumps({"format": fmt, "tensors": len(tensors), "max_relative_error": rel}))
    return 0 if rel <= 1e-5 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--check-export":
        pairs = sys.argv[2:]
        if not pairs or len(pairs) % 2:
            raise SystemExit("--check-export takes pairs of MODEL.safetensors FIXTURE.npz")
        sys.exit(max(check_export(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)))
    write_fixtures(sys.argv[1] if len(sys.argv) > 1 else OUT)
