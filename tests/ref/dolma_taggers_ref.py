#!/usr/bin/env python3
"""dolma_taggers_ref.py — a plain-Python reference for olmo's Dolma taggers, written from the behaviour described
in ../shared/spec/dolma.md (§2) with Python's own str / re semantics, which are what Dolma's taggers run on:
str.split(), str.isalpha(), str.lower(), re with Unicode \\s and \\d, code-point offsets, round(score, 5) and
float repr. It tags a documents file and prints Dolma attribute lines, so a test can compare olmo's output byte
for byte.

    dolma_taggers_ref.py DOCS.jsonl[.gz] EXPERIMENT TAGGER[,TAGGER...] > attributes.jsonl

Covers the taggers that need no external model: gopher_v1, c4_v1, c4_v2, pii_regex_v1, pii_regex_v2,
pii_regex_with_counts_v2, pii_regex_with_counts_fast_v2, the length and whitespace taggers, repetitions_v1 and
paragraph_repetitions_v1. The C4 word list is read from $NAUGHTY_WORDS (Dolma's naughty_words_en.txt).
"""
import gzip
import json
import os
import re
import statistics
import sys
from collections import Counter

import regex  # the `regex` module, as Dolma's whitespace tokenizer uses it


def paragraphs(text, drop_empty=True):
    """(start, end) of each '\\n'-terminated piece (the last may lack '\\n'); whitespace-only ones dropped."""
    out, pos = [], 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        if not drop_empty or text[pos:end].strip():
            out.append((pos, end))
        pos = end
    return out


# ---------------------------------------------------------------- gopher_v1
REQUIRED = {"the", "be", "to", "of", "and", "that", "have", "with"}


def gopher(text):
    n = len(text)
    spans = []
    words = text.split() if n else []
    chars = sum(len(w) for w in words)
    denom = max(chars, 1)
    if n:
        for k in range(2, 11):
            grams = [tuple(words[i:i + k]) for i in range(len(words) - k + 1)]
            if not grams:
                continue
            counts = Counter(grams)
            if k <= 4:
                gram, c = counts.most_common(1)[0]
                value = c * sum(len(w) for w in gram) / denom
                spans.append((0, n, f"fraction_of_characters_in_most_common_{k}grams", value))
            else:
                total = sum(c * sum(len(w) for w in g) for g, c in counts.items())
                dup = sum(c * sum(len(w) for w in g) for g, c in counts.items() if c > 1)
                spans.append((0, n, f"fraction_of_characters_in_duplicate_{k}grams", dup / max(total, 1)))
    stats = dict(word_count=0, median_word_length=0.0, symbol_to_word_ratio=0.0,
                 fraction_of_words_with_alpha_character=0.0, required_word_count=0,
                 fraction_of_lines_starting_with_bullet_point=0.0, fraction_of_lines_ending_with_ellipsis=0.0,
                 fraction_of_duplicate_lines=0.0, fraction_of_characters_in_duplicate_lines=0.0)
    if n:
        wc = len(words)
        stats["word_count"] = wc
        stats["median_word_length"] = float(statistics.median([len(w) for w in words])) if words else 0.0
        stats["symbol_to_word_ratio"] = sum(1 for w in words if "#" in w or "\u2026" in w) / max(wc, 1)
        stats["fraction_of_words_with_alpha_character"] = sum(
            1 for w in words if any(ch.isalpha() for ch in w)) / max(wc, 1)
        stats["required_word_count"] = sum(1 for w in words if w in REQUIRED)
        lines = text.split("\n")
        nl = len(lines)
        stats["fraction_of_lines_starting_with_bullet_point"] = sum(
            1 for l in lines if l.startswith("*") or l.startswith("-")) / nl
        stats["fraction_of_lines_ending_with_ellipsis"] = sum(1 for l in lines if l.endswith("\u2026")) / nl
        lc = Counter(lines)
        stats["fraction_of_duplicate_lines"] = sum(c for c in lc.values() if c > 1) / nl
        stats["fraction_of_characters_in_duplicate_lines"] = sum(
            len(l) * c for l, c in lc.items() if c > 1) / denom
    spans.append((0, n, "character_count", n))
    for k in ["word_count", "median_word_length", "symbol_to_word_ratio", "fraction_of_words_with_alpha_character",
              "required_word_count", "fraction_of_lines_starting_with_bullet_point",
              "fraction_of_lines_ending_with_ellipsis", "fraction_of_duplicate_lines",
              "fraction_of_characters_in_duplicate_lines"]:
        spans.append((0, n, k, stats[k]))
    return spans


# ---------------------------------------------------------------- c4_v1 / c4_v2
def load_words():
    lines = open(os.environ["NAUGHTY_WORDS"], encoding="utf-8").read().splitlines()
    return {w for w in lines if " " not in w}, {w for w in lines if " " in w}


BAD_WORDS, BAD_PHRASES = (set(), set())
END_PUNCT = (".", "?", "!", '"')


def naughty(low):
    return any(w in BAD_WORDS for w in low.split()) or any(p in low for p in BAD_PHRASES)


def c4(text, v2):
    n = len(text)
    low = text.lower()
    lines = text.split("\n")
    marks = []   # (start, end, no_punct, few)
    pos = 0
    for i, line in enumerate(lines):
        end = pos + len(line) + (1 if i + 1 < len(lines) else 0)
        s = line.lower().strip()
        marks.append((pos, end, not s.endswith(END_PUNCT), len(s.split()) < 3))
        pos = end
    flags = {"has_naughty_word": naughty(low),
             "has_javascript": ("javascript" in low) if v2 else ("javascript" in low.split()),
             "has_lorem_ipsum": "lorem ipsum" in low, "has_curly_brace": "{" in low}
    spans = []
    if v2:
        for k in ["has_curly_brace", "has_lorem_ipsum", "has_javascript", "has_naughty_word"]:
            if flags[k]:
                spans.append((0, n, k, 1.0))
        for s, e, p, f in marks:
            if p:
                spans.append((s, e, "lines_with_no_ending_punctuation", 1.0))
            if f:
                spans.append((s, e, "lines_with_too_few_words", 1.0))
    else:
        spans += [(s, e, "lines_with_no_ending_punctuation", 1.0) for s, e, p, f in marks if p]
        spans += [(s, e, "lines_with_too_few_words", 1.0) for s, e, p, f in marks if f]
        for k in ["has_naughty_word", "has_javascript", "has_lorem_ipsum", "has_curly_brace"]:
            if flags[k]:
                spans.append((0, n, k, 1.0))
    spans.append((0, n, "line_count", len(lines)))
    return spans


# ---------------------------------------------------------------- PII
EMAIL = re.compile(r"[.\s@,?!;:)(]*([^\s@]+@[^\s@,?!;:)(]+?)[.\s@,?!;:)(]?[\s\n\r]")
PHONE = re.compile(r"\s+\(?(\d{3})\)?[-\. ]*(\d{3})[-. ]?(\d{4})")
IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)")
TYPES = [("EMAIL_ADDRESS", EMAIL), ("PHONE_NUMBER", PHONE), ("IP_ADDRESS", IPV4)]


def pii_whole(text, variant):
    spans = []
    for name, rx in TYPES:
        for m in rx.finditer(text):
            s, e = m.span()
            if name == "EMAIL_ADDRESS":
                parts = text[s:e].split("@")
                if parts[0].strip() == "(" or "." not in parts[1]:
                    continue
            else:
                ctx = text[max(0, s - 100):e + 100]
                if "isbn" in ctx or "doi" in ctx or "#" in ctx:
                    continue
            spans.append((s, e, name, 1.0))
    nw = len(text.split())
    doc = len(spans) / nw if nw else -1.0
    out = spans + [(0, len(text), "doc", doc)]
    if variant == 3:
        out.append((0, len(text), "doc_count", len(spans)))
    return out


def pii_fast(text):
    spans = []
    paras = paragraphs(text) if text.count("?") <= 10000 else []
    for ps, pe in paras:
        p = text[ps:pe]
        if "@" in p:
            for m in EMAIL.finditer(p):
                a, d = m.group(1).split("@", 1)
                if a.strip() == "(" or "." not in d:
                    continue
                spans.append((ps + m.start(), ps + m.end(), "EMAIL_ADDRESS", 1.0))
        if re.search(r"\d", p):
            spans += [(ps + m.start(), ps + m.end(), "PHONE_NUMBER", 1.0) for m in PHONE.finditer(p)]
        if re.search(r"\.[^\s]", p):
            spans += [(ps + m.start(), ps + m.end(), "IP_ADDRESS", 1.0) for m in IPV4.finditer(p)]
    n = len(text)
    spans.append((0, n, "doc_count", float(len(spans))))
    spans.append((0, n, "doc_frac", sum(e - s for s, e, _, _ in spans) / n if n else -1.0))
    return spans


# ---------------------------------------------------------------- lengths
WS_TOKEN = regex.compile(r"\w+|[^\w\s]+")


def ws_len(t):
    return len(WS_TOKEN.split(t))


def lengths(text, name):
    n = len(text)
    if name == "char_length_v1":
        return [(0, n, "length", n)]
    if name == "char_length_strip_ws_v1":
        return [(0, n, "length_no_ws", len(text.strip()))]
    if name == "bytes_length_v1":
        return [(0, n, "bytes", len(text.encode("utf-8")))]
    if name == "doc_count_v1":
        return [(0, n, "docs", 1)]
    if name == "whitespace_tokenizer_v1":
        return [(0, n, "length", ws_len(text))]
    ps = paragraphs(text)
    if name == "char_length_with_paragraphs_v1":
        return [(s, e, "paragraph", e - s) for s, e in ps] + [(0, n, "document", n)]
    spans = [(s, e, "paragraph", ws_len(text[s:e])) for s, e in ps]
    return spans + [(0, n, "document", sum(x[3] for x in spans))]


# ---------------------------------------------------------------- repetitions
REP = re.compile(r"(.+?)(\s?\1){3,}")


def repetitions(text, per_paragraph):
    spans = []
    pieces = paragraphs(text, drop_empty=False) if per_paragraph else [(0, len(text))]
    for ps, pe in pieces:
        for m in REP.finditer(text[ps:pe]):
            spans.append((ps + m.start(), ps + m.end(), "repetition", m.group(0).count(m.group(1))))
    n = len(text)
    stats = [(0, n, "doc_max_score_repetition", max((s[3] for s in spans), default=0.0)),
             (0, n, "doc_max_length_repetition", max((e - s for s, e, _, _ in spans), default=0)),
             (0, n, "doc_frac_repetition", sum(e - s for s, e, _, _ in spans) / n if spans else 0.0)]
    return spans + stats


TAGGERS = {
    "gopher_v1": gopher,
    "c4_v1": lambda t: c4(t, False),
    "c4_v2": lambda t: c4(t, True),
    "pii_regex_v1": lambda t: pii_whole(t, 1),
    "pii_regex_v2": lambda t: pii_whole(t, 2),
    "pii_regex_with_counts_v2": lambda t: pii_whole(t, 3),
    "pii_regex_with_counts_fast_v2": pii_fast,
    "repetitions_v1": lambda t: repetitions(t, False),
    "paragraph_repetitions_v1": lambda t: repetitions(t, True),
}
for _n in ["char_length_v1", "char_length_strip_ws_v1", "bytes_length_v1", "doc_count_v1",
           "char_length_with_paragraphs_v1", "whitespace_tokenizer_v1", "whitespace_tokenizer_with_paragraphs_v1"]:
    TAGGERS[_n] = (lambda name: (lambda t: lengths(t, name)))(_n)


def main():
    global BAD_WORDS, BAD_PHRASES
    path, exp, names = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    if any(n.startswith("c4") for n in names):
        BAD_WORDS, BAD_PHRASES = load_words()
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            attrs = {}
            for name in names:
                for s, e, typ, score in TAGGERS[name](doc["text"]):
                    attrs.setdefault(f"{exp}__{name}__{typ}", []).append([s, e, round(float(score), 5)])
            out = {"id": doc["id"], "attributes": attrs, "source": doc.get("source") or ""}
            sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
