/* demo_steps.h — runs the main job's steps as `olmo` commands in child processes, so every step is exactly a
 * command a user can run alone: each is printed before it runs, appended to OUT/commands.sh, timed (wall and the
 * CPU time of the child) and, where the machine exposes RAPL, metered in joules. */
#ifndef OLMO_CLI_DEMO_STEPS_H
#define OLMO_CLI_DEMO_STEPS_H

#include <stdio.h>

#define DEMO_MAX_STEPS 32

struct demo_step {
    char name[32];
    char *cmdline;          /* shell-quoted, as printed (owned) */
    double wall_s, cpu_s;   /* cpu_s: user + system time of the step (children, or this process for in-process) */
    double joules;          /* RAPL energy over the step, or -1 when the machine does not expose it */
    int done;               /* finished: wall_s, cpu_s and joules are the step's (else wall_s is its start) */
};

struct demo_steps {
    struct demo_step step[DEMO_MAX_STEPS];
    int n;
    char self[4096];        /* this executable, run for every step */
    FILE *script;           /* OUT/commands.sh */
    double t0;
};

int demo_steps_init(struct demo_steps *d, const char *script_path);
void demo_steps_free(struct demo_steps *d);

/* Runs `olmo ARGV...` (argv[0] is the subcommand; NULL-terminated) and waits. The child's stdout goes to
 * stdout_path when given (e.g. a --json result), else to this process's stdout; stderr (progress) is shown.
 * Fails with the step's name and exit status when the command fails. */
int demo_run(struct demo_steps *d, const char *name, const char *const argv[], const char *stdout_path);

/* Brackets a step done inside this process (gathering the corpus, writing the report). */
struct demo_step *demo_begin(struct demo_steps *d, const char *name, const char *what);
void demo_end(struct demo_steps *d, struct demo_step *s);

/* Energy counter in joules (sum over the RAPL package domains), or -1 when unavailable. */
double demo_rapl_joules(void);

#endif
