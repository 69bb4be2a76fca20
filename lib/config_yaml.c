/* config_yaml.c - stage 1 of config loading: libyaml events into a node tree with marks.
 * Reports through config_errors.c only (dependency order: config_internal.h). */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"

#define MAX_NESTING 64

/* A stack frame: an open sequence or mapping. */
struct frame {
    struct cw_ynode *node;
    bool want_value; /* mapping: a key was read, its value comes next */
};

void cw_ynode_free(struct cw_ynode *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n; i++) {
        if (node->keys)
            cw_ynode_free(node->keys[i]);
        cw_ynode_free(node->items[i]);
    }
    free(node->keys);
    free(node->items);
    free(node->text);
    free(node);
}

const struct cw_ynode *cw_ymap_get(const struct cw_ynode *map, const char *name)
{
    if (!map || map->kind != CW_YMAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->text, name) == 0)
            return map->items[i];
    return NULL;
}

bool cw_ynode_is_null(const struct cw_ynode *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    if (!node || node->kind != CW_YSCALAR || !node->plain)
        return false;
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strcmp(node->text, nulls[i]) == 0)
            return true;
    return false;
}

static struct cw_ynode *node_new(enum cw_ykind kind, const yaml_mark_t *mark)
{
    struct cw_ynode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = n->kline = (unsigned)mark->line + 1;
    n->col = n->kcol = (unsigned)mark->column + 1;
    return n;
}

/* Append child (and, for a mapping, its key slot) to parent. Returns 0 or -1 (ENOMEM). */
static int node_append(struct cw_ynode *parent, struct cw_ynode *child, bool as_key)
{
    if (parent->kind == CW_YMAP && !as_key) {
        /* the value of the key appended last */
        struct cw_ynode *key = parent->keys[parent->n - 1];
        parent->items[parent->n - 1] = child;
        child->kline = key->line;
        child->kcol = key->col;
        return 0;
    }
    if (parent->n == parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        struct cw_ynode **items = realloc(parent->items, cap * sizeof *items);
        if (!items)
            return -1;
        parent->items = items;
        if (parent->kind == CW_YMAP) {
            struct cw_ynode **keys = realloc(parent->keys, cap * sizeof *keys);
            if (!keys)
                return -1;
            parent->keys = keys;
        }
        parent->cap = cap;
    }
    if (parent->kind == CW_YMAP) {
        parent->keys[parent->n] = child;
        parent->items[parent->n] = NULL;
    } else {
        parent->items[parent->n] = child;
    }
    parent->n++;
    return 0;
}

/* Anchors, tags and aliases are not part of the config language: they would let one
 * node appear at two key paths, which makes errors ambiguous. */
static int check_unsupported(const yaml_event_t *ev, struct cw_errs *errs)
{
    const yaml_char_t *anchor = NULL, *tag = NULL;
    int implicit = 1;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        cw_errs_at(errs, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                   "YAML aliases (*%s) are not supported; repeat the value instead",
                   (const char *)ev->data.alias.anchor);
        return -1;
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        implicit = ev->data.scalar.plain_implicit || ev->data.scalar.quoted_implicit;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        implicit = ev->data.sequence_start.implicit;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        implicit = ev->data.mapping_start.implicit;
        break;
    default:
        return 0;
    }
    if (anchor) {
        cw_errs_at(errs, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                   "YAML anchors (&%s) are not supported", (const char *)anchor);
        return -1;
    }
    if (tag && !implicit) {
        cw_errs_at(errs, (unsigned)ev->start_mark.line + 1, (unsigned)ev->start_mark.column + 1,
                   "YAML tags (%s) are not supported", (const char *)tag);
        return -1;
    }
    return 0;
}

int cw_yaml_parse(const char *buf, size_t len, struct cw_ynode **root, struct cw_errs *errs)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct frame stack[MAX_NESTING];
    size_t depth = 0;
    struct cw_ynode *top = NULL;
    unsigned documents = 0;
    bool done = false;

    *root = NULL;
    if (!yaml_parser_initialize(&parser)) {
        cw_errs_at(errs, 0, 0, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            const yaml_mark_t *m = &parser.problem_mark;
            cw_errs_at(errs, (unsigned)m->line + 1, (unsigned)m->column + 1, "invalid YAML: %s%s%s",
                       parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
                       parser.context ? parser.context : "");
            goto fail;
        }
        if (check_unsupported(&ev, errs) < 0)
            goto fail_event;

        struct cw_ynode *node = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                cw_errs_at(errs, (unsigned)ev.start_mark.line + 1,
                           (unsigned)ev.start_mark.column + 1,
                           "only one YAML document is allowed in a config file");
                goto fail_event;
            }
            break;
        case YAML_SCALAR_EVENT:
            node = node_new(CW_YSCALAR, &ev.start_mark);
            if (!node)
                goto nomem;
            node->len = ev.data.scalar.length;
            node->text = malloc(node->len + 1);
            if (!node->text) {
                cw_ynode_free(node);
                goto nomem;
            }
            memcpy(node->text, ev.data.scalar.value, node->len);
            node->text[node->len] = '\0';
            node->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            break;
        case YAML_SEQUENCE_START_EVENT:
            node = node_new(CW_YSEQ, &ev.start_mark);
            if (!node)
                goto nomem;
            break;
        case YAML_MAPPING_START_EVENT:
            node = node_new(CW_YMAP, &ev.start_mark);
            if (!node)
                goto nomem;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }

        if (node) {
            if (depth == 0) {
                top = node;
            } else {
                struct frame *f = &stack[depth - 1];
                bool as_key = f->node->kind == CW_YMAP && !f->want_value;
                if (as_key && node->kind != CW_YSCALAR) {
                    cw_errs_at(errs, node->line, node->col, "mapping keys must be plain scalars");
                    cw_ynode_free(node);
                    goto fail_event;
                }
                if (node_append(f->node, node, as_key) < 0) {
                    cw_ynode_free(node);
                    goto nomem;
                }
                if (f->node->kind == CW_YMAP)
                    f->want_value = as_key;
            }
            if (node->kind != CW_YSCALAR) {
                if (depth == MAX_NESTING) {
                    cw_errs_at(errs, node->line, node->col, "nesting deeper than %d levels",
                               MAX_NESTING);
                    goto fail_event;
                }
                stack[depth].node = node;
                stack[depth].want_value = false;
                depth++;
            }
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    *root = top;
    return 0;

nomem:
    cw_errs_at(errs, 0, 0, "out of memory");
fail_event:
    yaml_event_delete(&ev);
fail:
    yaml_parser_delete(&parser);
    cw_ynode_free(top);
    return -1;
}
