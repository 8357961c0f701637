#!/usr/bin/env python3
"""Plain PyTorch BERT (no transformers) for the encoder benchmark.

  encoder_bench.py check FIXTURE_DIR      compare with tiny-bert/expected.safetensors
  encoder_bench.py run DIR T B SECONDS    prints "sent/s sent/CPU-s" like encoder_bench run
  encoder_bench.py export DIR             DIR/model.onnx: the same model with mean pooling
                                          in the graph (torch.onnx.export, opset 14; inputs
                                          input_ids, token_type_ids, attention_mask (B,T)
                                          int64; output sentence_embedding (B,C))
  encoder_bench.py workload DIR IDS B SECONDS sorted|input [OUT]
                                          every line of IDS (token ids) in batches of B
                                          padded to the batch's longest, sorted by length
                                          (as sentence-transformers) or in input order;
                                          prints "texts/s tokens padded_tokens texts/CPU-s"
  encoder_bench.py compare A B C          max |difference| of two float32 files of
                                          C-wide rows, and the row count

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


class Pooled(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids, types, mask):
        return mean_pool(self.m(ids, types, mask), mask)


def export(d):
    m = Pooled(load_model(d))
    ids = torch.full((2, 8), 7, dtype=torch.int64)
    dyn = {0: "batch", 1: "tokens"}
    with torch.inference_mode():
        torch.onnx.export(m, (ids, torch.zeros_like(ids), torch.ones_like(ids)), os.path.join(d, "model.onnx"),
                          opset_version=14, input_names=["input_ids", "token_type_ids", "attention_mask"],
                          output_names=["sentence_embedding"],
                          dynamic_axes={"input_ids": dyn, "token_type_ids": dyn, "attention_mask": dyn,
                                        "sentence_embedding": {0: "batch"}})
    return 0


def workload(d, ids_path, B, secs, order, out=None):
    m = load_model(d)
    seqs = [[int(x) for x in l.split()] for l in open(ids_path) if l.strip()]
    idx = list(range(len(seqs)))
    if order == "sorted":
        idx.sort(key=lambda i: (-len(seqs[i]), i))
    batches, tokens, padded = [], 0, 0
    for i in range(0, len(idx), B):
        sel = idx[i:i + B]
        T = max(len(seqs[j]) for j in sel)
        ids = torch.zeros((len(sel), T), dtype=torch.int64)
        mask = torch.zeros_like(ids)
        for b, j in enumerate(sel):
            ids[b, :len(seqs[j])] = torch.tensor(seqs[j])
            mask[b, :len(seqs[j])] = 1
            tokens += len(seqs[j])
        padded += len(sel) * T
        batches.append((sel, ids, torch.zeros_like(ids), mask))
    emb = None
    with torch.inference_mode():
        def once():
            nonlocal emb
            for sel, ids, types, mask in batches:
                y = mean_pool(m(ids, types, mask), mask)
                if emb is None:
                    emb = torch.zeros((len(seqs), y.shape[1]))
                emb[sel] = y
        sel, ids, types, mask = batches[0]   # warm-up: one batch
        mean_pool(m(ids, types, mask), mask)
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            once()
            n += 1
            t = time.perf_counter() - t0
            if t >= secs:
                break
        cpu = time.process_time() - c0
    print("%.2f %d %d %.2f" % (n * len(seqs) / t, tokens, padded, n * len(seqs) / cpu))
    if out:
        emb.numpy().astype(np.float32).tofile(out)
    return 0


def compare(a, b, C):
    x, y = np.fromfile(a, dtype=np.float32), np.fromfile(b, dtype=np.float32)
    if x.shape != y.shape or x.size % C:
        print("shapes differ: %d vs %d floats" % (x.size, y.size))
        return 1
    print("%.2e %d" % (np.abs(x - y).max(), x.size // C))
    return 0


if __name__ == "__main__":
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 6 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])))
    if len(sys.argv) == 3 and sys.argv[1] == "export":
        sys.exit(export(sys.argv[2]))
    if len(sys.argv) in (7, 8) and sys.argv[1] == "workload":
        sys.exit(workload(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
                          sys.argv[7] if len(sys.argv) == 8 else None))
    if len(sys.argv) == 5 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    sys.exit(__doc__)
