/* hashrate.c -- a password hash's own speed on this machine, for bench/ldap/run.py (libxcrypt).
 *
 *   hashrate make PASSWORD [PREFIX]          prints crypt(PASSWORD, a new setting for PREFIX) with
 *                                             libxcrypt's default cost (PREFIX "$y$": yescrypt,
 *                                             "$6$": sha512-crypt); what portico's
 *                                             `user add --password-hash` and slapd's {CRYPT} take
 *   hashrate rate HASH PASSWORD THREADS SECS [MAX]
 *                                             verifies PASSWORD against HASH with crypt_rn in
 *                                             THREADS threads, back to back, until SECS seconds
 *                                             (or MAX verifications) have passed; prints
 *   HASH_RATE threads=N verifications=N wall=..s rate=N/s per_verification=..ms
 *
 * Every verification must succeed (exit status 1 otherwise). Nothing here touches the network.
 * Build: gcc -O2 -Wall -pthread -o hashrate hashrate.c -lcrypt   (run.py does this)
 */
#include <crypt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *hash, *password;
static double max_secs, t_start;
static long max_count;
static atomic_long started, done, failed;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void* worker(void* arg) {
  (void)arg;
  struct crypt_data* data = calloc(1, sizeof *data);
  if (!data) return NULL;
  while (atomic_fetch_add(&started, 1) < max_count && now() - t_start < max_secs) {
    const char* out = crypt_rn(password, hash, data, sizeof *data);
    if (out && strcmp(out, hash) == 0)
      atomic_fetch_add(&done, 1);
    else
      atomic_fetch_add(&failed, 1);
  }
  free(data);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "make")) {
    const char* prefix = argc > 3 ? argv[3] : "$y$";
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    memset(&data, 0, sizeof data);
    if (!crypt_gensalt_rn(prefix, 0, NULL, 0, setting, sizeof setting)) {
      fprintf(stderr, "hashrate: crypt_gensalt_rn(%s) failed\n", prefix);
      return 1;
    }
    const char* out = crypt_rn(argv[2], setting, &data, sizeof data);
    if (!out || out[0] == '*') {
      fprintf(stderr, "hashrate: crypt_rn failed\n");
      return 1;
    }
    printf("%s\n", out);
    return 0;
  }
  if (argc < 6 || strcmp(argv[1], "rate")) {
    fprintf(stderr, "usage: %s make PASSWORD [PREFIX] | rate HASH PASSWORD THREADS SECS [MAX]\n",
            argv[0]);
    return 2;
  }
  hash = argv[2];
  password = argv[3];
  int threads = atoi(argv[4]);
  max_secs = atof(argv[5]);
  max_count = argc > 6 ? atol(argv[6]) : 1000000;
  if (threads < 1 || threads > 64 || max_secs <= 0 || max_secs > 600 || max_count < 1) {
    fprintf(stderr, "hashrate: threads 1..64, 0 < secs <= 600\n");
    return 2;
  }
  pthread_t th[64];
  t_start = now();
  for (int i = 0; i < threads; i++)
    pthread_create(&th[i], NULL, worker, NULL);
  for (int i = 0; i < threads; i++)
    pthread_join(th[i], NULL);
  double wall = now() - t_start;
  long n = atomic_load(&done);
  printf(
      "HASH_RATE threads=%d verifications=%ld failed=%ld wall=%.2fs rate=%.1f/s "
      "per_verification=%.2fms\n",
      threads, n, (long)atomic_load(&failed), wall, n / wall, n ? wall * 1000 * threads / n : 0);
  return atomic_load(&failed) || n == 0 ? 1 : 0;
}
