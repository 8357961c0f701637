#!/usr/bin/env node
// ONNX Runtime side of the encoder benchmark (tools/bench/encoder_bench.sh):
// the benchmark's BERT exported to ONNX (encoder_bench.py export: opset 14,
// mean pooling in the graph), run by the npm package onnxruntime-node with
// graph optimisation level "all" and INTRA intra-op threads.
//
//   encoder_ort.js run MODEL.onnx T B SECONDS INTRA
//       B random sentences of T tokens per run; prints "sent/s sent/CPU-s"
//   encoder_ort.js workload MODEL.onnx IDS B SECONDS INTRA sorted|input [OUT]
//       every line of IDS (token ids, from encoder_bench tokenize) in
//       batches of B padded to the batch's longest, either in input order or
//       sorted by length (as sentence-transformers' encode does); prints
//       "texts/s tokens padded_tokens texts/CPU-s"; OUT gets the embeddings
//       (float32, text order)
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function session(path, intra) {
  return ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all', intraOpNumThreads: intra, interOpNumThreads: 1,
    executionMode: 'sequential',
  });
}

function feeds(rows, T) {
  const B = rows.length, n = B * T;
  const ids = new BigInt64Array(n), types = new BigInt64Array(n), mask = new BigInt64Array(n);
  rows.forEach((r, b) => r.forEach((id, t) => { ids[b * T + t] = BigInt(id); mask[b * T + t] = 1n; }));
  const dims = [B, T];
  return {input_ids: new ort.Tensor('int64', ids, dims), token_type_ids: new ort.Tensor('int64', types, dims),
          attention_mask: new ort.Tensor('int64', mask, dims)};
}

// Runs warm() once, then fn until SECONDS passed (at least once); returns
// [runs, wall seconds, CPU seconds].
async function timed(secs, fn, warm) {
  await warm();
  const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
  let k = 0, t;
  do { await fn(); k++; t = Number(process.hrtime.bigint() - t0) / 1e9; } while (t < secs);
  const c = process.cpuUsage(c0);
  return [k, t, (c.user + c.system) / 1e6];
}

async function run(model, T, B, secs, intra) {
  const s = await session(model, intra);
  let r = 12345;
  const rows = [];
  for (let b = 0; b < B; b++) {
    const row = [2];
    for (let t = 1; t < T - 1; t++) { r = (r * 1103515245 + 12345) % 2147483648; row.push(5 + r % 30000); }
    row.push(3);
    rows.push(row);
  }
  const f = feeds(rows, T);
  const [k, t, cpu] = await timed(secs, () => s.run(f), () => s.run(f));
  console.log((k * B / t).toFixed(2), (k * B / cpu).toFixed(2));
}

async function workload(model, idsPath, B, secs, intra, order, out) {
  const s = await session(model, intra);
  const seqs = fs.readFileSync(idsPath, 'utf8').split('\n').filter(l => l.length).map(l => l.split(' ').map(Number));
  const idx = seqs.map((_, i) => i);
  if (order === 'sorted') idx.sort((a, b) => seqs[b].length - seqs[a].length || a - b);
  const batches = [];
  let tokens = 0, padded = 0;
  for (let i = 0; i < idx.length; i += B) {
    const sel = idx.slice(i, i + B), T = Math.max(...sel.map(j => seqs[j].length));
    sel.forEach(j => { tokens += seqs[j].length; });
    padded += sel.length * T;
    batches.push([sel, feeds(sel.map(j => seqs[j]), T)]);
  }
  let C = 0, emb = null;
  const all = async () => {
    for (const [sel, f] of batches) {
      const y = (await s.run(f)).sentence_embedding;
      if (!emb) { C = y.dims[1]; emb = new Float32Array(seqs.length * C); }
      sel.forEach((j, b) => emb.set(y.data.subarray(b * C, (b + 1) * C), j * C));
    }
  };
  const [k, t, cpu] = await timed(secs, all, () => s.run(batches[0][1]));   // warm-up: one batch
  console.log((k * seqs.length / t).toFixed(2), tokens, padded, (k * seqs.length / cpu).toFixed(2));
  if (out) fs.writeFileSync(out, Buffer.from(emb.buffer));
}

const a = process.argv.slice(2);
const main = a[0] === 'run' && a.length === 6 ? run(a[1], +a[2], +a[3], +a[4], +a[5])
  : a[0] === 'workload' && (a.length === 7 || a.length === 8) ? workload(a[1], a[2], +a[3], +a[4], +a[5], a[6], a[7])
  : Promise.reject(new Error('usage: see the head of encoder_ort.js'));
main.catch(e => { console.error(e.message); process.exit(1); });
