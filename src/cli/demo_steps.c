/* demo_steps.c — child-process steps of the main job, timed and metered (see demo_steps.h). */
#include "cli/demo_steps.h"
#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

double demo_rapl_joules(void) {
    /* top-level package domains only (intel-rapl:N, not its subzones intel-rapl:N:M); the AMD driver uses the
     * same interface. The counter wraps at max_energy_range_uj: steps are short enough that one wrap is handled */
    glob_t g;
    if (glob("/sys/class/powercap/intel-rapl:[0-9]*/energy_uj", 0, NULL, &g) != 0) return -1;
    double j = 0;
    int n = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        if (strchr(strstr(g.gl_pathv[i], "rapl:") + 5, ':')) continue;
        FILE *f = fopen(g.gl_pathv[i], "r");
        unsigned long long uj;
        if (f && fscanf(f, "%llu", &uj) == 1) { j += (double)uj * 1e-6; n++; }
        if (f) fclose(f);
    }
    globfree(&g);
    return n ? j : -1;
}

int demo_steps_init(struct demo_steps *d, const char *script_path) {
    memset(d, 0, sizeof *d);
    ssize_t n = readlink("/proc/self/exe", d->self, sizeof d->self - 1);
    if (n <= 0) return olmo_err("/proc/self/exe: cannot find this executable (%s)", strerror(errno));
    d->self[n] = 0;
    d->script = fopen(script_path, "w");
    if (!d->script) return olmo_err("%s: cannot create (%s)", script_path, strerror(errno));
    fprintf(d->script, "#!/bin/sh\n# The commands `olmo demo` ran, in order; each runs alone on its inputs.\nset -e\n");
    d->t0 = olmo_now();
    return 0;
}

void demo_steps_free(struct demo_steps *d) {
    for (int i = 0; i < d->n; i++) free(d->step[i].cmdline);
    if (d->script) fclose(d->script);
    d->script = NULL;
}

/* Appends s to b, single-quoted when it has characters a shell would interpret. */
static void quote_append(char **b, size_t *n, size_t *cap, const char *s) {
    int plain = *s != 0;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=,:+@%", *p)) plain = 0;
    size_t need = *n + 4 * strlen(s) + 4;
    if (need > *cap) {
        *cap = 2 * need;
        char *nb = olmo_realloc(*b, *cap);
        if (!nb) return;
        *b = nb;
    }
    if (*n) (*b)[(*n)++] = ' ';
    if (plain) {
        memcpy(*b + *n, s, strlen(s));
        *n += strlen(s);
    } else {
        (*b)[(*n)++] = '\'';
        for (const char *p = s; *p; p++) {
            if (*p == '\'') { memcpy(*b + *n, "'\\''", 4); *n += 4; }
            else (*b)[(*n)++] = *p;
        }
        (*b)[(*n)++] = '\'';
    }
    (*b)[*n] = 0;
}

static struct demo_step *new_step(struct demo_steps *d, const char *name) {
    if (d->n == DEMO_MAX_STEPS) { olmo_err("demo: more than %d steps", DEMO_MAX_STEPS); return NULL; }
    struct demo_step *s = &d->step[d->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->joules = demo_rapl_joules();
    s->wall_s = olmo_now();
    return s;
}

static void finish_step(struct demo_step *s, double cpu_s) {
    s->wall_s = olmo_now() - s->wall_s;
    s->cpu_s = cpu_s;
    s->done = 1;
    double j = demo_rapl_joules();
    s->joules = (s->joules >= 0 && j >= s->joules) ? j - s->joules : -1;
}

int demo_run(struct demo_steps *d, const char *name, const char *const argv[], const char *stdout_path) {
    size_t n = 0, cap = 0;
    char *line = NULL;
    quote_append(&line, &n, &cap, "olmo");
    for (int i = 0; argv[i]; i++) quote_append(&line, &n, &cap, argv[i]);
    if (!line) return -1;
    fprintf(stderr, "\n$ %s%s%s\n", line, stdout_path ? " > " : "", stdout_path ? stdout_path : "");
    fprintf(d->script, "%s%s%s\n", line, stdout_path ? " > " : "", stdout_path ? stdout_path : "");
    fflush(d->script);
    struct demo_step *s = new_step(d, name);
    if (!s) { free(line); return -1; }
    s->cmdline = line;

    int argc = 0;
    while (argv[argc]) argc++;
    char **av = olmo_calloc((size_t)argc + 2, sizeof *av);
    if (!av) return -1;
    av[0] = d->self;
    for (int i = 0; i < argc; i++) av[i + 1] = (char *)argv[i];
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        if (stdout_path) {
            int fd = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd < 0 || dup2(fd, 1) < 0) _exit(126);
            close(fd);
        }
        execv(av[0], av);
        _exit(127);
    }
    free(av);
    if (pid < 0) return olmo_err("step %s: cannot start a process (%s)", name, strerror(errno));
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0)
        if (errno != EINTR) return olmo_err("step %s: wait failed (%s)", name, strerror(errno));
    finish_step(s, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
                       ru.ru_stime.tv_usec * 1e-6);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return olmo_err("step %s failed (%s %d): %s", name, WIFEXITED(status) ? "exit status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), line);
    return 0;
}

static double self_cpu(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

struct demo_step *demo_begin(struct demo_steps *d, const char *name, const char *what) {
    fprintf(stderr, "\n# %s\n", what);
    struct demo_step *s = new_step(d, name);
    if (s) s->cpu_s = self_cpu();
    return s;
}

void demo_end(struct demo_steps *d, struct demo_step *s) {
    (void)d;
    if (s) finish_step(s, self_cpu() - s->cpu_s);
}
