/* kafka_destroy.c - librdkafka calls that may block without bound (destroying a handle or a
 * mock cluster, the last unassign of a closing consumer), made within a bounded time */
#include "kafka_destroy.h"

#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "wall_clock.h"

/* Shared by the caller and the thread that runs the call; the last one to let go frees it. */
struct bounded_call {
    void (*fn)(void *arg);
    unsigned char arg[CW_CALL_ARG_MAX]; /* the caller's argument, copied: it may return first */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int refs;
};

static void call_release(struct bounded_call *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (!last)
        return;
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

static void *call_thread(void *arg)
{
    struct bounded_call *j = arg;
    j->fn(j->arg);
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    call_release(j);
    return NULL;
}

bool cw_call_within(void (*fn)(void *arg), const void *arg, size_t size, int timeout_ms)
{
    struct bounded_call *j = size <= CW_CALL_ARG_MAX ? calloc(1, sizeof *j) : NULL;
    pthread_condattr_t ca;
    if (!j || pthread_condattr_init(&ca) != 0) {
        free(j);
        fn((void *)arg); /* no thread to spare: called inline */
        return true;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    j->fn = fn;
    memcpy(j->arg, arg, size);
    j->refs = 2;

    pthread_t t;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &ta, call_thread, j);
    pthread_attr_destroy(&ta);
    if (rc != 0) {
        j->refs = 1;
        call_release(j);
        fn((void *)arg);
        return true;
    }

    struct timespec deadline = cw_mono_deadline(timeout_ms);
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &deadline) == 0)
        ;
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    call_release(j);
    return done;
}

struct client_destroy {
    rd_kafka_t *rk;
    int flags;
};

static void destroy_client(void *arg)
{
    const struct client_destroy *d = arg;
    rd_kafka_destroy_flags(d->rk, d->flags);
}

static void destroy_mock_cluster(void *arg)
{
    rd_kafka_mock_cluster_destroy(*(rd_kafka_mock_cluster_t **)arg);
}

static bool warn_unless(bool done, const char *what, int timeout_ms)
{
    if (!done)
        cw_log_warn("kafka client did not shut down in time; left to the process exit",
                    "client=%s timeout_ms=%d", what, timeout_ms);
    return done;
}

bool cw_kafka_destroy_within(rd_kafka_t *rk, int flags, int timeout_ms, const char *what)
{
    if (!rk)
        return true;
    struct client_destroy d = {.rk = rk, .flags = flags};
    return warn_unless(cw_call_within(destroy_client, &d, sizeof d, timeout_ms), what, timeout_ms);
}

bool cw_mock_cluster_destroy_within(rd_kafka_mock_cluster_t *mcluster, int timeout_ms)
{
    if (!mcluster)
        return true;
    return warn_unless(cw_call_within(destroy_mock_cluster, &mcluster, sizeof mcluster, timeout_ms),
                       "mock cluster", timeout_ms);
}

static const void *kept[64];
static size_t n_kept;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

void cw_keep_until_exit(const void *p)
{
    pthread_mutex_lock(&kept_mu);
    if (p && n_kept < sizeof kept / sizeof kept[0])
        kept[n_kept++] = p;
    pthread_mutex_unlock(&kept_mu);
}
