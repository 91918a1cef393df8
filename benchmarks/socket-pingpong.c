/* socket-pingpong.c: the floor under an isolated task's cost, with no GLib
 * and no gather: a 16-byte round trip on a socketpair between two
 * processes, as a median and a p99 over many round trips.
 *
 *   socket-pingpong [ROUND_TRIPS]
 *
 * Run it as is (the scheduler puts the processes where it likes, usually
 * on two CPUs), then under `taskset -c 0` (both on one CPU): the
 * difference is what waking a process on another CPU costs here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_usec (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Reads or writes exactly @size bytes; 0 on end of file or error. */
static int
transfer (int    fd,
          char  *buffer,
          size_t size,
          int    writing)
{
  size_t done = 0;

  while (done < size)
    {
      ssize_t n = writing ? write (fd, buffer + done, size - done)
                          : read (fd, buffer + done, size - done);

      if (n <= 0)
        return 0;
      done += (size_t) n;
    }

  return 1;
}

int
main (int   argc,
      char *argv[])
{
  long n = argc > 1 ? atol (argv[1]) : 20000;
  char message[16] = "ping";
  double *times;
  int sv[2];
  pid_t pid;

  if (n < 1 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      fprintf (stderr, "usage: socket-pingpong [ROUND_TRIPS]\n");
      return 2;
    }

  pid = fork ();
  if (pid < 0)
    return 1;
  if (pid == 0)
    {
      /* The echo side. */
      close (sv[0]);
      while (transfer (sv[1], message, sizeof message, 0) &&
             transfer (sv[1], message, sizeof message, 1))
        ;
      _exit (0);
    }
  close (sv[1]);

  times = malloc (sizeof (double) * (size_t) n);
  if (times == NULL)
    return 1;

  for (long i = 0; i < n; i++)
    {
      double start = now_usec ();

      if (!transfer (sv[0], message, sizeof message, 1) ||
          !transfer (sv[0], message, sizeof message, 0))
        return 1;
      times[i] = now_usec () - start;
    }

  close (sv[0]);
  waitpid (pid, NULL, 0);

  qsort (times, (size_t) n, sizeof (double), compare_doubles);
  printf ("16-byte round trips on a socketpair: %ld, p50 %.1f µs, p99 %.1f µs\n",
          n, times[n / 2], times[(size_t) (n * 0.99)]);
  free (times);

  return 0;
}
