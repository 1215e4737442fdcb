// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node, CPU, 1 thread) on inputs from a
// JSON file and writes its outputs as JSON (tests/test_onnx.cpp).
// usage: node ort_run.js MODEL.onnx IN.json OUT.json
//   IN.json:  {"input name": {"dims": [...], "dtype": "float32"|"int32"|"int64", "data": [...]}}
//   OUT.json: [{"name": ..., "dims": [...], "data": [...]}, ...] in the model's output order
const fs = require('fs');
const ort = require('onnxruntime-node');
(async () => {
  const [model, inPath, outPath] = process.argv.slice(2);
  const s = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential'});
  const inputs = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) {
    const data = t.dtype === 'int64' ? BigInt64Array.from(t.data.map(v => BigInt(Math.round(v))))
               : t.dtype === 'int32' ? Int32Array.from(t.data)
               : Float32Array.from(t.data);
    feeds[name] = new ort.Tensor(t.dtype, data, t.dims);
  }
  const r = await s.run(feeds);
  const out = s.outputNames.map(n => ({name: n, dims: r[n].dims.map(Number), data: Array.from(r[n].data, Number)}));
  fs.writeFileSync(outPath, JSON.stringify(out));
})().catch(e => { console.error(e.message); process.exit(1); });
