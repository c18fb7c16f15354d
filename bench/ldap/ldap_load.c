/* ldap_load.c -- bounded LDAP load generator for bench/ldap/run.py (libldap + pthreads).
 *
 * The same client drives portico's ldap plugin and OpenLDAP's slapd: the search base, the bind DN
 * (a template with %d for the user number) and the password come from the arguments.
 *
 *   ldap_load -H ldap://127.0.0.1:PORT -m mail|cn|bind [-t THREADS] [-n OPS] [-s SECS]
 *             -b BASE -D 'uid=user%d,ou=people,dc=example,dc=test' -w PASSWORD
 *             [-u USERS] [-B BIND_USERS] [-d DOMAIN] [-f SUBSTRING] [-e EXPECTED] [-S SEED]
 *
 *   mail  search (mail=userN@DOMAIN), N random in 1..USERS; each must return exactly 1 entry
 *   cn    search (cn=*SUBSTRING*) (default *smi*); with -e, each must return EXPECTED entries
 *   bind  one simple bind per operation as the DN template with N random in 1..BIND_USERS
 *         (default USERS), on the thread's persistent connection
 *
 * Each of THREADS threads opens one connection and binds once (simple bind, as user number
 * thread+1, so that servers which answer only bound users answer); once all are bound the clock
 * starts (connect= in the output is how long that took, not counted), and each runs synchronous
 * operations back to back until OPS operations have been started by all threads together or SECS
 * seconds have passed. Searches are subtree searches of BASE asking for cn, mail and
 * telephoneNumber.
 *
 * Prints LDAP_LOAD_START when every connection is bound and the clock starts, then at the end:
 *   LDAP_LOAD mode=.. threads=.. ops=.. entries=.. errors=.. wall=..s rate=N ops/s
 *             p50=..ms p99=..ms max=..ms client_cpu=..s connect=..s
 * and the first error's text on stderr. Exit status 0 when there was no error, 1 otherwise.
 * Loopback URIs only.
 *
 * Build: gcc -O2 -Wall -pthread -o ldap_load ldap_load.c -lldap -llber   (run.py does this)
 */
#define LDAP_DEPRECATED 0
#include <ldap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define MAX_OPS 5000000 /* one latency slot per operation (40 MB at most) */

static const char *uri, *mode = "mail", *base, *dn_template, *password, *domain = "example.test";
static const char* substring = "smi";
static long total_ops = 200000, users = 10000, bind_users = 0, expected = -1;
static unsigned seed0 = 12;
static int threads = 8;
static double max_secs = 20, t_start;
static atomic_long next_op, done_ops, entries, errors;
static double* latency; /* seconds, by operation number; < 0: not done */
static atomic_int first_error_reported;
static pthread_barrier_t ready, go; /* connections made and bound before the clock starts */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void report_error(const char* what, int rc, const char* detail) {
  atomic_fetch_add(&errors, 1);
  if (atomic_exchange(&first_error_reported, 1) == 0)
    fprintf(stderr, "ldap_load: first error: %s: %s (%d)%s%s\n", what, ldap_err2string(rc), rc,
            detail ? ": " : "", detail ? detail : "");
}

static int simple_bind(LDAP* ld, long user) {
  char dn[512];
  snprintf(dn, sizeof dn, dn_template, (int)user);
  struct berval pw = {strlen(password), (char*)password};
  return ldap_sasl_bind_s(ld, dn, LDAP_SASL_SIMPLE, &pw, NULL, NULL, NULL);
}

static LDAP* connect_and_bind(long user) {
  LDAP* ld = NULL;
  int v3 = LDAP_VERSION3;
  int rc = ldap_initialize(&ld, uri);
  if (rc != LDAP_SUCCESS) {
    report_error("ldap_initialize", rc, uri);
    return NULL;
  }
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
  struct timeval tv = {10, 0};
  ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
  ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
  rc = simple_bind(ld, user);
  if (rc != LDAP_SUCCESS) {
    report_error("initial bind", rc, NULL);
    ldap_unbind_ext_s(ld, NULL, NULL);
    return NULL;
  }
  return ld;
}

static void* worker(void* arg) {
  long index = (long)arg;
  unsigned seed = seed0 * 2654435761u + (unsigned)index * 40503u + 1;
  char filter[256];
  char* attrs[] = {"cn", "mail", "telephoneNumber", NULL};
  struct timeval tv = {30, 0};
  int is_bind = !strcmp(mode, "bind"), is_cn = !strcmp(mode, "cn");
  long binders = bind_users > 0 ? bind_users : users;
  LDAP* ld = connect_and_bind(index % binders + 1);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&go);
  if (!ld) return NULL;
  if (is_cn) snprintf(filter, sizeof filter, "(cn=*%s*)", substring);
  for (;;) {
    long op = atomic_fetch_add(&next_op, 1);
    double t0 = now();
    if (op >= total_ops || t0 - t_start > max_secs) break;
    int rc;
    if (is_bind) {
      rc = simple_bind(ld, (long)(rand_r(&seed) % binders) + 1);
      if (rc != LDAP_SUCCESS) report_error("bind", rc, NULL);
    } else {
      if (!is_cn)
        snprintf(filter, sizeof filter, "(mail=user%ld@%s)", (long)(rand_r(&seed) % users) + 1,
                 domain);
      LDAPMessage* res = NULL;
      rc = ldap_search_ext_s(ld, base, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &tv, 0,
                             &res);
      if (rc == LDAP_SUCCESS) {
        long n = ldap_count_entries(ld, res);
        atomic_fetch_add(&entries, n);
        long want = is_cn ? expected : 1;
        if (want >= 0 && n != want) {
          char detail[320];
          snprintf(detail, sizeof detail, "%s returned %ld entries, expected %ld", filter, n, want);
          rc = LDAP_OTHER;
          report_error("search", LDAP_SUCCESS, detail);
        }
      } else {
        report_error("search", rc, filter);
      }
      if (res) ldap_msgfree(res);
    }
    if (rc == LDAP_SUCCESS) {
      atomic_fetch_add(&done_ops, 1);
      latency[op] = now() - t0;
    } else if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT) {
      break;
    }
  }
  ldap_unbind_ext_s(ld, NULL, NULL);
  return NULL;
}

static int by_value(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Sorts the done operations' latencies to the front; returns how many there are. */
static long sort_latencies(void) {
  long n = 0;
  for (long i = 0; i < total_ops; i++)
    if (latency[i] >= 0) latency[n++] = latency[i];
  qsort(latency, n, sizeof *latency, by_value);
  return n;
}

static double percentile_ms(long n, double p) {
  if (n == 0) return 0;
  long i = (long)(p * (n - 1) + 0.5);
  return latency[i] * 1000;
}

static void usage(const char* argv0) {
  fprintf(stderr,
          "usage: %s -H URI -m mail|cn|bind -b BASE -D DN_TEMPLATE(%%d) -w PASSWORD [-t THREADS]\n"
          "          [-n OPS] [-s SECS] [-u USERS] [-B BIND_USERS] [-d DOMAIN] [-f SUBSTRING]\n"
          "          [-e EXPECTED_CN_ENTRIES] [-S SEED]\n",
          argv0);
  exit(2);
}

int main(int argc, char** argv) {
  int opt;
  while ((opt = getopt(argc, argv, "H:m:t:n:s:b:D:w:u:B:d:f:e:S:")) != -1) {
    switch (opt) {
      case 'H':
        uri = optarg;
        break;
      case 'm':
        mode = optarg;
        break;
      case 't':
        threads = atoi(optarg);
        break;
      case 'n':
        total_ops = atol(optarg);
        break;
      case 's':
        max_secs = atof(optarg);
        break;
      case 'b':
        base = optarg;
        break;
      case 'D':
        dn_template = optarg;
        break;
      case 'w':
        password = optarg;
        break;
      case 'u':
        users = atol(optarg);
        break;
      case 'B':
        bind_users = atol(optarg);
        break;
      case 'd':
        domain = optarg;
        break;
      case 'f':
        substring = optarg;
        break;
      case 'e':
        expected = atol(optarg);
        break;
      case 'S':
        seed0 = (unsigned)atol(optarg);
        break;
      default:
        usage(argv[0]);
    }
  }
  if (!uri || !base || !dn_template || !password || optind != argc) usage(argv[0]);
  if (strcmp(mode, "mail") && strcmp(mode, "cn") && strcmp(mode, "bind")) usage(argv[0]);
  if (strncmp(uri, "ldap://127.", 11) && strncmp(uri, "ldap://[::1]", 12) &&
      strncmp(uri, "ldap://localhost", 16)) {
    fprintf(stderr, "ldap_load: loopback ldap:// URIs only\n");
    return 2;
  }
  /* the template must hold exactly one %d and no other conversion */
  const char* pct = strchr(dn_template, '%');
  if (!pct || pct[1] != 'd' || strchr(pct + 2, '%')) {
    fprintf(stderr, "ldap_load: -D needs exactly one %%d\n");
    return 2;
  }
  if (threads < 1 || threads > MAX_THREADS || users < 1 || total_ops < 1 || total_ops > MAX_OPS ||
      max_secs <= 0 || max_secs > 3600) {
    fprintf(stderr, "ldap_load: threads 1..%d, users >= 1, ops 1..%d, 0 < secs <= 3600\n",
            MAX_THREADS, MAX_OPS);
    return 2;
  }
  latency = malloc(total_ops * sizeof *latency);
  if (!latency) return 2;
  for (long i = 0; i < total_ops; i++)
    latency[i] = -1;
  pthread_t th[MAX_THREADS];
  pthread_barrier_init(&ready, NULL, threads + 1);
  pthread_barrier_init(&go, NULL, threads + 1);
  double t_connect = now();
  for (long i = 0; i < threads; i++)
    pthread_create(&th[i], NULL, worker, (void*)i);
  pthread_barrier_wait(&ready);
  t_start = now();
  t_connect = t_start - t_connect;
  printf("LDAP_LOAD_START\n"); /* for whoever measures the server: the timed part begins */
  fflush(stdout);
  pthread_barrier_wait(&go);
  for (int i = 0; i < threads; i++)
    pthread_join(th[i], NULL);
  double wall = now() - t_start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
  long ops = atomic_load(&done_ops);
  long n = sort_latencies();
  printf(
      "LDAP_LOAD mode=%s threads=%d ops=%ld entries=%ld errors=%ld wall=%.2fs rate=%.0f ops/s "
      "p50=%.2fms p99=%.2fms max=%.2fms client_cpu=%.2fs connect=%.2fs\n",
      mode, threads, ops, (long)atomic_load(&entries), (long)atomic_load(&errors), wall, ops / wall,
      percentile_ms(n, 0.50), percentile_ms(n, 0.99), n ? latency[n - 1] * 1000 : 0, cpu,
      t_connect);
  return atomic_load(&errors) ? 1 : 0;
}
