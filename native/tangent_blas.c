// Node-API addon: OpenBLAS sgemm on views of an ArrayBuffer (the wasm backend's heap), no copies.
// Built by scripts/build-native.mjs:  cc -O2 -shared -fPIC -I<node-api-headers> tangent_blas.c -lopenblas
//
// Exports
//   sgemm(heap, aOffset, bOffset, cOffset, batch, m, n, k, transA, transB, strideA, strideB)
//     C[i] = op(A[i]) op(B[i]) for i < batch, row-major float32; offsets in bytes into `heap`,
//     batch strides in elements (0 broadcasts one matrix over the batch). op(A) is m x k, op(B) k x n, C m x n.
//   setThreads(n), threads(), config(), corename()
#include <cblas.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// openblas_get_corename is not declared by every cblas.h.
extern char *openblas_get_corename(void);

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "tangent_blas: " #call " failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static int get_size(napi_env env, napi_value v, const char *name, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d != (double)(size_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "sgemm: %s is not a non-negative integer; expected a size or byte offset", name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

static int get_flag(napi_env env, napi_value v, int *out) {
  bool b;
  if (napi_get_value_bool(env, v, &b) == napi_ok) {
    *out = b;
    return 1;
  }
  double d;
  if (napi_get_value_double(env, v, &d) == napi_ok) {
    *out = d != 0;
    return 1;
  }
  napi_throw_type_error(env, NULL, "sgemm: transpose flag is not a boolean or number");
  return 0;
}

static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 12) {
    napi_throw_type_error(env, NULL, "sgemm: expected 12 arguments (heap, aOffset, bOffset, cOffset, batch, m, n, k, transA, transB, strideA, strideB)");
    return NULL;
  }
  bool is_ab;
  CHECK(napi_is_arraybuffer(env, argv[0], &is_ab));
  if (!is_ab) {
    napi_throw_type_error(env, NULL, "sgemm: heap is not an ArrayBuffer");
    return NULL;
  }
  void *data;
  size_t byte_length;
  CHECK(napi_get_arraybuffer_info(env, argv[0], &data, &byte_length));
  static const char *names[] = {"aOffset", "bOffset", "cOffset", "batch", "m", "n", "k"};
  size_t s[7];
  for (int i = 0; i < 7; i++)
    if (!get_size(env, argv[1 + i], names[i], &s[i])) return NULL;
  size_t a_off = s[0], b_off = s[1], c_off = s[2], batch = s[3], m = s[4], n = s[5], k = s[6];
  int ta, tb;
  if (!get_flag(env, argv[8], &ta) || !get_flag(env, argv[9], &tb)) return NULL;
  size_t stride_a, stride_b;
  if (!get_size(env, argv[10], "strideA", &stride_a) || !get_size(env, argv[11], "strideB", &stride_b)) return NULL;
  if (batch == 0 || m == 0 || n == 0) return NULL;
  if ((a_off | b_off | c_off) & 3) {
    napi_throw_range_error(env, NULL, "sgemm: offsets are not 4-byte aligned");
    return NULL;
  }
  // Every byte touched lies inside the heap.
  size_t a_end = a_off + 4 * ((batch - 1) * stride_a + m * k);
  size_t b_end = b_off + 4 * ((batch - 1) * stride_b + k * n);
  size_t c_end = c_off + 4 * batch * m * n;
  if (a_end > byte_length || b_end > byte_length || c_end > byte_length) {
    char msg[200];
    snprintf(msg, sizeof msg, "sgemm: operands end at bytes %zu, %zu, %zu; expected at most the heap size %zu", a_end, b_end, c_end, byte_length);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  float *a = (float *)((char *)data + a_off);
  float *b = (float *)((char *)data + b_off);
  float *c = (float *)((char *)data + c_off);
  if (k == 0) {
    memset(c, 0, 4 * batch * m * n);
    return NULL;
  }
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  for (size_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, 1.0f,
                a + i * stride_a, lda, b + i * stride_b, ldb, 0.0f, c + i * m * n, (int)n);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t t = 0;
  if (argc != 1 || napi_get_value_int32(env, argv[0], &t) != napi_ok || t < 1) {
    napi_throw_range_error(env, NULL, "setThreads: n is not a positive integer");
    return NULL;
  }
  openblas_set_num_threads(t);
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &r));
  return r;
}

static napi_value config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value corename(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"corename", NULL, corename, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
