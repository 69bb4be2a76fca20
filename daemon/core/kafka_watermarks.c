/* kafka_watermarks.c - a partition's log start and end asked of its leader, bounded in time
 * even while no broker answers */
#include "kafka.h"

#include "wall_clock.h"

/* The offset of topic/partition at logical offset which (RD_KAFKA_OFFSET_BEGINNING or
 * _END): ListOffsets through rd_kafka_offsets_for_times, whose wait for the reply keeps to
 * its timeout in every librdkafka release. */
static rd_kafka_resp_err_t list_offset(rd_kafka_t *rk, const char *topic, int32_t partition,
                                       int64_t which, int timeout_ms, int64_t *out)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition)->offset = which;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(rk, list, timeout_ms);
    if (!e)
        e = list->elems[0].err;
    if (!e)
        *out = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return e;
}

rd_kafka_resp_err_t cw_kafka_watermarks(rd_kafka_t *rk, const char *topic, int32_t partition,
                                        int64_t *lo, int64_t *hi, int timeout_ms)
{
    int64_t end_ms = cw_mono_ms() + timeout_ms;
    if (lo) {
        rd_kafka_resp_err_t e =
            list_offset(rk, topic, partition, RD_KAFKA_OFFSET_BEGINNING, timeout_ms, lo);
        if (e)
            return e;
    }
    int64_t left = end_ms - cw_mono_ms();
    if (left <= 0)
        return RD_KAFKA_RESP_ERR__TIMED_OUT;
    return list_offset(rk, topic, partition, RD_KAFKA_OFFSET_END, (int)left, hi);
}
