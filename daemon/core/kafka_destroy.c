/* kafka_destroy.c - destroying a librdkafka handle, or a mock cluster, within a bounded time */
#include "kafka_destroy.h"

#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "wall_clock.h"

/* Shared by the caller and the destroying thread; the last one to let go frees it. */
struct destroy_job {
    rd_kafka_t *rk;                    /* a handle to destroy with flags, or */
    rd_kafka_mock_cluster_t *mcluster; /* a mock cluster to destroy */
    int flags;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int refs;
};

static void job_release(struct destroy_job *j)
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

static void destroy_now(const struct destroy_job *j)
{
    if (j->mcluster)
        rd_kafka_mock_cluster_destroy(j->mcluster);
    else
        rd_kafka_destroy_flags(j->rk, j->flags);
}

static void *destroy_thread(void *arg)
{
    struct destroy_job *j = arg;
    destroy_now(j);
    pthread_mutex_lock(&j->mu);
    j->done = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    job_release(j);
    return NULL;
}

/* Runs job's destroy in a thread of its own, waiting at most timeout_ms for it; `what`
 * names it in the warning when it does not return in time. */
static bool destroy_within(const struct destroy_job *job, int timeout_ms, const char *what)
{
    struct destroy_job *j = calloc(1, sizeof *j);
    pthread_condattr_t ca;
    if (!j || pthread_condattr_init(&ca) != 0) {
        free(j);
        destroy_now(job); /* no thread to spare: destroy inline */
        return true;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&j->mu, NULL);
    j->rk = job->rk;
    j->mcluster = job->mcluster;
    j->flags = job->flags;
    j->refs = 2;

    pthread_t t;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &ta, destroy_thread, j);
    pthread_attr_destroy(&ta);
    if (rc != 0) {
        j->refs = 1;
        job_release(j);
        destroy_now(job);
        return true;
    }

    struct timespec deadline = cw_mono_deadline(timeout_ms);
    pthread_mutex_lock(&j->mu);
    while (!j->done && pthread_cond_timedwait(&j->cv, &j->mu, &deadline) == 0)
        ;
    bool done = j->done;
    pthread_mutex_unlock(&j->mu);
    if (!done)
        cw_log_warn("kafka client did not shut down in time; left to the process exit",
                    "client=%s timeout_ms=%d", what, timeout_ms);
    job_release(j);
    return done;
}

bool cw_kafka_destroy_within(rd_kafka_t *rk, int flags, int timeout_ms, const char *what)
{
    if (!rk)
        return true;
    return destroy_within(&(struct destroy_job){.rk = rk, .flags = flags}, timeout_ms, what);
}

bool cw_mock_cluster_destroy_within(rd_kafka_mock_cluster_t *mcluster, int timeout_ms)
{
    if (!mcluster)
        return true;
    return destroy_within(&(struct destroy_job){.mcluster = mcluster}, timeout_ms, "mock cluster");
}

static rd_kafka_t *kept[64];
static size_t n_kept;
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;

void cw_kafka_keep_until_exit(rd_kafka_t *rk)
{
    pthread_mutex_lock(&kept_mu);
    if (rk && n_kept < sizeof kept / sizeof kept[0])
        kept[n_kept++] = rk;
    pthread_mutex_unlock(&kept_mu);
}
