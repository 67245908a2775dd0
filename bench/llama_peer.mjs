// llama_peer.mjs — runs llama.cpp (through node-llama-cpp's prebuilt libllama, CPU only) on a GGUF written by
// build/bench/peer_gguf, for bench/llama_cpp_peer.sh and tests/llama_peer.test.sh (docs/bench-peers.md).
//
//   node bench/llama_peer.mjs bench  GGUF [--threads N] [--prompt P] [--decode N] [--reps R] [--vocab V]
//                                   [--flash-attn on|off|auto]   (default off; docs/bench-peers.md)
//       one JSON line: prefill tok/s (best of R passes of a P-token prompt in one batch from an empty cache, as
//       llama-bench pp), decode tok/s (N tokens from an empty cache, one llama_decode each with the last token's
//       logits computed and sampled greedily, mean over the N tokens, as llama-bench tg), the same decode as
//       llama.cpp's own performance counters time it (without the binding), load seconds.
//   node bench/llama_peer.mjs logits GGUF OUT.f32 --tokens a,b,c,... --prefill P [--threads N]
//       feeds tokens[0..P) in one batch (logits at every position), then each later token alone; writes the
//       logits as raw float32 [n_tokens][vocab] (the layout build/bench/peer_logits writes for olmo.c).
//   node bench/llama_peer.mjs tokenize GGUF FILE
//       llama.cpp's token ids for the text of FILE with the GGUF's tokenizer (olmo export gguf), one JSON array.
//
// node-llama-cpp is imported from $OLMO_PEER_DIR/node_modules (default bench/peers), where llama_cpp_peer.sh
// installs it; nothing here downloads or builds anything (getLlama with build "never").
import fs from "node:fs";
import path from "node:path";
import url from "node:url";

const here = path.dirname(url.fileURLToPath(import.meta.url));
const peerDir = process.env.OLMO_PEER_DIR || path.join(here, "peers");
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
    console.error(`llama_peer: node-llama-cpp is not installed in ${peerDir} (run bench/llama_cpp_peer.sh --install-only)`);
    process.exit(3);
}
const {getLlama, LlamaLogLevel} = await import(url.pathToFileURL(entry).href);

function opts(argv) {
    const o = {threads: 2, prompt: 512, decode: 32, reps: 2, prefill: 0, tokens: null, vocab: 50000, fa: false};
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i], v = argv[i + 1];
        if (k === "--threads") o.threads = +v;
        else if (k === "--prompt") o.prompt = +v;
        else if (k === "--decode") o.decode = +v;
        else if (k === "--reps") o.reps = +v;
        else if (k === "--vocab") o.vocab = +v;
        else if (k === "--flash-attn") o.fa = v === "on" ? true : v === "off" ? false : "auto";
        else if (k === "--prefill") o.prefill = +v;
        else if (k === "--tokens") o.tokens = v.split(",").map(Number);
        else throw new Error(`llama_peer: unknown option ${k}`);
        i++;
    }
    return o;
}

// llama.cpp's log lines (info and up), kept to read its own timings (llama_perf_context_print)
const logs = [];
let cpuVariant = null;

async function open(gguf, threads, contextSize, batchSize, fa = false) {
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.info, maxThreads: threads,
                                  logger: (level, msg) => {
                                      logs.push(msg);
                                      if (level === "error" || level === "fatal") process.stderr.write(msg);
                                  }});
    const t = performance.now();
    const model = await llama.loadModel({modelPath: gguf, gpuLayers: 0, useMmap: true});
    // ggml loads the best-scoring CPU variant of those the package ships (libggml-cpu-<arch>.so) for this CPU;
    // the one mapped into this process is the one in use
    const variant = fs.readFileSync("/proc/self/maps", "utf8").match(/libggml-cpu-([A-Za-z0-9_]+)\.so/);
    cpuVariant = variant ? variant[1] : "?";
    const context = await model.createContext({contextSize, batchSize, threads: {ideal: threads, min: threads},
                                               sequences: 1, flashAttention: fa, performanceTracking: true});
    // loadModel maps the file; the first evaluation faults the pages in, as olmo.c's warm-up token does
    return {llama, model, context, seq: context.getSequence(), loadS: (performance.now() - t) / 1e3};
}

// Deterministic ids below min(50000, vocab) (the rule bench_inference uses for its prompt).
const ids = (n, vocab) => Array.from({length: n}, (_, i) => (i * 7919) % Math.min(50000, vocab));

async function bench(gguf, o) {
    const ctxSize = Math.max(o.prompt, o.decode) + 16;
    const e = await open(gguf, o.threads, ctxSize, Math.max(o.prompt, 1), o.fa);
    const toks = ids(Math.max(o.prompt, o.decode), o.vocab);
    const last = (n) => [...toks.slice(0, n - 1), [toks[n - 1], {generateNext: {token: true}}]];
    // warm-up: pages, threads, graph buffers, and the sampling path's first use (which stalls for a second or
    // more on a fresh model: measured on the tiny shape, 59 ms/token over the first 30 tokens, then 1 ms)
    await e.seq.controlledEvaluate(last(Math.min(4, o.prompt)));
    await e.seq.clearHistory();
    let w = 0;
    for await (const tok of e.seq.evaluate([toks[0]], {temperature: 0})) { void tok; if (++w >= 2) break; }
    await e.seq.clearHistory();
    let bestPre = Infinity;
    for (let r = 0; r < o.reps; r++) {   // prefill: the whole prompt in one batch, logits for the last token
        const t = performance.now();
        await e.seq.controlledEvaluate(last(o.prompt));
        bestPre = Math.min(bestPre, (performance.now() - t) / 1e3);
        await e.seq.clearHistory();
    }
    // decode: one token per llama_decode from an empty cache, its logits sampled greedily, n tokens
    let n = 0, t = performance.now();
    for await (const tok of e.seq.evaluate([toks[0]], {temperature: 0})) {
        void tok;
        if (++n >= o.decode) break;
    }
    const dec = (performance.now() - t) / 1e3;
    // llama.cpp's own count of the same decode (time inside its single-token llama_decode calls, as llama-bench
    // measures): the difference to the wall clock above is what the JavaScript binding adds
    logs.length = 0;
    e.context.printTimings();
    await new Promise((r) => setTimeout(r, 20));
    const m = logs.join("").match(/\beval time =\s*([0-9.]+) ms \/\s*([0-9]+) runs/);
    const internal = m && +m[2] >= o.decode ? +m[2] / (+m[1] / 1e3) : null;
    await e.seq.clearHistory();
    console.log(JSON.stringify({prefill_tps: o.reps > 0 ? o.prompt / bestPre : null, decode_tps: o.decode / dec,
                                decode_tps_llama_internal: internal,
                                load_s: e.loadS, threads: o.threads, flash_attn: o.fa, cpu_variant: cpuVariant}));
    await e.context.dispose();
    await e.model.dispose();
}

async function logits(gguf, out, o) {
    if (!o.tokens || o.prefill < 1 || o.prefill > o.tokens.length) throw new Error("llama_peer: logits needs --tokens and 1 <= --prefill <= their count");
    const e = await open(gguf, o.threads, o.tokens.length + 8, Math.max(o.prefill, 1));
    const rows = [];
    const want = {generateNext: {logits: true}};
    const pre = await e.seq.controlledEvaluate(o.tokens.slice(0, o.prefill).map((t) => [t, want]));
    for (let i = 0; i < o.prefill; i++) rows.push(pre[i].next.logits);
    for (let i = o.prefill; i < o.tokens.length; i++) {
        const r = await e.seq.controlledEvaluate([[o.tokens[i], want]]);
        rows.push(r[0].next.logits);
    }
    const V = rows[0].size;   // the full logits map: one entry per vocabulary id
    const buf = new Float32Array(rows.length * V);
    rows.forEach((m, i) => { for (const [tok, v] of m) buf[i * V + tok] = v; });
    fs.writeFileSync(out, Buffer.from(buf.buffer));
    console.log(JSON.stringify({rows: rows.length, vocab: V}));
    await e.context.dispose();
    await e.model.dispose();
}

// llama.cpp's tokenization of a text file with the GGUF's own tokenizer (no special tokens added): one JSON array
async function tokenize(gguf, file) {
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: gguf, gpuLayers: 0, useMmap: true, vocabOnly: true});
    console.log(JSON.stringify(Array.from(model.tokenize(fs.readFileSync(file, "utf8"), false))));
    await model.dispose();
}

const [mode, gguf, ...rest] = process.argv.slice(2);
try {
    if (mode === "bench" && gguf) await bench(gguf, opts(rest));
    else if (mode === "logits" && gguf && rest.length) await logits(gguf, rest[0], opts(rest.slice(1)));
    else if (mode === "tokenize" && gguf && rest.length === 1) await tokenize(gguf, rest[0]);
    else { console.error("usage: llama_peer.mjs bench GGUF [...] | logits GGUF OUT.f32 --tokens ... --prefill P | tokenize GGUF FILE"); process.exit(2); }
} catch (err) {
    console.error(`llama_peer: ${err.message}`);
    process.exit(1);
}
