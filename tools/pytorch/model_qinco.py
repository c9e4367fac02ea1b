"""Independent module definitions that reproduce the class paths and state-dict keys of the QINCo1 reference's
checkpoints (ALGORITHM.md §1, §2, §3.1, §7.1), written from that specification only, never from the reference's code.

A pickle of these modules names `model_qinco.QINCo`, `model_qinco.IVFQINCo`, `model_qinco.QINCoLR` and
`model_qinco.PQ_QINCo`, like `torch.save(model)` in the reference, so Qinco.Interop's importer can be tested on files
with the same layout. The forward passes are the specification's: decoding (1.5)–(1.7) and QINCo1's greedy,
exhaustive encoder (1.8)–(1.10), used to make the expected outputs of the test fixtures.
"""
import torch
from torch import nn


class QINCoStep(nn.Module):
    """One neural step (§1.2–1.3): f(c, x̂) = z_L, z_0 = c + W·[c; x̂] + b, z_l = z_{l−1} + V_l·ReLU(U_l·z_{l−1})."""

    def __init__(self, d, K, L, h):
        super().__init__()
        self.d, self.K, self.L, self.h = d, K, L, h
        self.codebook = nn.Embedding(K, d)
        self.MLPconcat = nn.Linear(2 * d, d)
        for l in range(L):
            setattr(self, f"residual_block{l}",
                    nn.Sequential(nn.Linear(d, h, bias=False), nn.ReLU(), nn.Linear(h, d, bias=False)))

    def concat(self, c, xhat):
        return c + self.MLPconcat(torch.cat([c, xhat], dim=-1))

    def forward(self, c, xhat):
        z = self.concat(c, xhat)
        for l in range(self.L):
            z = z + getattr(self, f"residual_block{l}")(z)
        return z


class QINCoLRStep(QINCoStep):
    """QINCo-LR's step (§2.1): the concat layer is a bias-free rank-h product V_cat·U_cat."""

    def __init__(self, d, K, L, h):
        super().__init__(d, K, L, h)
        self.MLPconcat = nn.Sequential(nn.Linear(2 * d, h, bias=False), nn.Linear(h, d, bias=False))


class QINCo(nn.Module):
    """QINCo1 (§1): codebook0 and neural steps step1 … step{M−1}; plain attributes d, K, L, M, h, db_scale."""

    step_class = QINCoStep
    first_step = 1

    def __init__(self, d, K, L, M, h):
        super().__init__()
        self.d, self.K, self.L, self.M, self.h = d, K, L, M, h
        self.db_scale = 1.0
        self.codebook0 = nn.Embedding(K, d)
        for s in self.step_indices():
            setattr(self, f"step{s}", self.step_class(d, K, L, h))

    def step_indices(self):
        return range(1, self.M)

    def steps(self):
        return [getattr(self, f"step{s}") for s in self.step_indices()]

    def decode(self, codes):
        """codes [n, indices] int64 → reconstructions s·x̂ [n, d] (1.5)–(1.7)."""
        xhat = self.codebook0(codes[:, 0])
        for i, step in enumerate(self.steps(), start=1):
            xhat = xhat + step(step.codebook(codes[:, i]), xhat)
        return xhat * self.db_scale

    def encode(self, x):
        """QINCo1's greedy, exhaustive search (1.8)–(1.10) on raw vectors x [n, d]. Returns the codes and, per step,
        the smallest gap between the best and the second-best squared distance (float64), to check for near-ties."""
        x = x / self.db_scale
        dist = torch.cdist(x.double(), self.codebook0.weight.double()) ** 2
        codes = [dist.argmin(dim=1)]
        gaps = [gap(dist)]
        xhat = self.codebook0(codes[0])
        for step in self.steps():
            n, k = x.shape[0], step.K
            c = step.codebook.weight.unsqueeze(0).expand(n, k, self.d)
            candidates = xhat.unsqueeze(1) + step(c, xhat.unsqueeze(1).expand(n, k, self.d))
            dist = ((x.unsqueeze(1) - candidates).double() ** 2).sum(dim=-1)
            code = dist.argmin(dim=1)
            codes.append(code)
            gaps.append(gap(dist))
            xhat = candidates[torch.arange(n), code]
        return torch.stack(codes, dim=1), min(gaps)


def gap(dist):
    top2 = dist.topk(2, dim=1, largest=False).values
    return float((top2[:, 1] - top2[:, 0]).min())


class IVFQINCo(QINCo):
    """IVF-QINCo1 (§3.1): codebook0 holds the K_IVF centroids (frozen), then M neural steps step0 … step{M−1}."""

    first_step = 0

    def __init__(self, d, K, L, M, h, K_IVF):
        super().__init__(d, K, L, M, h)
        self.K_IVF = K_IVF
        self.codebook0 = nn.Embedding(K_IVF, d)
        self.codebook0.weight.requires_grad = False

    def step_indices(self):
        return range(0, self.M)


class QINCoLR(QINCo):
    """QINCo-LR (§2.1), for the importer's refusal test."""

    step_class = QINCoLRStep


class PQ_QINCo(nn.Module):
    """PQ-QINCo (§2.2): independent QINCo models on sub-vectors, for the importer's refusal test."""

    def __init__(self, d, nsub, K, L, M, h):
        super().__init__()
        self.d, self.nsub = d, nsub
        for j in range(nsub):
            setattr(self, f"sub_quantizer_{j}", QINCo(d // nsub, K, L, M, h))
