/* kafka_mock.c - librdkafka's in-process mock cluster, for --embedded-kafka and tests */
#include "kafka.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_destroy.h"
#include "log.h"

#define DESTROY_MS 5000 /* bound on destroying the cluster, then its handle */

struct cw_mock_kafka {
    rd_kafka_t *rk; /* the dedicated handle the cluster lives in */
    rd_kafka_mock_cluster_t *mcluster;
    char *bootstrap;
};

cw_mock_kafka *cw_mock_kafka_start(int n_brokers, const char *const *topics, size_t n_topics,
                                   int partitions, char *err, size_t errsize)
{
    char rderr[512];
    rd_kafka_conf_t *conf = NULL;
    cw_mock_kafka *m = NULL;

    if (n_brokers < 1 || partitions < 1) {
        snprintf(err, errsize, "mock kafka: need at least one broker and one partition");
        return NULL;
    }
    m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errsize, "mock kafka: out of memory");
        return NULL;
    }
    conf = rd_kafka_conf_new();
    /* The handle never connects anywhere: it only hosts the cluster's thread. */
    if (rd_kafka_conf_set(conf, "client.id", "churnwatch-mock", rderr, sizeof rderr) ||
        rd_kafka_conf_set(conf, "log_level", "3", rderr, sizeof rderr)) {
        snprintf(err, errsize, "mock kafka: %s", rderr);
        goto fail;
    }
    m->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr);
    if (!m->rk) {
        snprintf(err, errsize, "mock kafka: %s", rderr);
        goto fail;
    }
    conf = NULL; /* owned by m->rk now */
    m->mcluster = rd_kafka_mock_cluster_new(m->rk, n_brokers);
    if (!m->mcluster) {
        snprintf(err, errsize, "mock kafka: cannot create a cluster of %d brokers", n_brokers);
        goto fail;
    }
    for (size_t i = 0; i < n_topics; i++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m->mcluster, topics[i], partitions, 1);
        if (e) {
            snprintf(err, errsize, "mock kafka: create topic %s: %s", topics[i],
                     rd_kafka_err2str(e));
            goto fail;
        }
    }
    m->bootstrap = strdup(rd_kafka_mock_cluster_bootstraps(m->mcluster));
    if (!m->bootstrap) {
        snprintf(err, errsize, "mock kafka: out of memory");
        goto fail;
    }
    cw_log_info("mock kafka started", "brokers=%d bootstrap=%s topics=%zu partitions=%d", n_brokers,
                m->bootstrap, n_topics, partitions);
    return m;

fail:
    if (conf)
        rd_kafka_conf_destroy(conf);
    cw_mock_kafka_stop(m);
    return NULL;
}

const char *cw_mock_kafka_bootstrap(const cw_mock_kafka *m)
{
    return m->bootstrap;
}

struct rd_kafka_mock_cluster_s *cw_mock_kafka_cluster(cw_mock_kafka *m)
{
    return m->mcluster;
}

void cw_mock_kafka_stop(cw_mock_kafka *m)
{
    if (!m)
        return;
    /* The cluster's thread works in m->rk: a cluster that did not stop in time keeps it. */
    if (cw_mock_cluster_destroy_within(m->mcluster, DESTROY_MS))
        cw_kafka_destroy_within(m->rk, 0, DESTROY_MS, "mock cluster's handle");
    else
        cw_keep_until_exit(m->rk);
    free(m->bootstrap);
    free(m);
}
