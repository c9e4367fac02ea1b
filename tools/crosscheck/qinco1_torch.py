"""Independent PyTorch implementation of QINCo1's reference recipe (ALGORITHM.md §1), written from the
specification, used only to measure how much the reference recipe's result varies with the seed on this
machine. Not part of the build; needs Debian's python3-torch, python3-faiss and python3-numpy.

    /usr/bin/python3 tools/crosscheck/qinco1_torch.py --seed 1 --epochs 12 [--init ours.npy]

Prints one JSON line: seed, val MSE and learning rate per epoch, best epoch, database MSE and R@1/10/100.
"""
import argparse, json, time

import faiss
import faiss.contrib.inspect_tools as inspect_tools
import numpy as np
import torch
from torch import nn

SIFT = "../shared/datasets/sift10k/"


def read_model(path):
    """Fields of a Qinco.NET model file (docs/model-format.md), CRC not checked."""
    import struct
    data = open(path, "rb").read()
    assert data[:8] == b"QINCOMDL", "not a Qinco.NET model"
    pos, fields = 28, {}
    while data[pos] != 0:
        tag = data[pos]
        (n,) = struct.unpack_from("<i", data, pos + 1)
        name = data[pos + 5:pos + 5 + n].decode()
        pos += 5 + n
        if tag == 1:
            fields[name] = struct.unpack_from("<q", data, pos)[0]; pos += 8
        elif tag == 2:
            fields[name] = struct.unpack_from("<d", data, pos)[0]; pos += 8
        elif tag == 3:
            (n,) = struct.unpack_from("<i", data, pos); fields[name] = data[pos + 4:pos + 4 + n].decode(); pos += 4 + n
        else:
            rank = data[pos]
            shape = struct.unpack_from("<" + "i" * rank, data, pos + 1)
            pos += 1 + 4 * rank
            count = int(np.prod(shape))
            fields[name] = np.frombuffer(data, dtype="<f4" if tag == 4 else "<i4", count=count, offset=pos).reshape(shape).copy()
            pos += 4 * count
    return fields


def load_into(model, fields):
    with torch.no_grad():
        model.codebook0.copy_(torch.from_numpy(fields["codebook0"]))
        for i, step in enumerate(model.steps, start=1):
            step.codebook.copy_(torch.from_numpy(fields[f"step{i}.codebook"]))
            step.concat.weight.copy_(torch.from_numpy(fields[f"step{i}.concat.weight"]))
            step.concat.bias.copy_(torch.from_numpy(fields[f"step{i}.concat.bias"]))
            for l, (up, down) in enumerate(zip(step.up, step.down)):
                up.weight.copy_(torch.from_numpy(fields[f"step{i}.block{l}.up"]))
                down.weight.copy_(torch.from_numpy(fields[f"step{i}.block{l}.down"]))


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype="int32")
    d = raw[0]
    return raw.reshape(-1, d + 1)[:, 1:].view(dtype).copy()


class Step(nn.Module):
    def __init__(self, codebook, d, blocks, hidden):
        super().__init__()
        self.codebook = nn.Parameter(codebook)
        self.concat = nn.Linear(2 * d, d, bias=True)  # PyTorch default init, as the reference
        self.up = nn.ModuleList(nn.Linear(d, hidden, bias=False) for _ in range(blocks))
        self.down = nn.ModuleList(nn.Linear(hidden, d, bias=False) for _ in range(blocks))

    def blocks(self, z):
        for up, down in zip(self.up, self.down):
            z = z + down(torch.relu(up(z)))
        return z

    def forward(self, codewords, xhat):
        z = codewords + self.concat(torch.cat([codewords, xhat], dim=-1))
        return self.blocks(z)

    @torch.no_grad()
    def best_codes(self, x, xhat, chunk=128):
        d = x.shape[1]
        w_c, w_x = self.concat.weight[:, :d], self.concat.weight[:, d:]
        per_codeword = self.codebook + self.codebook @ w_c.T + self.concat.bias  # K x D
        codes = torch.empty(x.shape[0], dtype=torch.long)
        for s in range(0, x.shape[0], chunk):
            xh = xhat[s:s + chunk]
            z = per_codeword[None, :, :] + (xh @ w_x.T)[:, None, :]
            y = xh[:, None, :] + self.blocks(z)
            dist = ((x[s:s + chunk, None, :] - y) ** 2).sum(-1)
            codes[s:s + chunk] = dist.argmin(1)
        return codes


class Qinco1(nn.Module):
    def __init__(self, rq_codebooks, blocks, hidden):
        super().__init__()
        m, k, d = rq_codebooks.shape
        self.codebook0 = nn.Parameter(torch.from_numpy(rq_codebooks[0]).clone())
        self.steps = nn.ModuleList(Step(torch.from_numpy(rq_codebooks[i]).clone(), d, blocks, hidden) for i in range(1, m))

    @torch.no_grad()
    def encode(self, x):
        codes = [((x[:, None, :] - self.codebook0[None]) ** 2).sum(-1).argmin(1)]
        xhat = self.codebook0[codes[0]]
        for step in self.steps:
            k = step.best_codes(x, xhat)
            codes.append(k)
            xhat = xhat + step(step.codebook[k], xhat)
        return torch.stack(codes, 1)

    def decode_all_steps(self, codes):
        xhat = self.codebook0[codes[:, 0]]
        out = [xhat]
        for i, step in enumerate(self.steps):
            xhat = xhat + step(step.codebook[codes[:, i + 1]], xhat)
            out.append(xhat)
        return out


def train_step(model, optimizer, x):
    """One optimiser step of the reference recipe: greedy exhaustive encoding without gradient, then the summed error
    of every prefix per dimension (ALGORITHM.md §1.6), backward, Adam."""
    codes = model.encode(x)
    loss = sum(((x - xh) ** 2).sum() for xh in model.decode_all_steps(codes)) / (x.shape[0] * x.shape[1])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-shuffle", action="store_true", help="train rows in file order every epoch")
    ap.add_argument("--init", help="[M,K,D] .npy RQ codebooks in raw units instead of Faiss' greedy RQ")
    ap.add_argument("--start", help="a Qinco.NET model file to start from (its weights and scale) instead of the reference init")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    faiss.omp_set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    base = read_vecs(SIFT + "sift10k_base.fvecs", "float32")
    queries = read_vecs(SIFT + "sift10k_query.fvecs", "float32")
    truth = read_vecs(SIFT + "sift10k_groundtruth_rows5000.ivecs", "int32")
    xt, xval, xdb = base[:4500], base[4500:5000], base[5000:10000]
    scale = float(xt.max())

    if a.start:
        fields = read_model(a.start)
        scale = fields["scale"]
        books = [fields["codebook0"]] + [fields[f"step{i}.codebook"] for i in range(1, fields["steps"])]
        model = Qinco1(np.stack(books), fields["residual_blocks"], fields["hidden_size"])
        load_into(model, fields)
    else:
        if a.init:
            rq_books = np.load(a.init).astype("float32")
        else:
            rq = faiss.ResidualQuantizer(128, 8, 8)
            rq.max_beam_size = 1
            rq.train(xt)
            rq_books = np.stack(inspect_tools.get_additive_quantizer_codebooks(rq)).astype("float32")
        model = Qinco1(rq_books / scale, a.blocks, a.hidden)

    def mse(x_raw):
        x = torch.from_numpy(x_raw / scale)
        rec = model.decode_all_steps(model.encode(x))[-1]
        return float(((x - rec) ** 2).sum(1).mean()) * scale * scale, (rec * scale).detach().numpy()

    xt_n = torch.from_numpy(xt / scale)
    lr, last_change, history, rates = a.lr, 0, [], []
    best, best_state = float("inf"), None
    with torch.no_grad():
        start = mse(xval)[0]
    t0 = time.time()
    for epoch in range(a.epochs):
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)  # re-created every epoch, as the reference
        order = np.arange(len(xt)) if a.no_shuffle else np.random.RandomState(123 + epoch).permutation(len(xt))
        for s in range(0, len(order), a.batch):
            train_step(model, optimizer, xt_n[order[s:s + a.batch]])
        with torch.no_grad():
            val = mse(xval)[0]
        history.append(val)  # unrounded: the plateau rule compares these with best
        rates.append(lr)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
        e = epoch + 1
        if e > last_change + 50 and min(history[-50:]) > best:
            break
        if e > last_change + 10 and min(history[-10:]) > best:
            lr, last_change = lr / 10, e
            if lr < 2e-6:
                break
    train_s = time.time() - t0
    model.load_state_dict(best_state)
    with torch.no_grad():
        db_mse, rec = mse(xdb)
    index = faiss.IndexFlatL2(rec.shape[1])
    index.add(rec.astype("float32"))
    _, found = index.search(queries, 100)
    recall = [float((found[:, :r] == truth[:, :1]).any(1).mean() * 100) for r in (1, 10, 100)]
    print(json.dumps(dict(seed=a.seed, start_val=round(start, 1), val=[round(v, 1) for v in history], lr=rates, best_epoch=int(np.argmin(history)) + 1,
                          db_mse=round(db_mse, 1), recall=recall, train_s=round(train_s, 1))), flush=True)


if __name__ == "__main__":
    main()
