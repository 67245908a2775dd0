/* data.c — token files → fixed-length instances → the (inputs, targets) of a step's batch (see data.h). */
#include "train/data.h"
#include "train/train_config.h"
#include "base/error.h"
#include "base/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------ files */

static const char *dtype_name(int bytes) {
    switch (bytes) {
    case 1: return "uint8";
    case 2: return "uint16";
    case 4: return "uint32";
    case 8: return "uint64";
    default: return "?";
    }
}

/* A real NumPy .npy file starts with "\x93NUMPY"; OLMo's and Dolma's token files have no header at all (they are
 * written with np.memmap under a .npy name). For a real one, skip the header after checking it describes a 1-D
 * little-endian unsigned array of the configured width. Sets *skip to the header length (0 when headerless). */
static int npy_header(const struct data_file *f, int dtype_bytes, size_t *skip) {
    *skip = 0;
    const uint8_t *p = f->map.data;
    size_t n = f->map.size;
    if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0) return 0;
    size_t hlen, start;
    if (p[6] == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        start = 10;
    } else if (p[6] == 2 || p[6] == 3) {
        if (n < 12) return olmo_err("%s: truncated .npy header", f->path);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        start = 12;
    } else {
        return olmo_err("%s: .npy format version %u is not supported", f->path, p[6]);
    }
    if (start + hlen > n) return olmo_err("%s: truncated .npy header (%zu bytes declared)", f->path, hlen);
    char hdr[512];
    size_t copy = hlen < sizeof hdr - 1 ? hlen : sizeof hdr - 1;
    memcpy(hdr, p + start, copy);
    hdr[copy] = 0;
    char want[8];
    snprintf(want, sizeof want, "'<u%d'", dtype_bytes);
    char want1[8];
    snprintf(want1, sizeof want1, "'|u%d'", dtype_bytes);
    if (!strstr(hdr, want) && !(dtype_bytes == 1 && strstr(hdr, want1)))
        return olmo_err("%s: the .npy header says %s; data.memmap_dtype is %s (expected descr %s)", f->path, hdr,
                        dtype_name(dtype_bytes), want);
    if (strstr(hdr, "'fortran_order': True")) return olmo_err("%s: Fortran-ordered .npy arrays are not supported", f->path);
    /* a 1-D shape is written "(N,)" */
    const char *q = strstr(hdr, "'shape': (");
    int one_d = q != NULL;
    if (q) {
        q += 10;
        while (*q == ' ') q++;
        if (!isdigit((unsigned char)*q)) one_d = 0;
        while (isdigit((unsigned char)*q)) q++;
        while (*q == ' ') q++;
        if (*q++ != ',') one_d = 0;
        while (*q == ' ') q++;
        if (*q != ')') one_d = 0;
    }
    if (!one_d) return olmo_err("%s: expected a 1-D .npy array, header is %s", f->path, hdr);
    *skip = start + hlen;
    return 0;
}

static int open_file(struct data_file *f, const char *path, int dtype_bytes, int seq_len) {
    memset(f, 0, sizeof *f);
    if (!(f->path = olmo_strdup(path))) return -1;
    if (strstr(path, "://"))
        return olmo_err("%s: olmo.c reads local token files; download it, or point data.paths at local files "
                        "(--data.paths=[a.npy,b.npy])", path);
    if (olmo_mmap_open(&f->map, path) < 0) return olmo_err_prefix("data.paths: ");
    size_t skip;
    if (npy_header(f, dtype_bytes, &skip) < 0) return -1;
    size_t bytes = f->map.size - skip;
    if (bytes % (size_t)dtype_bytes)
        return olmo_err("%s: %zu bytes of tokens is not a whole number of %s tokens (is data.memmap_dtype right?)",
                        path, bytes, dtype_name(dtype_bytes));
    f->tokens = f->map.data ? f->map.data + skip : NULL;
    f->n_tokens = bytes / (size_t)dtype_bytes;
    f->n_instances = f->n_tokens / (uint64_t)seq_len;   /* the tail of each file is dropped (OLMo) */
    return 0;
}

void train_data_close(struct train_data *d) {
    for (size_t i = 0; i < d->n_files; i++) {
        olmo_mmap_close(&d->files[i].map);
        free(d->files[i].path);
    }
    free(d->files);
    data_order_free(&d->order);
    memset(d, 0, sizeof *d);
}

int train_data_open_files(struct train_data *d, char *const *paths, size_t n_paths, int dtype_bytes, int seq_len,
                          uint64_t data_seed, int world_size, int drop_last, int64_t global_batch) {
    memset(d, 0, sizeof *d);
    d->order.epoch = -1;
    if (n_paths == 0)
        return olmo_err("data.paths: no token files given (set data.paths in the config or --data.paths=[a.npy])");
    if (dtype_bytes != 1 && dtype_bytes != 2 && dtype_bytes != 4 && dtype_bytes != 8)
        return olmo_err("data.memmap_dtype: token width %d bytes is not 1, 2, 4 or 8", dtype_bytes);
    if (seq_len < 2) return olmo_err("model.max_sequence_length: %d is too short for training (need >= 2)", seq_len);
    if (global_batch <= 0 || global_batch % world_size != 0)
        return olmo_err("global_train_batch_size %lld must be a positive multiple of the number of processes (%d)",
                        (long long)global_batch, world_size);
    d->dtype_bytes = dtype_bytes;
    d->seq_len = seq_len;
    d->batch = global_batch;
    d->vocab_size = INT64_MAX;
    d->files = olmo_calloc(n_paths, sizeof *d->files);
    if (!d->files) return -1;
    for (size_t i = 0; i < n_paths; i++) {
        d->n_files = i + 1;
        if (open_file(&d->files[i], paths[i], dtype_bytes, seq_len) < 0) goto fail;
        d->files[i].first = d->n_instances;
        d->n_instances += d->files[i].n_instances;
    }
    if (d->n_instances == 0) {
        olmo_err("data.paths: the %zu file(s) hold no instance of %d tokens (each file needs at least "
                 "max_sequence_length tokens; the first has %llu)", n_paths, seq_len,
                 (unsigned long long)d->files[0].n_tokens);
        goto fail;
    }
    if (data_order_init(&d->order, d->n_instances, data_seed, world_size, drop_last) < 0) goto fail;
    if (d->order.total == 0) {
        olmo_err("data.paths: %llu instances cannot be split over %d processes with drop_last",
                 (unsigned long long)d->n_instances, world_size);
        goto fail;
    }
    if (data_order_steps_per_epoch(d->n_instances, world_size, drop_last, global_batch) == 0) {
        /* with drop_last the DataLoader would drop the only, partial batch of every epoch: nothing to train on */
        olmo_err("data.paths: the %llu instances of %d tokens do not fill one global batch of %lld (data.drop_last "
                 "is set): add data, or lower global_train_batch_size or max_sequence_length",
                 (unsigned long long)d->n_instances, seq_len, (long long)global_batch);
        goto fail;
    }
    return 0;
fail:
    train_data_close(d);
    return -1;
}

int train_data_open(struct train_data *d, const struct train_config *tc, int world_size) {
    if (train_data_open_files(d, tc->data_paths, tc->n_data_paths, tc->memmap_dtype_bytes, tc->model.max_seq_len,
                              (uint64_t)tc->data_seed, world_size, tc->drop_last, tc->global_train_batch_size) < 0)
        return -1;
    d->vocab_size = tc->model.vocab_size;
    d->instance_filter = tc->instance_filter;
    d->rep_min_period = tc->rep_min_period;
    d->rep_max_period = tc->rep_max_period;
    d->rep_max_count = tc->rep_max_count;
    d->first_epoch = tc->epoch;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ instances */

int train_data_locate(const struct train_data *d, uint64_t index, size_t *file, uint64_t *start) {
    if (index >= d->n_instances)
        return olmo_err("instance %llu is outside the dataset (%llu instances)", (unsigned long long)index,
                        (unsigned long long)d->n_instances);
    size_t lo = 0, hi = d->n_files;   /* last file whose first <= index and that holds instances */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (d->files[mid].first <= index) lo = mid;
        else hi = mid;
    }
    while (d->files[lo].n_instances == 0 || index - d->files[lo].first >= d->files[lo].n_instances) lo++;
    *file = lo;
    *start = (index - d->files[lo].first) * (uint64_t)d->seq_len;
    return 0;
}

static int read_instance(const struct train_data *d, uint64_t index, int32_t *out) {
    size_t fi;
    uint64_t start;
    if (train_data_locate(d, index, &fi, &start) < 0) return -1;
    const struct data_file *f = &d->files[fi];
    const uint8_t *p = f->tokens + start * (uint64_t)d->dtype_bytes;
    /* one loop per width (the switch outside), tracking the largest id for one range check per instance */
    uint64_t maxv = 0;
    int T = d->seq_len;
    switch (d->dtype_bytes) {
    case 1:
        for (int t = 0; t < T; t++) {
            out[t] = p[t];
            maxv = p[t] > maxv ? p[t] : maxv;
        }
        break;
    case 2:
        for (int t = 0; t < T; t++) {
            uint16_t x;
            memcpy(&x, p + 2 * (size_t)t, 2);   /* little-endian host, as the files are */
            out[t] = x;
            maxv = x > maxv ? x : maxv;
        }
        break;
    case 4:
        for (int t = 0; t < T; t++) {
            uint32_t x;
            memcpy(&x, p + 4 * (size_t)t, 4);
            out[t] = (int32_t)x;
            maxv = x > maxv ? x : maxv;
        }
        break;
    default:
        for (int t = 0; t < T; t++) {
            uint64_t x;
            memcpy(&x, p + 8 * (size_t)t, 8);
            out[t] = (int32_t)x;
            maxv = x > maxv ? x : maxv;
        }
        break;
    }
    if (maxv >= (uint64_t)d->vocab_size || maxv > INT32_MAX) {
        for (int t = 0; t < T; t++) {
            uint64_t v = 0;
            memcpy(&v, p + (size_t)t * (size_t)d->dtype_bytes, (size_t)d->dtype_bytes);
            if (v == maxv)
                return olmo_err("%s: token %llu at offset %llu is outside the model's embedding (%lld rows): wrong "
                                "data.memmap_dtype or a file made with another tokenizer?", f->path,
                                (unsigned long long)v, (unsigned long long)(start + (uint64_t)t),
                                (long long)d->vocab_size);
        }
    }
    return 0;
}

int train_data_instance(const struct train_data *d, uint64_t index, uint32_t *out) {
    return read_instance(d, index, (int32_t *)out);
}

/* Length of the run of equal entries at the start of eq[0..p) (p if all equal). */
static int leading_true(const unsigned char *eq, int p) {
    int k = 0;
    while (k < p && eq[k]) k++;
    return k;
}

int train_data_instance_ok(const int32_t *a, int n, int min_period, int max_period, int max_count) {
    /* OLMo's find_periodic_sequences (olmo/data/util.py) + MemMapDataset._validate_instance: view the tokens as
     * rows of `p` (padded with -1 to one more row than fits), mark each column equal to the row above (row 0
     * compares with the last row, as np.roll does), take runs of fully equal rows, extend them by the matching
     * tail of the row before and head of the row after, and count repeats = span / p. */
    if (max_period > n / 3) max_period = n / 3;
    if (min_period < 1) min_period = 1;
    if (max_period < min_period) return 1;
    unsigned char *eq_prev = malloc(2 * (size_t)max_period), *eq_next = eq_prev + max_period;
    if (!eq_prev) return olmo_err("out of memory in the instance filter"), -1;
    int ok = 1;
    for (int p = min_period; p <= max_period && ok; p++) {
        int64_t rows = n / p + 1;
#define VAL(r, c) ((int64_t)(r) * p + (c) < n ? (int64_t)a[(int64_t)(r) * p + (c)] : -1)
#define ROWPREV(r) ((r) == 0 ? rows - 1 : (r) - 1)
        int64_t r = 0;
        while (r < rows) {
            /* find the next fully equal row */
            int all = 1;
            for (int c = 0; c < p && all; c++) all = VAL(r, c) == VAL(ROWPREV(r), c);
            if (!all) {
                r++;
                continue;
            }
            int64_t s = r, e = r;
            while (e + 1 < rows) {
                int all2 = 1;
                for (int c = 0; c < p && all2; c++) all2 = VAL(e + 1, c) == VAL(e, c);
                if (!all2) break;
                e++;
            }
            /* trailing equal columns of row s-1 (numpy index s-1 wraps to the last row when s == 0) */
            int64_t sp = s == 0 ? rows - 1 : s - 1;
            for (int c = 0; c < p; c++) eq_prev[p - 1 - c] = VAL(sp, c) == VAL(ROWPREV(sp), c);
            int tail = leading_true(eq_prev, p);
            int start_off = (tail > 0 && tail < p) ? tail : 0;
            int end_off = 0;
            if (e + 1 < rows) {
                for (int c = 0; c < p; c++) eq_next[c] = VAL(e + 1, c) == VAL(e, c);
                end_off = leading_true(eq_next, p);
            }
            int64_t start_pos = (s - 1) * p - start_off;
            int64_t end_pos = (e + 1) * p + end_off;
            int64_t span = end_pos - start_pos;
            int64_t times = span >= 0 ? span / p : -((-span + p - 1) / p);   /* Python's floor division */
            if (times > 2 && times >= max_count) {
                ok = 0;
                break;
            }
            r = e + 1;
        }
#undef VAL
#undef ROWPREV
    }
    free(eq_prev);
    return ok;
}

/* ------------------------------------------------------------------------------------------------ batches */

int64_t train_data_steps_per_epoch(const struct train_data *d) {
    return data_order_steps_per_epoch(d->n_instances, d->order.world_size, d->order.drop_last, d->batch);
}

int train_data_fill(const struct train_data *d, const uint64_t *index, int64_t n, int32_t *inputs, int32_t *targets) {
    int T = d->seq_len;
    int32_t *tmp = NULL;
    if (!inputs) {
        if (!(tmp = olmo_malloc((size_t)T * sizeof *tmp))) return -1;
    }
    for (int64_t b = 0; b < n; b++) {
        int32_t *row = inputs ? inputs + (size_t)b * (size_t)T : tmp;
        if (read_instance(d, index[b], row) < 0) {
            free(tmp);
            return -1;
        }
        if (!targets) continue;
        int32_t *tg = targets + (size_t)b * (size_t)T;
        int keep = !d->instance_filter ||
                   train_data_instance_ok(row, T, d->rep_min_period, d->rep_max_period, d->rep_max_count);
        if (keep < 0) {
            free(tmp);
            return -1;
        }
        /* OLMo: labels = input_ids[1:]; the last position has no label; a filtered instance has none at all */
        for (int t = 0; t < T - 1; t++) tg[t] = keep ? row[t + 1] : TRAIN_IGNORE_INDEX;
        tg[T - 1] = TRAIN_IGNORE_INDEX;
    }
    free(tmp);
    return 0;
}

int64_t train_data_batch_at(struct train_data *d, int64_t epoch, uint64_t start, int rank, uint64_t *out_index,
                            int32_t *inputs, int32_t *targets) {
    uint64_t *idx = out_index;
    if (!idx && !(idx = olmo_malloc((size_t)d->batch * sizeof *idx))) return -1;
    int64_t n = data_order_batch(&d->order, epoch, start, d->batch, rank, idx);
    if (n > 0 && (inputs || targets) && train_data_fill(d, idx, n, inputs, targets) < 0) n = -1;
    if (idx != out_index) free(idx);
    return n;
}

int64_t train_data_step_batch(struct train_data *d, int64_t step, int rank, uint64_t *out_index, int32_t *inputs,
                              int32_t *targets) {
    if (step < 1) return olmo_err("step %lld: steps count from 1", (long long)step);
    int64_t epoch;
    uint64_t start;
    data_order_locate_step(&d->order, d->batch, d->first_epoch, step, &epoch, &start);
    return train_data_batch_at(d, epoch, start, rank, out_index, inputs, targets);
}
