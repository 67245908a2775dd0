/* checkpoint.c — the step-N.tmp -> step-N folder protocol, `latest`, and trainer_state.json (see checkpoint.h). */
#include "train/checkpoint.h"
#include "base/hash.h"
#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *step_path(const char *folder, int64_t step, const char *suffix) {
    size_t n = strlen(folder) + 48;
    char *p = olmo_malloc(n);
    if (p) snprintf(p, n, "%s/step-%" PRId64 "%s", folder, step, suffix);
    return p;
}

/* Removes dir/name: a folder with everything under it, or a file; 0 if it is already gone. */
static int remove_entry(const char *dir, const char *name) {
    char *p = olmo_path_join(dir, name);
    if (!p) return -1;
    int rc = 0;
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) rc = ckpt_remove_tree(p);
    else if (unlink(p) != 0 && errno != ENOENT) rc = olmo_err_errno("cannot remove %s", p);
    free(p);
    return rc;
}

int ckpt_remove_tree(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : olmo_err_errno("cannot open folder %s", dir);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        rc = remove_entry(dir, e->d_name);
    }
    closedir(d);
    if (rc == 0 && rmdir(dir) != 0 && errno != ENOENT) rc = olmo_err_errno("cannot remove folder %s", dir);
    return rc;
}

static void writer_free(struct ckpt_writer *w) {
    free(w->save_folder);
    free(w->dir);
    free(w->final_dir);
    memset(w, 0, sizeof *w);
}

int ckpt_begin(struct ckpt_writer *w, const char *save_folder, int64_t step) {
    memset(w, 0, sizeof *w);
    w->step = step;
    w->save_folder = olmo_strdup(save_folder);
    w->dir = step_path(save_folder, step, ".tmp");
    w->final_dir = step_path(save_folder, step, "");
    if (!w->save_folder || !w->dir || !w->final_dir) goto fail;
    if (olmo_mkdir_p(save_folder) != 0) goto fail;
    /* A temp folder left by a killed run is incomplete by definition: start it afresh. */
    if (ckpt_remove_tree(w->dir) != 0) goto fail;
    if (mkdir(w->dir, 0777) != 0) {
        olmo_err_errno("cannot create checkpoint folder %s", w->dir);
        goto fail;
    }
    return 0;
fail:
    olmo_err_prefix("checkpoint step %" PRId64 ": ", step);
    writer_free(w);
    return -1;
}

void ckpt_abort(struct ckpt_writer *w) {
    if (w->dir) ckpt_remove_tree(w->dir);
    writer_free(w);
}

/* fsync every plain file in dir, then dir itself: after this the contents survive a power cut. */
static int sync_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return olmo_err_errno("cannot open folder %s", dir);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *p = olmo_path_join(dir, e->d_name);
        if (!p) { rc = -1; break; }
        int fd = open(p, O_RDONLY);
        if (fd < 0) rc = olmo_err_errno("cannot open %s", p);
        else {
            if (fsync(fd) != 0 && errno != EINVAL) rc = olmo_err_errno("cannot fsync %s", p);
            close(fd);
        }
        free(p);
    }
    closedir(d);
    return rc == 0 ? olmo_fsync_dir(dir) : rc;
}

int ckpt_commit(struct ckpt_writer *w) {
    int rc = sync_folder(w->dir);
    char *old = NULL;
    if (rc == 0 && olmo_file_exists(w->final_dir)) {
        /* Rewriting a step (a resumed run passing a step whose `latest` update was lost): move the old one
         * aside first, so step-N is at every moment either the old or the new complete folder, or absent. */
        old = step_path(w->save_folder, w->step, ".old");
        if (!old) rc = -1;
        else if ((rc = ckpt_remove_tree(old)) == 0 && rename(w->final_dir, old) != 0)
            rc = olmo_err_errno("cannot move %s aside", w->final_dir);
    }
    if (rc == 0 && rename(w->dir, w->final_dir) != 0)
        rc = olmo_err_errno("cannot rename %s to %s", w->dir, w->final_dir);
    if (rc == 0) rc = olmo_fsync_dir(w->save_folder);
    if (rc == 0 && old) rc = ckpt_remove_tree(old);
    if (rc == 0) {
        char line[48];
        int n = snprintf(line, sizeof line, "step-%" PRId64 "\n", w->step);
        char *latest = olmo_path_join(w->save_folder, CKPT_LATEST_FILE);
        rc = latest ? olmo_write_file_atomic(latest, line, (size_t)n) : -1;
        free(latest);
    }
    free(old);
    if (rc != 0) {
        olmo_err_prefix("committing checkpoint step %" PRId64 ": ", w->step);
        ckpt_remove_tree(w->dir);
    }
    writer_free(w);
    return rc;
}

int ckpt_is_complete(const char *dir) {
    char *p = olmo_path_join(dir, CKPT_STATE_FILE);
    int ok = p && olmo_file_exists(p);
    free(p);
    return ok;
}

/* "step-123" -> 123; -1 for anything else (step-123.tmp, step-x, ...). */
static int64_t parse_step_name(const char *name) {
    if (strncmp(name, "step-", 5) || !name[5]) return -1;
    int64_t v = 0;
    for (const char *s = name + 5; *s; s++) {
        if (*s < '0' || *s > '9' || v > INT64_MAX / 10 - 10) return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

char *ckpt_latest(const char *save_folder) {
    /* The newest complete step-N wins; `latest` may lag it by one if a run died right after the rename. */
    DIR *d = opendir(save_folder);
    if (!d) {
        olmo_err_errno("no checkpoints: cannot open save folder %s", save_folder);
        return NULL;
    }
    int64_t best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        int64_t s = parse_step_name(e->d_name);
        if (s <= best) continue;
        char *p = olmo_path_join(save_folder, e->d_name);
        if (p && ckpt_is_complete(p)) best = s;
        free(p);
    }
    closedir(d);
    if (best < 0) {
        olmo_err("no complete checkpoint (step-N/ with %s) in %s", CKPT_STATE_FILE, save_folder);
        return NULL;
    }
    return step_path(save_folder, best, "");
}

int ckpt_clear(const char *save_folder) {
    DIR *d = opendir(save_folder);
    if (!d) return errno == ENOENT ? 0 : olmo_err_errno("cannot open save folder %s", save_folder);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (strncmp(e->d_name, "step-", 5) && strcmp(e->d_name, CKPT_LATEST_FILE)) continue;
        rc = remove_entry(save_folder, e->d_name);
    }
    closedir(d);
    return rc == 0 ? olmo_fsync_dir(save_folder) : rc;
}

void ckpt_hash_text(const char *text, char out[17]) {
    snprintf(out, 17, "%016" PRIx64, olmo_fnv1a64(text, strlen(text)));
}

static json_t *hex64(uint64_t v) {
    char b[20];
    snprintf(b, sizeof b, "%016" PRIx64, v);
    return json_string(b);
}

int ckpt_state_write(const char *path, const struct train_state *st) {
    json_t *o = json_object(), *rng = json_array();
    if (!o || !rng) {
        json_decref(o);
        json_decref(rng);
        return olmo_err("out of memory building %s", path);
    }
    for (int i = 0; i < CKPT_RNG_WORDS; i++) json_array_append_new(rng, hex64(st->rng[i]));
    json_object_set_new(o, "format", json_string("olmo.c trainer state v1"));
    json_object_set_new(o, "step", json_integer(st->step));
    json_object_set_new(o, "tokens_seen", json_integer(st->tokens_seen));
    json_object_set_new(o, "epoch", json_integer(st->epoch));
    json_object_set_new(o, "examples_seen_this_epoch", json_integer(st->examples_seen_this_epoch));
    json_object_set_new(o, "global_batch_size", json_integer(st->global_batch_size));
    json_object_set_new(o, "seq_len", json_integer(st->seq_len));
    json_object_set_new(o, "world_size", json_integer(st->world_size));
    json_object_set_new(o, "seed", json_integer((json_int_t)st->seed));
    json_object_set_new(o, "data_seed", json_integer((json_int_t)st->data_seed));
    json_object_set_new(o, "rng_state", rng);
    json_object_set_new(o, "config_hash", json_string(st->config_hash));
    json_object_set_new(o, "train_seconds", json_real(st->train_seconds));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) return olmo_err("out of memory serialising %s", path);
    size_t n = strlen(text);
    text[n] = '\n';   /* replaces the NUL: written with an explicit length */
    int rc = olmo_write_file_atomic(path, text, n + 1);
    free(text);
    return rc;
}

static int get_int(json_t *o, const char *path, const char *key, int64_t *out) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return olmo_err("%s: expected an integer \"%s\", found %s", path, key,
                                             v ? "another type" : "nothing");
    *out = json_integer_value(v);
    return 0;
}

int ckpt_state_read(const char *path, struct train_state *st) {
    memset(st, 0, sizeof *st);
    json_error_t err;
    json_t *o = json_load_file(path, 0, &err);
    if (!o) return olmo_err("%s:%d: invalid trainer state JSON: %s", path, err.line, err.text);
    int64_t ws = 0, seed = 0, dseed = 0;
    int rc = 0;
    if (!json_is_object(o)) rc = olmo_err("%s: expected a JSON object", path);
    if (!rc) rc = get_int(o, path, "step", &st->step);
    if (!rc) rc = get_int(o, path, "tokens_seen", &st->tokens_seen);
    if (!rc) rc = get_int(o, path, "epoch", &st->epoch);
    if (!rc) rc = get_int(o, path, "examples_seen_this_epoch", &st->examples_seen_this_epoch);
    if (!rc) rc = get_int(o, path, "global_batch_size", &st->global_batch_size);
    if (!rc) rc = get_int(o, path, "seq_len", &st->seq_len);
    if (!rc) rc = get_int(o, path, "world_size", &ws);
    if (!rc) rc = get_int(o, path, "seed", &seed);
    if (!rc) rc = get_int(o, path, "data_seed", &dseed);
    if (!rc) {
        st->world_size = (int32_t)ws;
        st->seed = (uint64_t)seed;
        st->data_seed = (uint64_t)dseed;
        json_t *rng = json_object_get(o, "rng_state");
        if (!json_is_array(rng) || json_array_size(rng) != CKPT_RNG_WORDS)
            rc = olmo_err("%s: expected \"rng_state\" as an array of %d hex strings", path, CKPT_RNG_WORDS);
        for (int i = 0; !rc && i < CKPT_RNG_WORDS; i++) {
            const char *s = json_string_value(json_array_get(rng, (size_t)i));
            char *end = NULL;
            if (s) st->rng[i] = strtoull(s, &end, 16);
            if (!s || !end || *end || !*s) rc = olmo_err("%s: rng_state[%d] is not a hex string", path, i);
        }
    }
    if (!rc) {
        const char *h = json_string_value(json_object_get(o, "config_hash"));
        snprintf(st->config_hash, sizeof st->config_hash, "%s", h ? h : "");
        json_t *t = json_object_get(o, "train_seconds");
        st->train_seconds = json_is_number(t) ? json_number_value(t) : 0.0;
        if (st->step < 0 || st->tokens_seen < 0 || st->epoch < 0 || st->examples_seen_this_epoch < 0)
            rc = olmo_err("%s: negative step / tokens / position", path);
    }
    json_decref(o);
    return rc;
}
