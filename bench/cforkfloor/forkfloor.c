/*
 * forkfloor.c is the C fork/exec floor of the local benchmarks: it runs
 * PATH ARG (ARG = the job number, or -a's) N times, P at once, with
 * posix_spawn (vfork and exec on glibc) and waitpid, inheriting stdin,
 * stdout, stderr and the environment, from P threads that each start a
 * process and wait for it (one thread alone is descheduled on a loaded
 * machine with nothing left to start the next): nothing a tool that starts
 * one process per job could leave out. benchrun compiles it with the
 * system's C compiler.
 *
 *   forkfloor -n 5000 -p 2 [-path /bin/true] [-arg ARG]
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static void usage(void) {
	fprintf(stderr, "usage: forkfloor -n JOBS -p PARALLEL [-path PROGRAM] [-arg ARG]\n");
	exit(2);
}

static long jobs = 1000;
static const char *path = "/bin/true", *arg = NULL;
static atomic_long next_job, failed;
static atomic_int spawn_error;

static void *worker(void *unused) {
	(void)unused;
	char num[32];
	for (;;) {
		long i = atomic_fetch_add(&next_job, 1) + 1;
		if (i > jobs || atomic_load(&spawn_error))
			return NULL;
		snprintf(num, sizeof num, "%ld", i);
		char *child[] = {(char *)path, (char *)(arg ? arg : num), NULL};
		pid_t pid;
		int err = posix_spawn(&pid, path, NULL, NULL, child, environ);
		if (err != 0) {
			fprintf(stderr, "forkfloor: error: spawn %s: %s\n", path, strerror(err));
			atomic_store(&spawn_error, 1);
			return NULL;
		}
		int status;
		while (waitpid(pid, &status, 0) < 0) {
			if (errno != EINTR) {
				perror("forkfloor: error: waitpid");
				atomic_store(&spawn_error, 1);
				return NULL;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			atomic_fetch_add(&failed, 1);
	}
}

int main(int argc, char **argv) {
	long workers = 2;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "-n") == 0)
			jobs = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-p") == 0)
			workers = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-path") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "-arg") == 0)
			arg = argv[++i];
		else
			usage();
	}
	if (jobs < 0 || workers < 1 || workers > 4096)
		usage();
	pthread_t *threads = calloc(workers, sizeof *threads);
	if (threads == NULL) {
		perror("forkfloor: error");
		return 1;
	}
	for (long w = 0; w < workers; w++) {
		int err = pthread_create(&threads[w], NULL, worker, NULL);
		if (err != 0) {
			fprintf(stderr, "forkfloor: error: thread: %s\n", strerror(err));
			return 1;
		}
	}
	for (long w = 0; w < workers; w++)
		pthread_join(threads[w], NULL);
	if (atomic_load(&spawn_error))
		return 1;
	if (failed > 0) {
		fprintf(stderr, "forkfloor: error: %ld of %ld runs of %s failed\n", (long)failed, jobs, path);
		return 1;
	}
	return 0;
}
