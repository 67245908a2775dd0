/* trainer.c — the training loop of `olmo train` (see trainer.h for what one step does). */
#include "train/trainer.h"
#include "eval/eval_tasks.h"
#include "eval/eval_train.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "formats/hf_config.h"
#include "train/checkpoint.h"
#include "train/metrics.h"
#include "train/mpi.h"
#include "train/optim.h"
#include "train/train_ckpt.h"
#include "train/train_model.h"
#include "train/trainer_plan.h"
#include "train/train_threads.h"

#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Under mpirun several ranks share the machine: split the cores between them unless the user chose. */
static int setup_threads(void) {
    if (!dist_active() || getenv("OMP_NUM_THREADS")) return omp_get_max_threads();
    const char *ls = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    long local = ls ? atol(ls) : dist_size();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = (int)(local > 0 && cores / local > 0 ? cores / local : 1);
    train_threads_set(n);
    return n;
}

/* Test hook: OLMO_TEST_KILL_AFTER_STEP=N sends this process SIGKILL right after step N (and its checkpoint),
 * which is exactly `kill -9` at a known moment. */
static void maybe_kill(const char *var, int64_t step) {
    const char *s = getenv(var);
    if (s && *s && atoll(s) == step) raise(SIGKILL);
}

/* --init-from: the architecture is the checkpoint's own (config.json); the run's sequence length stays the
 * config's, since the data is cut into instances of that length. */
static int arch_from_hf(struct trainer_plan *p, const char *dir) {
    char *path = olmo_path_join(dir, CKPT_CONFIG_FILE);
    if (!path) return -1;
    struct olmo_config c;
    int rc = hf_config_load(&c, path);
    free(path);
    if (rc != 0) return olmo_err_prefix("--init-from %s: ", dir);
    const struct olmo_config *y = &p->model;
    if (c.d_model != y->d_model || c.n_layers != y->n_layers || c.vocab_size != y->vocab_size || c.arch != y->arch)
        olmo_log_info("--init-from: architecture from %s/config.json (%s, d_model %d, %d layers, vocab %d) "
                      "replaces the config's model section (d_model %d, %d layers, vocab %d)", dir,
                      hf_model_type(c.arch), c.d_model, c.n_layers, c.vocab_size, y->d_model, y->n_layers,
                      y->vocab_size);
    if (c.max_seq_len < (int)p->seq_len) c.max_seq_len = (int)p->seq_len;
    p->model = c;
    return 0;
}

/* What the run does next: where its parameters come from. */
struct start {
    char *ckpt_dir;       /* restore parameters + moments + state from here, or NULL */
    int restore_position; /* take step and data position from the checkpoint */
    char *weights_dir;    /* parameters only (init-from / load_path of a foreign checkpoint), or NULL */
};

static int plan_start(struct trainer_plan *p, const struct trainer_opts *o, struct start *s) {
    memset(s, 0, sizeof *s);
    if (o->resume) {
        s->ckpt_dir = ckpt_latest(p->save_folder);
        if (!s->ckpt_dir) return olmo_err_prefix("--resume: ");
        s->restore_position = 1;
        return 0;
    }
    if (o->init_from) {
        if (!olmo_file_exists(o->init_from)) return olmo_err("--init-from %s: no such folder", o->init_from);
        s->weights_dir = olmo_strdup(o->init_from);
        if (!s->weights_dir || arch_from_hf(p, o->init_from) != 0) return -1;
    } else if (p->load_path) {
        if (ckpt_is_complete(p->load_path)) {
            s->ckpt_dir = olmo_strdup(p->load_path);
            s->restore_position = p->restore_dataloader;
        } else {
            s->weights_dir = olmo_strdup(p->load_path);
            if (s->weights_dir && arch_from_hf(p, p->load_path) != 0) return -1;
        }
        if (!s->ckpt_dir && !s->weights_dir) return -1;
    }
    /* A fresh run must not mix with an older run's checkpoints (--resume would later pick the wrong one). */
    char *old = ckpt_latest(p->save_folder);
    olmo_err_clear();
    if (old) {
        if (!p->save_overwrite) {
            int rc = olmo_err("save folder %s already holds checkpoints (newest: %s); continue with --resume, or "
                              "start over with --save_overwrite=true, or choose another --save_folder",
                              p->save_folder, old);
            free(old);
            return rc;
        }
        free(old);
        if (dist_rank() == 0 && ckpt_clear(p->save_folder) != 0) return -1;
    }
    return 0;
}

static int restore_state(struct train_state *st, const struct trainer_plan *p, const char *dir) {
    char *path = olmo_path_join(dir, CKPT_STATE_FILE);
    int rc = path ? ckpt_state_read(path, st) : -1;
    free(path);
    if (rc != 0) return -1;
    if (st->global_batch_size != p->global_batch || st->seq_len != p->seq_len)
        return olmo_err("%s: saved with global_train_batch_size %" PRId64 " and max_sequence_length %" PRId64
                        "; the config now says %" PRId64 " and %" PRId64 " (the data position would not match)",
                        dir, st->global_batch_size, st->seq_len, p->global_batch, p->seq_len);
    if (strcmp(st->config_hash, p->config_hash) && dist_rank() == 0)
        olmo_log_warn("%s was saved with a different config (hash %s, now %s): resuming anyway; the run is "
                      "no longer a bit-exact continuation", dir, st->config_hash, p->config_hash);
    if (st->world_size != dist_size() && dist_rank() == 0)
        olmo_log_warn("%s was saved by %d processes, resuming with %d: same data order, different rounding",
                      dir, st->world_size, dist_size());
    return 0;
}

static int save(const struct train_model *m, struct train_state *st, const struct trainer_plan *p,
                char *last, size_t last_len) {
    int32_t failed = 0;
    if (dist_rank() == 0) {
        struct train_ckpt_extra ex = {p->tokenizer_file, p->config_yaml};
        st->world_size = dist_size();
        failed = train_ckpt_save(m, st, p->save_folder, &ex) != 0;
    }
    /* every rank learns whether rank 0 could write, so they stop together */
    if (dist_allreduce_max_i32(&failed) != 0) return -1;
    if (failed) return dist_rank() == 0 ? -1 : olmo_err("rank 0 failed to write the checkpoint");
    snprintf(last, last_len, "%s/step-%" PRId64, p->save_folder, st->step);   /* every rank knows it */
    return 0;
}

int trainer_run(const struct trainer_opts *o, struct trainer_result *res) {
    struct trainer_result r;
    memset(&r, 0, sizeof r);
    const int rank = dist_rank(), W = dist_size(), lead = rank == 0;
    int quiet = o->quiet || !lead;
    int saved_level = olmo_log_level;
    if (quiet) olmo_log_level = OLMO_LOG_QUIET;
    int threads = setup_threads();

    struct trainer_plan p;
    struct start s = {0};
    struct train_model *m = NULL;
    struct train_metrics mt = {0};
    int have_metrics = 0, rc = -1;
    uint64_t *idx = NULL;
    int32_t *inputs = NULL, *targets = NULL;
    if (trainer_plan_load(&p, o->config_path, o->n_overrides, o->overrides, W, quiet) != 0) {
        olmo_log_level = saved_level;
        return -1;
    }
    if (plan_start(&p, o, &s) != 0) goto out;

    const int64_t T = p.seq_len, B = p.global_batch, local = B / W, mb = p.micro_batch;
    m = train_model_create(&p.model, (int)mb, (int)T, p.bf16 ? TRAIN_PREC_BF16 : TRAIN_PREC_FP32);
    if (!m) goto out;

    struct train_state st = {0};
    if (s.ckpt_dir) {
        if (train_ckpt_load(m, s.ckpt_dir, 1) != 0 || restore_state(&st, &p, s.ckpt_dir) != 0) goto out;
        if (!s.restore_position) {   /* load_path with restore_dataloader: false (OLMo's stage 2) */
            st.step = st.tokens_seen = 0;
            st.epoch = p.first_epoch;
            st.examples_seen_this_epoch = 0;
            memset(m->m, 0, m->n_params * sizeof(float));
            memset(m->v, 0, m->n_params * sizeof(float));
        }
        snprintf(r.last_checkpoint, sizeof r.last_checkpoint, "%s", s.ckpt_dir);
    } else {
        if (s.weights_dir) {
            if (train_ckpt_load(m, s.weights_dir, 0) != 0) goto out;
        } else if (train_model_init(m, p.init_fn, (float)p.init_std, (float)p.init_cutoff, p.seed) != 0) {
            goto out;
        }
        st.epoch = p.first_epoch;
    }
    st.global_batch_size = B;
    st.seq_len = T;
    st.world_size = W;
    st.seed = p.seed;
    st.data_seed = p.data_seed;
    st.rng[0] = p.seed;        /* training draws no random numbers (no dropout): the init seed is all there is */
    st.rng[1] = p.data_seed;
    memcpy(st.config_hash, p.config_hash, sizeof st.config_hash);
    optim_set_decay(m, p.decay_norm_and_bias, p.decay_embeddings);

    struct optim_adamw adam = {(float)p.beta1, (float)p.beta2, (float)p.eps, (float)p.weight_decay};
    struct optim_schedule sched = {p.sched,   p.lr,    p.t_warmup,         p.t_max,
                                   p.alpha_f, p.warmup_min_lr, p.decay, p.decay_fraction, p.decay_min_lr};
    idx = olmo_malloc(sizeof *idx * (size_t)local);
    inputs = olmo_malloc(sizeof *inputs * (size_t)(local * T));
    targets = olmo_malloc(sizeof *targets * (size_t)(local * T));
    if (!idx || !inputs || !targets) goto out;

    if (st.step >= p.max_steps) {
        if (lead) olmo_log_info("%s is at step %" PRId64 " of %" PRId64 ": nothing left to train",
                                r.last_checkpoint, st.step, p.max_steps);
        r.final_step = st.step;
        rc = 0;
        goto out;
    }
    double peak = lead ? metrics_measure_peak() : 0, fpt = metrics_flops_per_token(&m->cfg, (int)T);
    if (lead) {
        if (metrics_open(&mt, p.save_folder, st.step, p.max_steps) != 0) goto out;
        have_metrics = 1;
        olmo_log_info("model: %s, %" PRId64 " parameters (%" PRId64 " without embeddings), d_model %d, %d layers, "
                      "%s matmuls", hf_model_type(m->cfg.arch), train_model_num_params(m),
                      train_model_num_params_nonembed(m), m->cfg.d_model, m->cfg.n_layers, p.bf16 ? "bf16" : "fp32");
        olmo_log_info("data: %" PRIu64 " instances of %" PRId64 " tokens in %zu file(s), %" PRId64 " steps per epoch",
                      p.data.n_instances, T, p.data.n_files, p.steps_per_epoch);
        olmo_log_info("batch: %" PRId64 " instances (%" PRId64 " tokens) per step, micro-batch %" PRId64 ", %d "
                      "process(es) x %d thread(s); memory %.0f MiB (params+grads+Adam %.0f)",
                      B, B * T, mb, W, threads, (16.0 * (double)m->n_params + (double)m->act_bytes) / 1048576.0,
                      16.0 * (double)m->n_params / 1048576.0);
        if (!p.tokenizer_file)
            olmo_log_warn("%s%s%s: checkpoints get no tokenizer.json (copy one in to use them with olmo generate)",
                          p.tokenizer_identifier[0] ? "tokenizer.identifier '" : "no tokenizer.identifier",
                          p.tokenizer_identifier, p.tokenizer_identifier[0] ? "' is not a local file" : "");
        char every[64] = "at the end";
        if (p.save_interval > 0) snprintf(every, sizeof every, "every %" PRId64 " steps", p.save_interval);
        olmo_log_info("%s step %" PRId64 " -> %" PRId64 ", checkpoints %s in %s", st.step ? "resuming at" : "training from",
                      st.step, p.max_steps, every, p.save_folder);
    }

    const struct train_loss_opts lo_base = {(float)p.z_loss_mult, 1.0};
    const uint64_t total = p.data.order.total;
    double t_run = olmo_now(), step_time_after_first = 0;
    int64_t tokens_after_first = 0, first_step = st.step + 1;
    for (int64_t step = st.step + 1; step <= p.max_steps; step++) {
        double t0 = olmo_now();
        /* the data position: a new epoch when this one is used up (or only a partial batch is left and
         * drop_last discards it) */
        if (st.examples_seen_this_epoch >= (int64_t)total ||
            (p.data.order.drop_last && (int64_t)total - st.examples_seen_this_epoch < B)) {
            st.epoch++;
            st.examples_seen_this_epoch = 0;
        }
        int64_t n_global = (int64_t)total - st.examples_seen_this_epoch < B
                               ? (int64_t)total - st.examples_seen_this_epoch : B;
        int64_t n = train_data_batch_at(&p.data, st.epoch, (uint64_t)st.examples_seen_this_epoch, rank, idx,
                                        inputs, targets);
        if (n < 0) goto out;
        int64_t tokens_after = st.tokens_seen + n_global * T;
        double x = p.units_tokens ? (double)tokens_after : (double)step;
        double lr = optim_lr(&sched, x);

        train_model_zero_grad(m);
        struct train_loss_opts lo = lo_base;
        lo.denom = (double)n_global * (double)T;
        double sums[3] = {0, 0, 0};   /* Σ CE, Σ lse², labelled positions: this rank, then all ranks */
        for (int64_t off = 0; off < n; off += mb) {
            int64_t b = n - off < mb ? n - off : mb;
            struct train_loss_stats ls;
            if (train_model_forward_backward(m, inputs + off * T, targets + off * T, (int)b, (int)T, &lo, &ls) != 0)
                goto out;
            sums[0] += ls.ce_sum;
            sums[1] += ls.z_sum;
            sums[2] += (double)ls.n_labelled;
        }
        if (dist_allreduce_sum_f32(m->grads, m->n_params) != 0 || dist_allreduce_sum_f64(sums, 3) != 0) goto out;
        double ce = sums[0] / lo.denom, z = p.z_loss_mult * sums[1] / lo.denom;
        /* grad_clip_warmup_steps counts optimizer steps, even when the schedule runs in tokens */
        double clip = optim_clip_threshold(p.max_grad_norm, step, (int64_t)p.clip_warmup_steps, p.clip_warmup_factor);
        double gnorm = optim_clip_grads(m->grads, m->n_params, clip);
        if (!isfinite(ce + z) || !isfinite(gnorm)) {
            if (have_metrics) metrics_newline(&mt);
            olmo_err("step %" PRId64 ": the loss is %g and the gradient norm %g (lr %.3g): training stopped before "
                     "updating anything. %s%s; lower optimizer.learning_rate and continue with --resume", step, ce + z, gnorm, lr,
                     r.last_checkpoint[0] ? "The newest checkpoint is intact: " : "No checkpoint was written yet",
                     r.last_checkpoint);
            r.stopped_nonfinite = 1;   /* the sums were all-reduced: every rank is here at the same step */
            goto out;
        }
        optim_adamw_step(m, &adam, lr, step);

        st.step = step;
        st.tokens_seen = tokens_after;
        st.examples_seen_this_epoch += n_global;
        double dt = olmo_now() - t0;
        st.train_seconds += dt;
        if (step == first_step) tokens_after_first = st.tokens_seen;
        else step_time_after_first += dt;   /* the first step warms caches and allocators: not counted */
        r.final_loss = ce + z;
        r.final_step = step;
        r.steps_done++;
        if (have_metrics) {
            double tps = (double)(n_global * T) / dt;
            struct metrics_step ms = {step, st.tokens_seen, ce, z, gnorm, lr, dt, tps,
                                      peak > 0 ? 100.0 * fpt * tps / W / peak : 0};
            if (metrics_log(&mt, &ms) != 0) goto out;
        }
        int last = step == p.max_steps;
        if (o->max_seconds > 0 && !last) {
            int32_t out_of_time = olmo_now() - t_run > o->max_seconds;
            if (dist_allreduce_max_i32(&out_of_time) != 0) goto out;   /* the ranks' clocks differ: agree */
            if (out_of_time) {
                last = 1;
                r.stopped_by_time = 1;
            }
        }
        int saved = (p.save_interval > 0 && step % p.save_interval == 0) || last;
        if (saved && save(m, &st, &p, r.last_checkpoint, sizeof r.last_checkpoint) != 0) goto out;
        /* evaluators read the checkpoint of this step: write one if the save cadence did not */
        if (p.evaluators.n && ((p.eval_interval > 0 && step % p.eval_interval == 0) || last)) {
            if (!saved && save(m, &st, &p, r.last_checkpoint, sizeof r.last_checkpoint) != 0) goto out;
            if (have_metrics) {
                metrics_newline(&mt);
                if (eval_train_run(&p.evaluators, r.last_checkpoint, step, st.tokens_seen, (int)T, p.token_bytes,
                                   eval_default_data_dir(), mt.jsonl) != 0)
                    goto out;
            }
        }
        maybe_kill("OLMO_TEST_KILL_AFTER_STEP", step);
        if (last) break;
    }
    r.seconds = olmo_now() - t_run;
    /* training throughput: step time only (checkpoint writing excluded) */
    if (r.steps_done > 1 && step_time_after_first > 0)
        r.tokens_per_s = (double)(st.tokens_seen - tokens_after_first) / step_time_after_first;
    else if (r.seconds > 0)
        r.tokens_per_s = (double)(r.steps_done * B * T) / r.seconds;
    if (have_metrics) {
        metrics_newline(&mt);
        if (r.stopped_by_time)
            olmo_log_info("time limit of %.0f s reached: stopped at step %" PRId64 " of %" PRId64 " (--resume goes on)",
                          o->max_seconds, r.final_step, p.max_steps);
        char *png = olmo_path_join(p.save_folder, "loss.png");
        if (png && metrics_plot(mt.jsonl_path, png, p.run_name[0] ? p.run_name : "training loss") == 0 &&
            olmo_file_exists(png))
            olmo_log_info("loss curve: %s", png);
        free(png);
        struct rusage ru;
        double rss = getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1024.0 : 0;   /* KiB on Linux */
        olmo_log_info("done: step %" PRId64 ", loss %.4f, %.0f tokens/s, peak memory %.0f MiB; checkpoint %s; "
                      "metrics %s", r.final_step, r.final_loss, r.tokens_per_s, rss, r.last_checkpoint,
                      mt.jsonl_path);
    }
    rc = 0;
out:
    if (have_metrics) metrics_close(&mt);
    free(idx);
    free(inputs);
    free(targets);
    free(s.ckpt_dir);
    free(s.weights_dir);
    train_model_free(m);
    trainer_plan_free(&p);
    olmo_log_level = saved_level;
    if (res) *res = r;
    return rc;
}
