/* metrics.h — what the user sees during training: a live progress line, a JSONL log with one object per step,
 * and a loss-curve PNG drawn by gnuplot at the end.
 *
 * Only rank 0 opens a metrics log. The JSONL file (save_folder/metrics.jsonl) survives resumes: reopening at step k
 * drops the lines of steps > k that a killed run wrote after its last checkpoint, so the log tells the history of
 * the parameters that exist. FLOPs per token follow OLMo-core's formula (spec §5):
 *   6 · (attention params incl. QK-norm + feed-forward params + LM head incl. final norm) + 12 · L · H · hd · T
 * and MFU is measured against the fp32 GEMM rate this machine reaches at start (metrics_measure_peak). */
#ifndef OLMO_TRAIN_METRICS_H
#define OLMO_TRAIN_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "model/config.h"

struct metrics_step {
    int64_t step;            /* 1-based optimizer step just finished */
    int64_t tokens_seen;     /* global tokens after this step */
    double ce_loss;          /* cross-entropy, normalised as the trainer's objective */
    double z_loss;           /* z-loss term already multiplied by its coefficient (0 when off) */
    double grad_norm;        /* global L2 norm before clipping */
    double lr;
    double step_seconds;     /* wall time of this step */
    double tokens_per_s;     /* global tokens / step_seconds */
    double mfu;              /* percent of metrics' peak, per process */
};

struct train_metrics {
    FILE *jsonl;
    char *jsonl_path;
    int64_t start_step, total_steps;
    double t_start, last_print;
    int tty;                 /* stderr is a terminal: redraw one line with \r */
    int64_t print_every;     /* without a terminal: one line every this many steps */
    int line_open;           /* a \r progress line is on screen */
    double tok_s_ema;        /* smoothed tokens/s for the ETA */
};

/* Opens (creating or trimming to steps <= start_step) folder/metrics.jsonl. */
int metrics_open(struct train_metrics *m, const char *folder, int64_t start_step, int64_t total_steps);
/* Appends one JSON line (flushed) and updates the progress line on stderr. */
int metrics_log(struct train_metrics *m, const struct metrics_step *s);
/* Ends the progress line (call before printing anything else). */
void metrics_newline(struct train_metrics *m);
void metrics_close(struct train_metrics *m);

/* Draws step vs loss from a metrics.jsonl into png_path with gnuplot; warns and returns 0 when gnuplot is absent. */
int metrics_plot(const char *jsonl_path, const char *png_path, const char *title);

/* Training FLOPs per token (forward + backward) by OLMo-core's formula (spec §5). */
double metrics_flops_per_token(const struct olmo_config *c, int seq_len);
/* Best fp32 GEMM rate (FLOP/s) measured here with the current threads, for MFU; takes about 0.05 s. */
double metrics_measure_peak(void);

/* "1h02m", "3m05s", "12s" */
void metrics_format_duration(double seconds, char *out, int outlen);

#endif
