// peer_compare.mjs — do two engines compute the same model? Compares logits files written by build/bench/peer_logits
// (olmo.c), bench/llama_peer.mjs (llama.cpp) or taken from a PyTorch reference fixture (tests/fixtures/model/*/
// ref.safetensors, tests/ref/make_model_fixtures.py). Used by bench/llama_cpp_peer.sh and tests/llama_peer.test.sh.
//
//   node bench/peer_compare.mjs ref-tokens REF.safetensors        prints "a,b,c,... P" (token ids, prefill length)
//   node bench/peer_compare.mjs ref-logits REF.safetensors OUT.f32 prefill_logits then decode_logits, raw float32
//   node bench/peer_compare.mjs compare A.f32 B.f32 --vocab V [--names A,B] [--tol T]
//       per row (token position): max |A - B|, the largest |B|, argmax of each. A row agrees when the argmaxes are
//       equal or within that row's max |A - B| of each other in B (a near-tie the error can flip). Exit 0 when every
//       row agrees and max |A - B| <= T x max |B| over all rows (T default 0.05), else 1.
import fs from "node:fs";

function readSafetensors(file) {
    const b = fs.readFileSync(file);
    const n = Number(b.readBigUInt64LE(0));
    const hdr = JSON.parse(b.subarray(8, 8 + n).toString("utf8"));
    const get = (name, ctor) => {
        const t = hdr[name];
        if (!t) throw new Error(`${file}: no tensor ${name}`);
        const [s, e] = t.data_offsets;
        const bytes = b.subarray(8 + n + s, 8 + n + e);
        return {shape: t.shape, data: new ctor(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))};
    };
    return get;
}

function readF32(file) {
    const b = fs.readFileSync(file);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function argmax(a, o, V) {
    let k = 0;
    for (let i = 1; i < V; i++) if (a[o + i] > a[o + k]) k = i;
    return k;
}

function compare(A, B, V, names, tol) {
    if (A.length !== B.length || A.length % V) throw new Error(`sizes differ: ${A.length} vs ${B.length} floats (vocab ${V})`);
    const rows = A.length / V;
    let worst = 0, scale = 0, agree = 0;
    console.log(`row  max|${names[0]}-${names[1]}|  max|${names[1]}|  argmax ${names[0]}  argmax ${names[1]}`);
    for (let r = 0; r < rows; r++) {
        const o = r * V;
        let d = 0, s = 0;
        for (let i = 0; i < V; i++) { d = Math.max(d, Math.abs(A[o + i] - B[o + i])); s = Math.max(s, Math.abs(B[o + i])); }
        const ka = argmax(A, o, V), kb = argmax(B, o, V);
        const ok = ka === kb || B[o + kb] - B[o + ka] <= d;
        agree += ok;
        worst = Math.max(worst, d);
        scale = Math.max(scale, s);
        console.log(`${String(r).padStart(3)}  ${d.toExponential(3).padStart(12)}  ${s.toFixed(4).padStart(9)}  ` +
                    `${String(ka).padStart(8)}  ${String(kb).padStart(8)}${ok ? "" : "  DISAGREE"}`);
    }
    const rel = worst / (scale || 1);
    const pass = agree === rows && rel <= tol;
    console.log(`agreement ${names[0]} vs ${names[1]}: ${agree}/${rows} rows same next token (ties within the error ` +
                `allowed); max |diff| ${worst.toExponential(3)} = ${(100 * rel).toFixed(3)} % of max |logit| ` +
                `(limit ${(100 * tol).toFixed(1)} %): ${pass ? "OK" : "MISMATCH"}`);
    return pass;
}

const [mode, ...a] = process.argv.slice(2);
try {
    if (mode === "ref-tokens" && a.length === 1) {
        const get = readSafetensors(a[0]);
        const tok = get("tokens", Int32Array), pre = get("prefill_logits", Float32Array);
        console.log(`${Array.from(tok.data).join(",")} ${pre.shape[0]}`);
    } else if (mode === "ref-logits" && a.length === 2) {
        const get = readSafetensors(a[0]);
        const p = get("prefill_logits", Float32Array).data, d = get("decode_logits", Float32Array).data;
        const out = new Float32Array(p.length + d.length);
        out.set(p);
        out.set(d, p.length);
        fs.writeFileSync(a[1], Buffer.from(out.buffer));
    } else if (mode === "compare" && a.length >= 2) {
        let V = 0, names = ["A", "B"], tol = 0.05;
        for (let i = 2; i < a.length; i += 2) {
            if (a[i] === "--vocab") V = +a[i + 1];
            else if (a[i] === "--names") names = a[i + 1].split(",");
            else if (a[i] === "--tol") tol = +a[i + 1];
            else throw new Error(`unknown option ${a[i]}`);
        }
        if (!(V > 0)) throw new Error("compare needs --vocab V");
        process.exit(compare(readF32(a[0]), readF32(a[1]), V, names, tol) ? 0 : 1);
    } else {
        console.error("usage: peer_compare.mjs ref-tokens REF | ref-logits REF OUT.f32 | compare A.f32 B.f32 --vocab V [--names A,B] [--tol T]");
        process.exit(2);
    }
} catch (err) {
    console.error(`peer_compare: ${err.message}`);
    process.exit(2);
}
