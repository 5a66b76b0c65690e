/* peak_rss CMD [ARG...]: runs CMD (stdout and stderr to /dev/null), prints
 * the child's peak resident set size in kB (wait4 rusage ru_maxrss) on
 * stdout, and exits with the child's status.  A C wrapper on purpose: the
 * kernel counts the forked parent image before exec in ru_maxrss, so a
 * Python wrapper would report its own ~10 MB.
 *
 * Build: cc -O2 -o peak_rss peak_rss.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CMD [ARG...]\n", argv[0]);
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[1], argv + 1);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) {
        perror("wait4");
        return 1;
    }
    printf("%ld\n", ru.ru_maxrss);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
