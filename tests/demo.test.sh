#!/usr/bin/env bash
# demo.test.sh — `olmo demo --quick`: the main job's whole chain (corpus from Debian packages, tag, dedup, mix,
# stats, tokenizer, tokens, training with in-loop evaluators, eval ppl + tasks, samples, index + trace, report)
# runs in seconds without ../shared data, leaves every promised file behind with the contents the next step
# needs, writes commands.sh whose steps rerun alone, and refuses to empty a folder that is not its own.
# Protocol: PASS/FAIL/SKIP lines (tests/run.sh); $OLMO is the binary.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
o=$tmp/out
if ! "$OLMO" demo --quick --out "$o" >"$tmp/stdout" 2>"$tmp/stderr"; then
  echo "FAIL demo_quick_runs: exit status $?: $(tail -3 "$tmp/stderr" | tr '\n' ' ')"; exit 0
fi
echo "PASS demo_quick_runs"

# every step's output, non-empty
ok=1
for f in commands.sh report.md tokenizer.json configs/dedup.json configs/mix.json configs/train.yaml \
         curation/stats-in.json curation/stats-out.json tokens/part-0-00000.npy tokens/part-0-00000.csv.gz \
         run/latest run/metrics.jsonl eval/ppl.json eval/tasks.json eval/debian_cloze.jsonl eval/trace.json \
         samples/sample-0.json samples/sample-1.json samples/sample-2.json index/manifest.json; do
  [ -s "$o/$f" ] || { echo "FAIL demo_outputs: $f missing or empty"; ok=0; break; }
done
ls "$o"/documents/*/0000.jsonl.gz >/dev/null 2>&1 || { echo "FAIL demo_outputs: no documents/<source>/"; ok=0; }
ls "$o"/attributes/demo/*/0000.jsonl.gz >/dev/null 2>&1 || { echo "FAIL demo_outputs: no attributes/demo/"; ok=0; }
ls "$o"/mixed/*.gz >/dev/null 2>&1 || { echo "FAIL demo_outputs: no mixed/ shard"; ok=0; }
step=$(cat "$o/run/latest" 2>/dev/null)
for f in config.json model.safetensors tokenizer.json trainer_state.json; do
  [ -s "$o/run/$step/$f" ] || { echo "FAIL demo_outputs: run/$step/$f missing"; ok=0; break; }
done
[ $ok = 1 ] && echo "PASS demo_outputs"

# the contents: curation removed something and kept most; eval and tasks scored every held-out source / item;
# the in-loop evaluators wrote metrics; the samples have text; the report has each section
python3 - "$o" >"$tmp/check" 2>&1 <<'PY'
import json, sys, os
o = sys.argv[1]
bad = []
si = json.load(open(o + "/curation/stats-in.json")); so = json.load(open(o + "/curation/stats-out.json"))
if not (0 < so["documents"] < si["documents"]): bad.append("mix kept %s of %s documents" % (so["documents"], si["documents"]))
if not any(k.startswith("demo__gopher_v1__") for k in si.get("attributes", {})): bad.append("no gopher attributes in stats")
ppl = json.load(open(o + "/eval/ppl.json"))
srcs = {s["source"] for s in ppl["sources"]}
if not srcs or not all(0 < s["bits_per_byte"] < 16 for s in ppl["sources"]): bad.append("ppl sources %s" % ppl["sources"])
missing = [s for s in srcs if not os.path.exists("%s/heldout/%s.jsonl.gz" % (o, s))]
if missing: bad.append("ppl scored sources with no held-out file: %s" % missing)
t = json.load(open(o + "/eval/tasks.json"))["tasks"][0]
n_items = sum(1 for _ in open(o + "/eval/debian_cloze.jsonl"))
if t["n"] != n_items or len(t["items"]) != n_items: bad.append("task scored %s of %d items" % (t["n"], n_items))
m = [json.loads(l) for l in open(o + "/run/metrics.jsonl")]
if not any(k.startswith("eval/") and k.endswith("/bits_per_byte") for r in m for k in r): bad.append("no in-loop eval in metrics")
for i in range(3):
    s = json.load(open(o + "/samples/sample-%d.json" % i))
    if not s.get("text") or not s.get("tokens"): bad.append("sample %d empty" % i)
tr = json.load(open(o + "/eval/trace.json"))
if "spans" not in tr: bad.append("trace has no spans list")
r = open(o + "/report.md").read()
for h in ["## 1. Corpus", "## 2-5. Curation", "## 6-8. Tokenizer", "## 9. Evaluation", "## 10. Samples",
          "## 11. Where did that come from", "## Steps", "## Energy and carbon"]:
    if h not in r: bad.append("report lacks " + h)
if "nan" in r.lower().split(): bad.append("report has nan")
if bad: print("\n".join(bad))
PY
if [ -s "$tmp/check" ]; then echo "FAIL demo_contents: $(head -3 "$tmp/check" | tr '\n' ';')"; else echo "PASS demo_contents"; fi

# commands.sh holds every step as the command a user runs: its tag step reruns alone into a fresh folder
n=$(grep -c '^olmo ' "$o/commands.sh")
if [ "$n" -ge 14 ]; then echo "PASS demo_commands_listed"; else echo "FAIL demo_commands_listed: $n commands"; fi
mkdir -p "$tmp/re/documents/x"
cp "$(ls "$o"/documents/*/0000.jsonl.gz | head -1)" "$tmp/re/documents/x/0000.jsonl.gz"
line=$(grep '^olmo data tag ' "$o/commands.sh" | head -1)
line=${line//"$o"/"$tmp/re"}
if (eval "\"\$OLMO\" ${line#olmo }") >/dev/null 2>"$tmp/re.err" && [ -s "$tmp/re/attributes/demo/x/0000.jsonl.gz" ]; then
  echo "PASS demo_step_reruns_alone"
else echo "FAIL demo_step_reruns_alone: $line: $(tail -1 "$tmp/re.err")"; fi

# the checkpoint runs as it is in `olmo generate`
out=$("$OLMO" generate -m "$o/run/$step" -p "The" -n 5 -t 1 2>"$tmp/gen.err")
if [ $? = 0 ] && [ -n "$out" ]; then echo "PASS demo_checkpoint_generates"
else echo "FAIL demo_checkpoint_generates: $(tail -1 "$tmp/gen.err")"; fi

# a folder that is not an earlier demo's output is never emptied
mkdir -p "$tmp/mine" && echo keep > "$tmp/mine/notes.txt"
if "$OLMO" demo --quick --out "$tmp/mine" >/dev/null 2>"$tmp/mine.err"; then echo "FAIL demo_keeps_foreign_folder: it ran"
elif [ -f "$tmp/mine/notes.txt" ] && grep -q "not the output of an earlier" "$tmp/mine.err"; then echo "PASS demo_keeps_foreign_folder"
else echo "FAIL demo_keeps_foreign_folder: $(tail -1 "$tmp/mine.err")"; fi
