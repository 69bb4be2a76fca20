/* kafka_destroy.h - librdkafka calls that may block without bound, made within a bounded time
 * (internal to core) */
#ifndef CHURNWATCH_KAFKA_DESTROY_H
#define CHURNWATCH_KAFKA_DESTROY_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <stddef.h>

#define CW_CALL_ARG_MAX 64 /* bytes of argument cw_call_within copies */

/*
 * fn(a copy of the size bytes at arg), in a thread of its own, waiting at most timeout_ms
 * for it to return: true when it did. When it did not, it goes on in its thread, and what
 * it works on (pointers in arg) must be left alone until the process exits. With no
 * thread to spare (or size > CW_CALL_ARG_MAX) fn(arg) is called inline.
 */
bool cw_call_within(void (*fn)(void *arg), const void *arg, size_t size, int timeout_ms);

/*
 * rd_kafka_destroy_flags(rk, flags), waiting at most timeout_ms for it. librdkafka 2.0.2
 * can block without bound in destroy (a broker thread still referenced after the broker
 * went away, seen with the mock cluster under load), which would turn a bounded shutdown
 * into a hang. The destroy runs in a thread of its own; when it has not returned in time
 * a warning naming `what` is logged, the handle is left to finish (or to the process
 * exit) and false is returned. rk is given up either way. rk NULL: true.
 */
bool cw_kafka_destroy_within(rd_kafka_t *rk, int flags, int timeout_ms, const char *what);

/*
 * rd_kafka_mock_cluster_destroy(mcluster), waiting at most timeout_ms for it, the same way:
 * it waits without bound for the cluster's thread to take its terminate request and to
 * exit. false: it did not return in time (warned); the handle the cluster lives in must
 * then not be destroyed (cw_keep_until_exit). mcluster NULL: true.
 */
bool cw_mock_cluster_destroy_within(rd_kafka_mock_cluster_t *mcluster, int timeout_ms);

/*
 * Keep p, never freed, reachable until the process exits: a librdkafka handle that cannot
 * be destroyed safely (see cw_consumer_close), and the queue and memory a call that did not
 * return still uses, are left to the exit on purpose, and stay referenced so that
 * LeakSanitizer does not report them as lost (a call that returns late would otherwise
 * drop the last reference). At most 64 pointers are kept; later ones are merely left.
 */
void cw_keep_until_exit(const void *p);

#endif /* CHURNWATCH_KAFKA_DESTROY_H */
