# data_mix_same.py A B — exit 0 when two JSONL files (plain or .gz) hold the same documents line for line as JSON
# values (key order and 1 vs 1.0 do not matter), metadata.provenance ignored (Dolma's older expected fixtures
# predate it). Used by tests/data_mix*.test.sh; prints the first differing lines to stderr.
import gzip
import json
import sys


def load(path):
    out = []
    with (gzip.open if path.endswith(".gz") else open)(path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if isinstance(d.get("metadata"), dict):
                d["metadata"].pop("provenance", None)
                if not d["metadata"]:  # discard_fields removed metadata; only the provenance brought it back
                    del d["metadata"]
            out.append(d)
    return out


a, b = load(sys.argv[1]), load(sys.argv[2])
bad = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
if len(a) != len(b) or bad:
    print(f"{len(a)} vs {len(b)} lines; differing lines {bad[:5]}", file=sys.stderr)
    for i in bad[:2]:
        for k in sorted(set(a[i]) | set(b[i])):
            if a[i].get(k) != b[i].get(k):
                print(f"  line {i + 1} key {k}: {str(a[i].get(k))[:200]} != {str(b[i].get(k))[:200]}", file=sys.stderr)
    sys.exit(1)
