/* serve_text.c — the text side of a generation: stop strings held back until resolved (spec §5 b), lossy UTF-8 for
 * JSON strings, and the task's outboxes (the SSE byte stream, the whole content for a non-streaming answer). */
#include "serve/serve_task.h"
#include "base/mem.h"

#include <string.h>

size_t serve_stop_scan(const char *text, size_t len, size_t sent, char *const *stops, int n_stops, int *hit) {
    *hit = 0;
    size_t best = len;
    for (int i = 0; i < n_stops; i++) {
        const char *p = memmem(text + sent, len - sent, stops[i], strlen(stops[i]));
        if (p && (size_t)(p - text) < best) {
            best = (size_t)(p - text);
            *hit = 1;
        }
    }
    if (*hit) return best;
    /* the longest tail of the unsent text that is a proper prefix of some stop string stays back */
    size_t hold = 0;
    for (int i = 0; i < n_stops; i++) {
        size_t sl = strlen(stops[i]);
        for (size_t k = sl - 1 < len - sent ? sl - 1 : len - sent; k > hold; k--)
            if (!memcmp(text + len - k, stops[i], k)) {
                hold = k;
                break;
            }
    }
    return len - hold;
}

json_t *serve_json_lossy(const char *bytes, size_t n) {
    json_t *s = json_stringn(bytes, n);
    if (s) return s;
    /* not valid UTF-8 (a token ending inside a character): replace as the streaming decoder does */
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f) return json_string("");
    struct utf8_stream u;
    utf8_stream_init(&u);
    utf8_stream_feed(&u, bytes, n, f);
    utf8_stream_flush(&u, f);
    fclose(f);
    s = json_stringn(buf, blen);
    free(buf);
    return s ? s : json_string("");
}

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *p = olmo_realloc(*buf, c);
    if (!p) return -1;
    *buf = p;
    *cap = c;
    return 0;
}

int serve_task_append_sse(struct serve_task *t, const char *data, size_t n) {
    if (t->sse_off > 0 && t->sse_off == t->sse_len) t->sse_off = t->sse_len = 0;   /* all sent: start over */
    if (grow(&t->sse, &t->sse_cap, t->sse_len + n + 1) != 0) return -1;
    memcpy(t->sse + t->sse_len, data, n);
    t->sse_len += n;
    return 0;
}

int serve_task_append_content(struct serve_task *t, const char *data, size_t n) {
    if (grow(&t->content, &t->content_cap, t->content_len + n + 1) != 0) return -1;
    memcpy(t->content + t->content_len, data, n);
    t->content_len += n;
    t->content[t->content_len] = 0;
    return 0;
}

int serve_task_send_event(struct serve_task *t, json_t *obj) {
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (!s) return -1;
    int rc = serve_task_append_sse(t, "data: ", 6) | serve_task_append_sse(t, s, strlen(s)) |
             serve_task_append_sse(t, "\n\n", 2);
    free(s);
    return rc ? -1 : 0;
}
