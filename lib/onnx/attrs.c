/*
 * Op types, versions and attributes as the imported opset defines them.
 *
 * Policy: strict. An attribute the imported op version does not define
 * (e.g. dilations on AveragePool before version 19, ceil_mode on MaxPool
 * before 10) is refused rather than ignored, because ignoring it would run
 * a different computation than the file describes; an attribute of the
 * wrong type (strides as INT) is refused too.
 */
#include <string.h>

#include "onnx/graph.h"
#include "ops/desc.h"
#include "ops/op.h"
#include "runtime/error.h"

static const cp_op_rule op_rules[] = {
    {"Conv", CONVPOOL_OP_CONV, {1, 11, 22}},
    {"MaxPool", CONVPOOL_OP_MAX_POOL, {1, 8, 10, 11, 12, 22}},
    {"AveragePool", CONVPOOL_OP_AVERAGE_POOL, {1, 7, 10, 11, 19, 22}},
    {"GlobalAveragePool", CONVPOOL_OP_GLOBAL_AVERAGE_POOL, {1, 22}},
    {"GlobalMaxPool", CONVPOOL_OP_GLOBAL_MAX_POOL, {1, 22}},
    {"Constant", CP_FILE_NODE_CONSTANT, {1, 9, 11, 12, 13, 19, 21}},
    {"Identity", CP_FILE_NODE_IDENTITY, {1, 13, 14, 16, 19, 21}},
};
#define SUPPORTED_LIST                                                                             \
    "Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Constant, Identity"

const cp_op_rule *cp_op_lookup(const Onnx__NodeProto *np, int32_t index)
{
    const char *name = np->name ? np->name : "";
    const char *type = np->op_type ? np->op_type : "";
    const char *domain = np->domain ? np->domain : "";
    if (*domain && strcmp(domain, "ai.onnx") != 0) {
        cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                "node %d ('%s'): op type '%s' of domain '%s' is not supported; "
                "supported: " SUPPORTED_LIST " (default domain)",
                (int)index, name, type, domain);
        return NULL;
    }
    for (size_t i = 0; i < sizeof op_rules / sizeof op_rules[0]; i++)
        if (strcmp(op_rules[i].op_type, type) == 0)
            return &op_rules[i];
    cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
            "node %d ('%s'): op type '%s' is not supported; supported: " SUPPORTED_LIST, (int)index,
            name, type);
    return NULL;
}

int32_t cp_op_version(const cp_op_rule *rule, int64_t opset)
{
    int32_t v = 0;
    for (int i = 0; i < 8 && rule->versions[i]; i++)
        if (rule->versions[i] <= opset)
            v = rule->versions[i];
    return v;
}

/* An attribute of the pooling/conv ops: its key, type and the op version
 * that introduced it for each kind (0: never). */
typedef struct attr_rule {
    const char *name;
    int32_t key;  /* convpool_attr */
    int32_t type; /* Onnx__AttributeProto__AttributeType */
    int32_t since_conv, since_max, since_avg;
} attr_rule;

#define T_INT    ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
#define T_INTS   ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
#define T_STRING ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING

static const attr_rule attr_rules[] = {
    {"kernel_shape", CONVPOOL_ATTR_KERNEL_SHAPE, T_INTS, 1, 1, 1},
    {"strides", CONVPOOL_ATTR_STRIDES, T_INTS, 1, 1, 1},
    {"pads", CONVPOOL_ATTR_PADS, T_INTS, 1, 1, 1},
    {"auto_pad", CONVPOOL_ATTR_AUTO_PAD, T_STRING, 1, 1, 1},
    {"dilations", CONVPOOL_ATTR_DILATIONS, T_INTS, 1, 10, 19},
    {"group", CONVPOOL_ATTR_GROUP, T_INT, 1, 0, 0},
    {"ceil_mode", CONVPOOL_ATTR_CEIL_MODE, T_INT, 0, 10, 10},
    {"count_include_pad", CONVPOOL_ATTR_COUNT_INCLUDE_PAD, T_INT, 0, 0, 7},
    {"storage_order", CONVPOOL_ATTR_STORAGE_ORDER, T_INT, 0, 8, 0},
};

static int32_t attr_since(const attr_rule *r, int32_t kind)
{
    switch (kind) {
    case CONVPOOL_OP_CONV: return r->since_conv;
    case CONVPOOL_OP_MAX_POOL: return r->since_max;
    case CONVPOOL_OP_AVERAGE_POOL: return r->since_avg;
    default: return 0;
    }
}

static const char *attr_type_name(int32_t type)
{
    static const char *names[] = {"UNDEFINED",      "FLOAT",      "INT",        "STRING",
                                  "TENSOR",         "GRAPH",      "FLOATS",     "INTS",
                                  "STRINGS",        "TENSORS",    "GRAPHS",     "SPARSE_TENSOR",
                                  "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    return type >= 0 && (size_t)type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

static convpool_status parse_auto_pad(const Onnx__AttributeProto *ap, int64_t *value)
{
    static const char *names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 4; i++)
        if (ap->s.len == strlen(names[i]) && memcmp(ap->s.data, names[i], ap->s.len) == 0) {
            *value = i;
            return CONVPOOL_OK;
        }
    return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                   "auto_pad = '%.*s': must be NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                   (int)(ap->s.len > 32 ? 32 : ap->s.len), (const char *)ap->s.data);
}

/* Sets one attribute of a conv/pool node on its descriptor. */
static convpool_status apply_attr(convpool_desc *desc, const cp_op_rule *rule, int32_t version,
                                  const Onnx__AttributeProto *ap)
{
    const char *name = ap->name ? ap->name : "";
    const attr_rule *r = NULL;
    for (size_t i = 0; i < sizeof attr_rules / sizeof attr_rules[0]; i++)
        if (strcmp(attr_rules[i].name, name) == 0)
            r = &attr_rules[i];
    int32_t since = r ? attr_since(r, rule->kind) : 0;
    if (!since)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "attribute '%s' is not defined for %s",
                       name, rule->op_type);
    if (since > version)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE,
                       "attribute '%s' is not defined for %s-%d (the version the model's "
                       "opset imports); it exists from %s-%d",
                       name, rule->op_type, (int)version, rule->op_type, (int)since);
    int32_t type = ap->has_type ? (int32_t)ap->type : 0;
    if (type != r->type)
        return cp_fail(CONVPOOL_ERROR_INVALID_ATTRIBUTE, "attribute '%s' has type %s; %s needs %s",
                       name, attr_type_name(type), rule->op_type, attr_type_name(r->type));
    if (type == T_INTS)
        return cp_desc_set_ints(desc, r->key, ap->ints, ap->n_ints);
    int64_t value = ap->i;
    if (type == T_STRING) {
        convpool_status st = parse_auto_pad(ap, &value);
        if (st != CONVPOOL_OK)
            return st;
    }
    return cp_desc_set_int(desc, r->key, value);
}

/* Checks that value `v` has one of the types allowed (FLOAT; for MaxPool
 * from version 12, also the 8-bit integers) and a rank of 3 to 5. */
static convpool_status check_input(const convpool_model *m, int32_t v, const char *role,
                                   const cp_op_rule *rule, int32_t version)
{
    const cp_value *val = &m->values[v];
    const int int8_op = rule->kind == CONVPOOL_OP_MAX_POOL;
    const int int8_now = int8_op && version >= 12;
    const int is_int8 = val->dtype == CONVPOOL_DTYPE_UINT8 || val->dtype == CONVPOOL_DTYPE_INT8;
    if (val->dtype != CONVPOOL_DTYPE_FLOAT && !(int8_now && is_int8))
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED,
                       "%s '%s' has element type %s; %s-%d supports "
                       "%s",
                       role, val->name, cp_dtype_name(val->dtype), rule->op_type, (int)version,
                       int8_now  ? "FLOAT, UINT8 and INT8"
                       : int8_op ? "FLOAT only (UINT8 and INT8 from MaxPool-12)"
                                 : "FLOAT only");
    if (val->shape.rank < 3 || val->shape.rank > 2 + CP_MAX_SPATIAL)
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "%s '%s' has rank %zu; %s needs rank 3 "
                       "to 5 (N, C, spatial...)",
                       role, val->name, val->shape.rank, rule->op_type);
    return CONVPOOL_OK;
}

/* Conv without kernel_shape: the ONNX default is W's spatial dims, recorded
 * in the descriptor when they are known at load time (so that
 * convpool_model_node_desc() reports it); W of dynamic spatial dims leaves it
 * unset, taken from the bound W at each run. */
static convpool_status fill_kernel_shape(convpool_desc *desc, const cp_shape *ws)
{
    if (desc->attrs.has_kernel_shape || ws->rank < 3)
        return CONVPOOL_OK;
    for (size_t d = 2; d < ws->rank; d++)
        if (ws->dims[d] < 1)
            return CONVPOOL_OK;
    return cp_desc_set_ints(desc, CONVPOOL_ATTR_KERNEL_SHAPE, ws->dims + 2, ws->rank - 2);
}

/* Conv: W must match X's rank; B must be 1-D; both FLOAT. Creates the op
 * now when both are constant. */
static convpool_status setup_conv(convpool_model *m, cp_node *n, const cp_op_rule *rule)
{
    const cp_value *x = &m->values[n->x];
    const cp_value *w = &m->values[n->w];
    convpool_status st = check_input(m, n->w, "weight", rule, cp_op_version(rule, m->opset));
    if (st != CONVPOOL_OK)
        return st;
    if (w->shape.rank != x->shape.rank)
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "weight '%s' has rank %zu but input '%s' "
                       "has rank %zu",
                       w->name, w->shape.rank, x->name, x->shape.rank);
    const cp_value *b = n->b >= 0 ? &m->values[n->b] : NULL;
    if (b && (b->dtype != CONVPOOL_DTYPE_FLOAT || b->shape.rank != 1))
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "bias '%s' must be a 1-D FLOAT tensor "
                       "(it is %s of rank %zu)",
                       b->name, cp_dtype_name(b->dtype), b->shape.rank);
    int w_const = w->source == CP_VALUE_CONST;
    if (b && w_const && b->source == CP_VALUE_CONST && b->shape.dims[0] != w->shape.dims[0])
        return cp_fail(CONVPOOL_ERROR_SHAPE_MISMATCH,
                       "bias '%s' has %lld elements; the weight "
                       "has M = %lld output channels",
                       b->name, (long long)b->shape.dims[0], (long long)w->shape.dims[0]);
    if ((st = fill_kernel_shape(n->desc, &w->shape)) != CONVPOOL_OK)
        return st;
    if (w_const && (!b || b->source == CP_VALUE_CONST)) {
        st = cp_conv_create(n->desc, w->shape.dims, w->shape.rank, w->data, b ? b->data : NULL,
                            &n->op);
        if (st == CONVPOOL_OK)
            m->packed_bytes += n->op->packed_bytes;
        return st;
    }
    return CONVPOOL_OK;
}

convpool_status cp_node_setup_op(convpool_model *m, cp_node *n, const cp_op_rule *rule,
                                 const Onnx__NodeProto *np)
{
    int32_t version = cp_op_version(rule, m->opset);
    if (!version)
        return cp_fail(CONVPOOL_ERROR_UNSUPPORTED, "%s does not exist in opset %lld", rule->op_type,
                       (long long)m->opset);
    if (n->indices >= 0 && version < 8)
        return cp_fail(CONVPOOL_ERROR_INVALID_MODEL,
                       "MaxPool-%d has one output; the Indices "
                       "output exists from MaxPool-8",
                       (int)version);
    convpool_status st = check_input(m, n->x, "input", rule, version);
    if (st != CONVPOOL_OK)
        return st;
    const cp_value *x = &m->values[n->x];
    st = cp_desc_create(rule->kind, (int32_t)x->shape.rank - 2, &n->desc);
    if (st != CONVPOOL_OK)
        return st;
    for (size_t i = 0; i < np->n_attribute; i++) {
        const char *name = np->attribute[i]->name ? np->attribute[i]->name : "";
        for (size_t j = 0; j < i; j++)
            if (np->attribute[j]->name && strcmp(np->attribute[j]->name, name) == 0)
                return cp_fail(CONVPOOL_ERROR_INVALID_MODEL, "attribute '%s' appears twice", name);
        st = apply_attr(n->desc, rule, version, np->attribute[i]);
        if (st != CONVPOOL_OK)
            return st;
    }
    if (rule->kind == CONVPOOL_OP_CONV)
        st = setup_conv(m, n, rule);
    else
        st = cp_pool_create(n->desc, &n->op);
    if (st != CONVPOOL_OK)
        return st;
    cp_value *y = &m->values[n->y];
    y->dtype = rule->kind == CONVPOOL_OP_MAX_POOL ? x->dtype : CONVPOOL_DTYPE_FLOAT;
    y->shape.rank = x->shape.rank;
    for (size_t i = 0; i < y->shape.rank; i++)
        y->shape.dims[i] = -1;
    if (n->indices >= 0) {
        cp_value *ind = &m->values[n->indices];
        ind->dtype = CONVPOOL_DTYPE_INT64;
        ind->shape = y->shape;
    }
    return CONVPOOL_OK;
}
