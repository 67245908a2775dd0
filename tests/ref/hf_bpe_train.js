#!/usr/bin/env node
// hf_bpe_train.js -- trains Hugging Face `tokenizers`' BpeTrainer (npm tokenizers@0.23.2, Rust core) with the
// pre-tokenizer olmo's trainer uses, as a reference for tests/tokenizer_train.test.sh and bench_bpe_train.
//
//   node hf_bpe_train.js OUT.json FILE...          train, write HF's tokenizer.json, print seconds on stderr
//   node hf_bpe_train.js --compare HF.json OURS.json  compare the two merge lists: prints "same N merges" (exit 0)
//                                                    or the first difference (exit 1)
//
// The node binding exposes only the default trainer (vocab_size 30000, min_frequency 0, no special tokens, no
// initial alphabet), so comparisons use corpora small enough to be merged to completion before 30000 ids: then
// the merge order depends only on the counts and the tie rule, and olmo's list must be identical.
// The package is resolved from $TOK_DIR (a folder where `npm install tokenizers@0.23.2` was run).
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const args = process.argv.slice(2);
if (args[0] === '--compare') {
  const merges = (p) => JSON.parse(fs.readFileSync(p, 'utf8')).model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const a = merges(args[1]), b = merges(args[2]);
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      console.log(`merge ${i} differs: HF ${JSON.stringify(a[i])}, olmo ${JSON.stringify(b[i])}`);
      process.exit(1);
    }
  }
  if (a.length !== b.length) {
    console.log(`same first ${n} merges, but HF has ${a.length} and olmo ${b.length}`);
    process.exit(1);
  }
  console.log(`same ${n} merges`);
  process.exit(0);
}
if (args.length < 2) {
  process.stderr.write('usage: node hf_bpe_train.js OUT.json FILE... | --compare HF.json OURS.json\n');
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(process.env.TOK_DIR || process.cwd()), 'package.json'));
const { Tokenizer } = req('tokenizers');
const cl100k = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" +
  '\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
const start = {
  version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: cl100k }, behavior: 'Removed', invert: true },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
  post_processor: null,
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
};
const tok = Tokenizer.fromString(JSON.stringify(start));
const t0 = process.hrtime.bigint();
tok.train(args.slice(1));
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
tok.save(args[0], false);
process.stderr.write(`hf_bpe_train: ${secs.toFixed(3)} s\n`);
console.log(secs.toFixed(3));
