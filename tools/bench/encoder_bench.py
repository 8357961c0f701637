#!/usr/bin/env python3
"""Plain PyTorch BERT (no transformers) for the encoder benchmark.

  encoder_bench.py check FIXTURE_DIR      compare with tiny-bert/expected.safetensors
  encoder_bench.py run DIR T B SECONDS    prints "sent/s sent/CPU-s" like encoder_bench run

Threads: torch.set_num_threads($OMP_NUM_THREADS). Weights are read from
model.safetensors with json + numpy (no safetensors package needed).
"""
import json, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

DT = {"F32": np.float32, "I64": np.int64, "F16": np.float16}


def load_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        a = np.frombuffer(b[8 + n + s:8 + n + e], dtype=DT[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(a.copy())
    return out


class Bert(torch.nn.Module):
    def __init__(self, cfg, w):
        super().__init__()
        self.cfg, self.w = cfg, w
        self.L, self.NH = cfg["num_hidden_layers"], cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)

    def forward(self, ids, types, mask):
        w, B, T = self.w, ids.shape[0], ids.shape[1]
        C = w["embeddings.word_embeddings.weight"].shape[1]
        hs = C // self.NH
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T]
             + w["embeddings.token_type_embeddings.weight"][types])
        x = F.layer_norm(x, (C,), w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for l in range(self.L):
            p = "encoder.layer.%d." % l
            q = F.linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
            k = F.linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
            v = F.linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
            q, k, v = (t.view(B, T, self.NH, hs).transpose(1, 2) for t in (q, k, v))
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hs) + add, dim=-1)
            y = (a @ v).transpose(1, 2).reshape(B, T, C)
            y = F.linear(y, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
            x = F.layer_norm(x + y, (C,), w[p + "attention.output.LayerNorm.weight"],
                             w[p + "attention.output.LayerNorm.bias"], self.eps)
            h = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            h = F.linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = F.layer_norm(x + h, (C,), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
                             self.eps)
        return x


def mean_pool(h, mask):
    m = mask[:, :, None].float()
    return (h * m).sum(1) / m.sum(1).clamp(min=1e-9)


def load_model(d):
    cfg = json.load(open(os.path.join(d, "config.json")))
    return Bert(cfg, load_st(os.path.join(d, "model.safetensors")))


def check(fixdir):
    m = load_model(os.path.join(fixdir, "tiny-bert"))
    ex = load_st(os.path.join(fixdir, "tiny-bert", "expected.safetensors"))
    with torch.inference_mode():
        h = m(ex["input_ids"], ex["token_type_ids"], ex["attention_mask"])
        d1 = (h - ex["last_hidden_state"]).abs().max().item()
        d2 = (mean_pool(h, ex["attention_mask"]) - ex["mean_pooled"]).abs().max().item()
    print("max |diff| last_hidden_state %.2e, mean_pooled %.2e" % (d1, d2))
    return 0 if d1 < 1e-4 and d2 < 1e-4 else 1


def run(d, T, B, secs):
    m = load_model(d)
    V = m.w["embeddings.word_embeddings.weight"].shape[0]
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, V, (B, T), generator=g)
    ids[:, 0], ids[:, -1] = 2, 3
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        mean_pool(m(ids, types, mask), mask)
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            mean_pool(m(ids, types, mask), mask)
            n += 1
            t = time.perf_counter() - t0
            if t >= secs:
                break
        cpu = time.process_time() - c0
    # sent/s and sentences per CPU-second (like encoder_bench run)
    print("%.2f %.2f" % (n * B / t, n * B / cpu))
    return 0


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
    sys.exit(__doc__)
