// Node-API addon: OpenBLAS sgemm on views of an ArrayBuffer (the wasm backend's heap), no copies.
// Built by scripts/build-native.mjs:  cc -O3 -ffp-contract=off -shared -fPIC -pthread -I<node-api-headers> tangent_blas.c -lopenblas
//
// Exports
//   sgemm(heap, aOffset, bOffset, cOffset, batch, m, n, k, transA, transB, strideA, strideB)
//     C[i] = op(A[i]) op(B[i]) for i < batch, row-major float32; offsets in bytes into `heap`,
//     batch strides in elements (0 broadcasts one matrix over the batch). op(A) is m x k, op(B) k x n, C m x n.
//   sgemmScaled(heap, ..., strideB, alpha)
//     C[i] = alpha op(A[i]) op(B[i]), alpha rounded to float32 (OpenBLAS scales each product before it stores it).
//   sgemmScaledAccumulate(same arguments): C[i] += alpha op(A[i]) op(B[i]) (beta = 1).
//   ssyrk(heap, aOffset, cOffset, n, k, transA)
//     C = A A^T (A n x k, transA false) or A^T A (A k x n, transA true), n x n, both triangles filled: the Gram
//     matrices of the tangent kernel at half the multiply-adds of sgemm.
//   gramsBatch(heap, descriptors): several ssyrk Grams, count x [aOffset, cOffset, n, k, transA] in a Float64Array;
//     the small ones, which OpenBLAS runs on one thread, side by side on two threads.
//   jet1(heap, kind, size, sOffset, z1Offset, y0Offset, y1Offset)
//     The order-1 jet (y0, y1) of tanh (kind 0) or sigmoid (kind 1) from s and z1, elementwise over `size` floats.
//   jet1GradZ0(heap, kind, size, sOffset, z1Offset, dy0Offset, dy1Offset, dz0Offset, dz1Offset)
//     Its reverse-mode step carried through the sigmoid: (dz0, dz1) from (dy0, dy1), with tfjs's roundings of
//     Sigmoid's and Multiply's gradients.
//   jet1GradS(same arguments, dsOffset for dz0Offset), sigmoidBack(heap, kind, size, sOffset, dsOffset, dzOffset):
//     its two halves, (ds, dz1) and then dz0 from ds, for the split kernels of large tensors.
//   scale(heap, size, xOffset, outOffset, alpha): out = x alpha.
//   sigmoid(heap, size, xOffset, outOffset, factor): out = sigmoid(x factor), factor 1 or 2, with the bits of the wasm
//     backend's Sigmoid kernel (all 2^32 inputs checked).
//   reluGrad(heap, size, xOffset, dyOffset, dxOffset): dx = dy step(x), as tfjs's Relu gradient rounds it.
//   dotF64(heap, xOffset, yOffset, n), dotPairF64(...): x . y, and [x . y, y . y], in double (fixed order).
//   descentStep(heap, size, pOffset, dOffset, outOffset, lr)
//     out = p - d * lr over `size` floats, rounded as tfjs's sub(p, mul(d, lr)).
//   setOuterProduct(on): k = 1 products (beta 0) by the addon's own loop (default) or by OpenBLAS, for tests.
//   setThreads(n): threads for products of at least MULTITHREAD_MIN_MNK multiply-adds (smaller ones use one);
//   threads(): that number; config(), corename(): the OpenBLAS build.
#include <cblas.h>
#include <node_api.h>
#include <pthread.h>
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

// Products with m n k below this run single-threaded (4 Mi multiply-adds: about 0.4 ms on one core).
#define MULTITHREAD_MIN_MNK ((size_t)1 << 22)

static int max_threads = 1;  // setThreads(n)
static int outer_native = 1;  // setOuterProduct(false) sends k = 1 products to OpenBLAS (to compare the two)
static int current_threads = 0;

static void use_threads(int t) {
  if (t != current_threads) {
    openblas_set_num_threads(t);
    current_threads = t;
  }
}

// Sizes and offsets are exact doubles (below 2^53): their extents fit the 128-bit arithmetic below.
#define MAX_SIZE 9007199254740992.0

// off + 4 (a b + c d) bytes in 128-bit arithmetic, saturated at SIZE_MAX: a bad argument is a range error, never a
// wrapped extent and an out-of-heap write.
static size_t extent(size_t off, size_t a, size_t b, size_t c, size_t d) {
  unsigned __int128 e = (unsigned __int128)off + 4 * ((unsigned __int128)a * b + (unsigned __int128)c * d);
  return e > (unsigned __int128)SIZE_MAX ? SIZE_MAX : (size_t)e;
}

// Resolves `count` offsets (sizes[first..]) of vectors of n floats inside the heap, or throws naming the bad one.
static int vectors_in_heap(napi_env env, const char *fn, const char *const *names, const size_t *sizes, int first, int count, size_t n,
                           void *data, size_t byte_length, float **ptrs) {
  char msg[200];
  for (int i = first; i < first + count; i++) {
    if (sizes[i] & 3) {
      snprintf(msg, sizeof msg, "%s: %s = %zu is not 4-byte aligned", fn, names[i], sizes[i]);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
    if (extent(sizes[i], n, 1, 0, 0) > byte_length) {
      snprintf(msg, sizeof msg, "%s: %s operand ends at byte %zu; expected at most the heap size %zu", fn, names[i], extent(sizes[i], n, 1, 0, 0), byte_length);
      napi_throw_range_error(env, NULL, msg);
      return 0;
    }
    ptrs[i - first] = (float *)((char *)data + sizes[i]);
  }
  return 1;
}

static int get_size(napi_env env, napi_value v, const char *fn, const char *name, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > MAX_SIZE || d != (double)(size_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s is not a non-negative integer below 2^53; expected a size or byte offset", fn, name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

static int get_flag(napi_env env, napi_value v, const char *fn, int *out) {
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
  char msg[120];
  snprintf(msg, sizeof msg, "%s: transpose flag is not a boolean or number", fn);
  napi_throw_type_error(env, NULL, msg);
  return 0;
}

// Reads `want` arguments: the heap (an ArrayBuffer) and then `nsizes` sizes or byte offsets named `names`.
// Returns 0 with a JavaScript exception pending when one is bad.
static int heap_and_sizes(napi_env env, napi_callback_info info, const char *fn, const char *usage, size_t want,
                          napi_value *argv, void **data, size_t *byte_length, const char *const *names, int nsizes,
                          size_t *sizes) {
  size_t argc = want;
  char msg[200];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    snprintf(msg, sizeof msg, "%s: expected %zu arguments (%s)", fn, want, usage);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  bool is_ab = false;
  if (napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], data, byte_length) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: heap is not an ArrayBuffer", fn);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  for (int i = 0; i < nsizes; i++)
    if (!get_size(env, argv[1 + i], fn, names[i], &sizes[i])) return 0;
  return 1;
}

// k = 1, beta = 0: the outer product alpha a b^T (the back-propagated vectors of a layer with one output). OpenBLAS's
// sgemm packs both operands for one multiply-add each (measured 270 us for 128 x 4096, against 45 us to write the
// result). Its Haswell kernel rounds a_i b_j, multiplies by alpha and adds the zeroed C (so -0 becomes +0): the same
// bits as below (test/openblas.test.ts compares the two on special values).
static void outer_product(size_t m, size_t n, const float *a, const float *b, float alpha, float *__restrict c) {
  for (size_t i = 0; i < m; i++) {
    const float ai = a[i];
    float *ci = c + i * n;
    for (size_t j = 0; j < n; j++) ci[j] = (ai * b[j]) * alpha + 0.0f;
  }
}

// sgemm (alpha 1), sgemmScaled (alpha the 13th argument) and sgemmScaledAccumulate (C += alpha AB) share the body.
static napi_value sgemm_common(napi_env env, napi_callback_info info, int scaled, int accumulate) {
  napi_value argv[13];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"aOffset", "bOffset", "cOffset", "batch", "m", "n", "k"};
  size_t s[7];
  const char *fn = accumulate ? "sgemmScaledAccumulate" : scaled ? "sgemmScaled" : "sgemm";
  const char *usage = scaled ? "heap, aOffset, bOffset, cOffset, batch, m, n, k, transA, transB, strideA, strideB, alpha"
                             : "heap, aOffset, bOffset, cOffset, batch, m, n, k, transA, transB, strideA, strideB";
  if (!heap_and_sizes(env, info, fn, usage, scaled ? 13 : 12, argv, &data, &byte_length, names, 7, s)) return NULL;
  size_t a_off = s[0], b_off = s[1], c_off = s[2], batch = s[3], m = s[4], n = s[5], k = s[6];
  int ta, tb;
  if (!get_flag(env, argv[8], fn, &ta) || !get_flag(env, argv[9], fn, &tb)) return NULL;
  size_t stride_a, stride_b;
  if (!get_size(env, argv[10], fn, "strideA", &stride_a) || !get_size(env, argv[11], fn, "strideB", &stride_b)) return NULL;
  double alpha_d = 1;
  if (scaled && (napi_get_value_double(env, argv[12], &alpha_d) != napi_ok || alpha_d != alpha_d)) {
    napi_throw_type_error(env, NULL, "sgemmScaled: alpha is not a number; expected the factor of the product");
    return NULL;
  }
  const float alpha = (float)alpha_d;
  if (batch == 0 || m == 0 || n == 0) return NULL;
  char msg[200];
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    snprintf(msg, sizeof msg, "%s: m, n, k = %zu, %zu, %zu; expected each below 2^31 (cblas dimensions are int)", fn, m, n, k);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  if ((a_off | b_off | c_off) & 3) {
    snprintf(msg, sizeof msg, "%s: offsets are not 4-byte aligned", fn);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  // Every byte touched lies inside the heap.
  size_t a_end = extent(a_off, batch - 1, stride_a, m, k);
  size_t b_end = extent(b_off, batch - 1, stride_b, k, n);
  size_t c_end = extent(c_off, batch, m * n, 0, 0);
  if (a_end > byte_length || b_end > byte_length || c_end > byte_length) {
    snprintf(msg, sizeof msg, "%s: operands end at bytes %zu, %zu, %zu; expected at most the heap size %zu", fn, a_end, b_end, c_end, byte_length);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  float *a = (float *)((char *)data + a_off);
  float *b = (float *)((char *)data + b_off);
  float *c = (float *)((char *)data + c_off);
  if (k == 0) {
    if (!accumulate) memset(c, 0, 4 * batch * m * n);
    return NULL;
  }
  const float beta = accumulate ? 1.0f : 0.0f;
  // Small products run on one thread: waking the pool costs more than it saves (and much more on a busy machine).
  use_threads(m * n * k >= MULTITHREAD_MIN_MNK ? max_threads : 1);
  const int lda = ta ? (int)m : (int)k;
  const int ldb = tb ? (int)k : (int)n;
  for (size_t i = 0; i < batch; i++) {
    const float *ai = a + i * stride_a, *bi = b + i * stride_b;
    float *ci = c + i * m * n;
    // Vector cases as sgemv (OpenBLAS 0.3.21 does not forward them from sgemm). A 1 x k or k x 1 operand is
    // contiguous whatever its transpose flag.
    if (k == 1 && m > 1 && n > 1 && !accumulate && outer_native) {
      outer_product(m, n, ai, bi, alpha, ci);
    } else if (m == 1) {  // c^T = op(B)^T a^T
      cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? (int)n : (int)k, tb ? (int)k : (int)n, alpha, bi, ldb, ai, 1, beta, ci, 1);
    } else if (n == 1) {  // c = op(A) b
      cblas_sgemv(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, ta ? (int)k : (int)m, ta ? (int)m : (int)k, alpha, ai, lda, bi, 1, beta, ci, 1);
    } else {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha,
                  ai, lda, bi, ldb, beta, ci, (int)n);
    }
  }
  return NULL;
}

static napi_value sgemm(napi_env env, napi_callback_info info) { return sgemm_common(env, info, 0, 0); }

static napi_value sgemm_scaled(napi_env env, napi_callback_info info) { return sgemm_common(env, info, 1, 0); }

static napi_value sgemm_scaled_accumulate(napi_env env, napi_callback_info info) { return sgemm_common(env, info, 1, 1); }

// One Gram matrix C = A A^T (or A^T A) of the heap, checked by gram_job_args.
typedef struct {
  float *a, *c;
  size_t n, k;
  int ta;
} gram_job;

static void gram_run(const gram_job *g) {
  const size_t n = g->n, k = g->k;
  float *c = g->c;
  if (k == 0) {
    memset(c, 0, 4 * n * n);
    return;
  }
  cblas_ssyrk(CblasRowMajor, CblasUpper, g->ta ? CblasTrans : CblasNoTrans, (int)n, (int)k, 1.0f, g->a, g->ta ? (int)n : (int)k, 0.0f, c, (int)n);
  // Lower triangle from the upper one (syrk leaves it untouched), in tiles so that both sides stay in cache.
  const size_t T = 64;
  for (size_t i0 = 0; i0 < n; i0 += T)
    for (size_t j0 = 0; j0 <= i0; j0 += T)
      for (size_t i = i0; i < i0 + T && i < n; i++)
        for (size_t j = j0; j < j0 + T && j < i; j++) c[i * n + j] = c[j * n + i];
}

// Validates one Gram's offsets and sizes against the heap; throws naming `fn` and returns 0 when one is bad.
static int gram_job_args(napi_env env, const char *fn, void *data, size_t byte_length, size_t a_off, size_t c_off, size_t n, size_t k,
                         int ta, gram_job *g) {
  char msg[200];
  if (n > INT32_MAX || k > INT32_MAX) {
    snprintf(msg, sizeof msg, "%s: n, k = %zu, %zu; expected each below 2^31 (cblas dimensions are int)", fn, n, k);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  if ((a_off | c_off) & 3) {
    snprintf(msg, sizeof msg, "%s: offsets are not 4-byte aligned", fn);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  size_t a_end = extent(a_off, n, k, 0, 0), c_end = extent(c_off, n, n, 0, 0);
  if (a_end > byte_length || c_end > byte_length) {
    snprintf(msg, sizeof msg, "%s: operands end at bytes %zu, %zu; expected at most the heap size %zu", fn, a_end, c_end, byte_length);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *g = (gram_job){(float *)((char *)data + a_off), (float *)((char *)data + c_off), n, k, ta};
  return 1;
}

static napi_value ssyrk(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"aOffset", "cOffset", "n", "k"};
  size_t s[4];
  if (!heap_and_sizes(env, info, "ssyrk", "heap, aOffset, cOffset, n, k, transA", 6, argv, &data, &byte_length, names, 4, s))
    return NULL;
  int ta;
  gram_job g;
  if (!get_flag(env, argv[5], "ssyrk", &ta)) return NULL;
  if (s[2] == 0) return NULL;
  if (!gram_job_args(env, "ssyrk", data, byte_length, s[0], s[1], s[2], s[3], ta, &g)) return NULL;
  // Threads as for sgemm, by the multiply-adds of the full product.
  use_threads(g.n * g.n * g.k >= MULTITHREAD_MIN_MNK ? max_threads : 1);
  gram_run(&g);
  return NULL;
}

// OpenBLAS 0.3.21 runs ssyrk on one thread below this order whatever its thread count (measured: the same bits with
// 1 and 2 threads for every n < 200, k up to 4096), so Grams this small can run side by side, one per thread.
#define GRAM_SIDE_BY_SIDE_MAX_N 191

typedef struct {
  const gram_job *jobs;
  const unsigned char *mine;
  size_t count;
  unsigned char who;
} gram_share;

static void *gram_share_run(void *p) {
  const gram_share *sh = p;
  for (size_t i = 0; i < sh->count; i++)
    if (sh->mine[i] == sh->who) gram_run(&sh->jobs[i]);
  return NULL;
}

#define GRAMS_MAX 64

// gramsBatch(heap, descriptors): descriptors a Float64Array of count x [aOffset, cOffset, n, k, transA]. Every Gram as
// ssyrk computes it; with two or more threads, the small ones (order <= GRAM_SIDE_BY_SIDE_MAX_N, which OpenBLAS runs
// on one thread) are shared between this thread and a second one, one OpenBLAS thread each (the same bits).
static napi_value grams_batch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  const char *fn = "gramsBatch";
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t byte_length;
  bool is_ab = false;
  if (argc != 2 || napi_is_arraybuffer(env, argv[0], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, argv[0], &data, &byte_length) != napi_ok) {
    napi_throw_type_error(env, NULL, "gramsBatch: expected 2 arguments (heap: ArrayBuffer, descriptors: Float64Array)");
    return NULL;
  }
  bool is_ta = false;
  napi_typedarray_type type;
  size_t len;
  void *desc_data;
  if (napi_is_typedarray(env, argv[1], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[1], &type, &len, &desc_data, NULL, NULL) != napi_ok || type != napi_float64_array ||
      len % 5 != 0 || len / 5 > GRAMS_MAX) {
    char msg[160];
    snprintf(msg, sizeof msg, "gramsBatch: descriptors is not a Float64Array of count x 5 numbers with count <= %d", GRAMS_MAX);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  const double *d = desc_data;
  const size_t count = len / 5;
  gram_job jobs[GRAMS_MAX];
  unsigned char mine[GRAMS_MAX];
  double load[2] = {0, 0};
  size_t shared = 0;
  static const char *const names[] = {"aOffset", "cOffset", "n", "k"};
  for (size_t i = 0; i < count; i++) {
    size_t v[4];
    for (int j = 0; j < 4; j++) {
      const double x = d[5 * i + j];
      if (!(x >= 0) || x > MAX_SIZE || x != (double)(size_t)x) {
        char msg[160];
        snprintf(msg, sizeof msg, "gramsBatch: descriptor %zu: %s = %g; expected a non-negative integer below 2^53", i, names[j], x);
        napi_throw_type_error(env, NULL, msg);
        return NULL;
      }
      v[j] = (size_t)x;
    }
    if (!gram_job_args(env, fn, data, byte_length, v[0], v[1], v[2], v[3], d[5 * i + 4] != 0, &jobs[i])) return NULL;
    // The lighter share takes the next small Gram (in the given order: the split does not depend on timing).
    if (jobs[i].n > 0 && jobs[i].n <= GRAM_SIDE_BY_SIDE_MAX_N) {
      const int who = load[1] < load[0];
      mine[i] = (unsigned char)who;
      load[who] += (double)jobs[i].n * (double)jobs[i].n * (double)jobs[i].k;
      shared++;
    } else {
      mine[i] = 2;
    }
  }
  const int side_by_side = max_threads >= 2 && shared >= 2;
  if (side_by_side) {
    use_threads(1);
    gram_share other = {jobs, mine, count, 1}, self = {jobs, mine, count, 0};
    pthread_t t;
    const int started = pthread_create(&t, NULL, gram_share_run, &other) == 0;
    gram_share_run(&self);
    if (started) pthread_join(t, NULL);
    else gram_share_run(&other);
  }
  for (size_t i = 0; i < count; i++) {
    if (jobs[i].n == 0 || (side_by_side && mine[i] != 2)) continue;
    use_threads(jobs[i].n * jobs[i].n * jobs[i].k >= MULTITHREAD_MIN_MNK ? max_threads : 1);
    gram_run(&jobs[i]);
  }
  return NULL;
}

// Order-1 jets of tanh and sigmoid in one pass instead of six tfjs ops forward and ten backward. Each function
// replays, operation by operation in float32, what lib/core/activations.ts and jet.ts compute with tfjs ops, and
// the backward pass accumulates gradients in the order tfjs does, so both paths agree bit for bit (built with
// -ffp-contract=off). The caller computes s with tfjs: sigmoid(2 z0) for tanh, sigmoid(z0) for sigmoid.
//   tanh:    t = s*2 - 1;  d1 = (t*-1)*t + 1;  y0 = t, y1 = d1*z1
//   sigmoid: d1 = (s*-1 + 1)*s;               y0 = s (the caller shares s), y1 = d1*z1
static void tanh_jet1(size_t n, const float *s, const float *z1, float *y0, float *y1) {
  for (size_t i = 0; i < n; i++) {
    const float t = s[i] * 2.0f - 1.0f;
    const float d1 = (t * -1.0f) * t + 1.0f;
    y0[i] = t;
    y1[i] = d1 * z1[i];
  }
}

static void sigmoid_jet1(size_t n, const float *s, const float *z1, float *y1) {
  for (size_t i = 0; i < n; i++) {
    const float d1 = (s[i] * -1.0f + 1.0f) * s[i];
    y1[i] = d1 * z1[i];
  }
}

// Backward, with tfjs's accumulation order: first what reached y0 from later ops (dy0), then the uses of t
// (or s) inside the rule, latest first.
static void tanh_jet1_grad(size_t n, const float *s, const float *z1, const float *dy0, const float *dy1, float *ds, float *dz1) {
  for (size_t i = 0; i < n; i++) {
    const float t = s[i] * 2.0f - 1.0f;
    const float a1 = t * -1.0f;
    const float d1 = a1 * t + 1.0f;
    const float dd1 = dy1[i] * z1[i];  // y1 = d1 z1
    dz1[i] = dy1[i] * d1;
    const float da1 = dd1 * t;                       // d1 = a1 t + 1
    const float dt = (dy0[i] + dd1 * a1) + da1 * -1.0f;  // a1 = -t
    ds[i] = dt * 2.0f;                               // t = 2 s - 1
  }
}

static void sigmoid_jet1_grad(size_t n, const float *s, const float *z1, const float *dy0, const float *dy1, float *ds, float *dz1) {
  for (size_t i = 0; i < n; i++) {
    const float a2 = s[i] * -1.0f + 1.0f;
    const float d1 = a2 * s[i];
    const float dd1 = dy1[i] * z1[i];  // y1 = d1 z1
    dz1[i] = dy1[i] * d1;
    const float da2 = dd1 * s[i];                           // d1 = a2 s
    ds[i] = (dy0[i] + dd1 * a2) + da2 * -1.0f;              // a2 = -s + 1
  }
}

// Through the sigmoid to z0 as tfjs's gradients round it: Sigmoid's dz = dy * (s * (1 - s)), then for tanh the
// factor 2 of sigmoid(2 z0) (Multiply's dy * 2). `ds` holds dL/ds on entry and dL/dz0 on return.
static void sigmoid_back(size_t n, int twice, const float *s, float *ds) {
  for (size_t i = 0; i < n; i++) {
    const float ds_dz = s[i] * (1.0f - s[i]);
    const float dz = ds[i] * ds_dz;
    ds[i] = twice ? dz * 2.0f : dz;
  }
}

// out = x * alpha (alpha rounded to float32), elementwise.
static void scale_f32(size_t n, const float *x, float alpha, float *__restrict out) {
  for (size_t i = 0; i < n; i++) out[i] = x[i] * alpha;
}

// Reads (heap, kind, size, offsets...) and resolves the offsets to float pointers inside the heap.
static int jet_args(napi_env env, napi_callback_info info, const char *fn, const char *usage, size_t want, const char *const *names,
                    int *kind, size_t *size, float **ptrs) {
  napi_value argv[9];
  void *data;
  size_t byte_length;
  size_t s[8];
  const int nsizes = (int)want - 1;
  if (!heap_and_sizes(env, info, fn, usage, want, argv, &data, &byte_length, names, nsizes, s)) return 0;
  char msg[200];
  if (s[0] > 1) {
    snprintf(msg, sizeof msg, "%s: kind = %zu; expected 0 (tanh) or 1 (sigmoid)", fn, s[0]);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *kind = (int)s[0];
  *size = s[1];
  return vectors_in_heap(env, fn, names, s, 2, nsizes - 2, s[1], data, byte_length, ptrs);
}

static napi_value jet1(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"kind", "size", "sOffset", "z1Offset", "y0Offset", "y1Offset"};
  int kind;
  size_t n;
  float *p[4];
  if (!jet_args(env, info, "jet1", "heap, kind, size, sOffset, z1Offset, y0Offset, y1Offset", 7, names, &kind, &n, p)) return NULL;
  if (kind == 0)
    tanh_jet1(n, p[0], p[1], p[2], p[3]);
  else
    sigmoid_jet1(n, p[0], p[1], p[3]);
  return NULL;
}

// jet1's reverse-mode step: (ds, dz1) from (dy0, dy1) (jet1GradS, for the split kernels of large tensors), or
// carried on through the sigmoid to (dz0, dz1) (jet1GradZ0, the fused kernel).
static napi_value jet1_grad_common(napi_env env, napi_callback_info info, int through_sigmoid) {
  static const char *const names_s[] = {"kind", "size", "sOffset", "z1Offset", "dy0Offset", "dy1Offset", "dsOffset", "dz1Offset"};
  static const char *const names_z0[] = {"kind", "size", "sOffset", "z1Offset", "dy0Offset", "dy1Offset", "dz0Offset", "dz1Offset"};
  int kind;
  size_t n;
  float *p[6];
  if (!jet_args(env, info, through_sigmoid ? "jet1GradZ0" : "jet1GradS",
                through_sigmoid ? "heap, kind, size, sOffset, z1Offset, dy0Offset, dy1Offset, dz0Offset, dz1Offset"
                                : "heap, kind, size, sOffset, z1Offset, dy0Offset, dy1Offset, dsOffset, dz1Offset",
                9, through_sigmoid ? names_z0 : names_s, &kind, &n, p))
    return NULL;
  (kind == 0 ? tanh_jet1_grad : sigmoid_jet1_grad)(n, p[0], p[1], p[2], p[3], p[4], p[5]);
  if (through_sigmoid) sigmoid_back(n, kind == 0, p[0], p[4]);
  return NULL;
}

static napi_value jet1_grad_z0(napi_env env, napi_callback_info info) { return jet1_grad_common(env, info, 1); }

static napi_value jet1_grad_s(napi_env env, napi_callback_info info) { return jet1_grad_common(env, info, 0); }

// ... and dz0 from ds through s = sigmoid(2 z0) (kind 0) or sigmoid(z0) (kind 1).
static napi_value sigmoid_back_napi(napi_env env, napi_callback_info info) {
  static const char *const names[] = {"kind", "size", "sOffset", "dsOffset", "dzOffset"};
  int kind;
  size_t n;
  float *p[3];
  if (!jet_args(env, info, "sigmoidBack", "heap, kind, size, sOffset, dsOffset, dzOffset", 6, names, &kind, &n, p)) return NULL;
  memcpy(p[2], p[1], 4 * n);
  sigmoid_back(n, kind == 0, p[0], p[2]);
  return NULL;
}

// ReLU's gradient as tfjs rounds it, dy * step(x) with step(NaN) = NaN: one pass instead of Step, Cast, Multiply.
static void relu_grad(size_t n, const float *x, const float *dy, float *__restrict dx) {
  for (size_t i = 0; i < n; i++) {
    const float st = x[i] > 0.0f ? 1.0f : (x[i] != x[i] ? x[i] : 0.0f);
    dx[i] = dy[i] * st;
  }
}

static napi_value relu_grad_napi(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"size", "xOffset", "dyOffset", "dxOffset"};
  size_t s[4];
  if (!heap_and_sizes(env, info, "reluGrad", "heap, size, xOffset, dyOffset, dxOffset", 5, argv, &data, &byte_length, names, 4, s)) return NULL;
  float *p[3];
  if (!vectors_in_heap(env, "reluGrad", names, s, 1, 3, s[0], data, byte_length, p)) return NULL;
  relu_grad(s[0], p[0], p[1], p[2]);
  return NULL;
}

static napi_value scale_napi(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"size", "xOffset", "outOffset"};
  size_t s[3];
  if (!heap_and_sizes(env, info, "scale", "heap, size, xOffset, outOffset, alpha", 5, argv, &data, &byte_length, names, 3, s)) return NULL;
  double alpha;
  // NaN is a valid factor here (tf.mul(x, NaN) is NaN everywhere): only a non-number is an error.
  if (napi_get_value_double(env, argv[4], &alpha) != napi_ok) {
    napi_throw_type_error(env, NULL, "scale: alpha is not a number; expected the factor");
    return NULL;
  }
  float *p[2];
  if (!vectors_in_heap(env, "scale", names, s, 1, 2, s[0], data, byte_length, p)) return NULL;
  scale_f32(s[0], p[0], (float)alpha, p[1]);
  return NULL;
}

static void sub_scaled(size_t n, const float *p, const float *d, float r, float *__restrict out) {
  for (size_t i = 0; i < n; i++) {
    const float step = d[i] * r;
    out[i] = p[i] - step;
  }
}

// out = p - d * lr in float32, as tfjs's sub(p, mul(d, lr)) rounds it (lr to float first, the product, then the
// difference; no FMA): one pass instead of two kernels and a temporary, for every optimizer's last step.
static napi_value descent_step(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"size", "pOffset", "dOffset", "outOffset"};
  size_t s[4];
  if (!heap_and_sizes(env, info, "descentStep", "heap, size, pOffset, dOffset, outOffset, lr", 6, argv, &data, &byte_length, names, 4, s))
    return NULL;
  double lr;
  if (napi_get_value_double(env, argv[5], &lr) != napi_ok || lr != lr) {
    napi_throw_type_error(env, NULL, "descentStep: lr is not a number; expected the step size");
    return NULL;
  }
  float *p[3];
  if (!vectors_in_heap(env, "descentStep", names, s, 1, 3, s[0], data, byte_length, p)) return NULL;
  sub_scaled(s[0], p[0], p[1], (float)lr, p[2]);
  return NULL;
}

// x . y of two float32 vectors, every product and partial sum in double. OpenBLAS 0.3.21's cblas_dsdot sums in
// float first (measured 3e-10 of sum |x y| off at n = 2e5). DOT_LANES accumulators, lane j summing the elements
// i = j mod DOT_LANES in order, then combined pairwise: a fixed order, and float x float is exact in double, so the
// AVX2/FMA build of the loop (picked at run time) and the SSE2 one give the same bits on every CPU.
#define DOT_LANES 16

static inline __attribute__((always_inline)) double dot_lanes(size_t n, const float *x, const float *y) {
  double acc[DOT_LANES] = {0};
  size_t i = 0;
  for (; i + DOT_LANES <= n; i += DOT_LANES)
    for (int j = 0; j < DOT_LANES; j++) acc[j] += (double)x[i + j] * (double)y[i + j];
  for (int j = 0; i < n; i++, j++) acc[j] += (double)x[i] * (double)y[i];
  for (int w = DOT_LANES / 2; w > 0; w /= 2)
    for (int j = 0; j < w; j++) acc[j] += acc[j + w];
  return acc[0];
}

__attribute__((target("avx2,fma"))) static double dot_f64_avx2(size_t n, const float *x, const float *y) { return dot_lanes(n, x, y); }

static double dot_f64_sse2(size_t n, const float *x, const float *y) { return dot_lanes(n, x, y); }

static int cpu_avx2(void) {
  static int avx2 = -1;
  if (avx2 < 0) {
    __builtin_cpu_init();
    avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }
  return avx2;
}

static double dot_f64(size_t n, const float *x, const float *y) { return cpu_avx2() ? dot_f64_avx2(n, x, y) : dot_f64_sse2(n, x, y); }

// sigmoid(x) with the bits of tfjs-backend-wasm 4.22's Sigmoid kernel, which runs XNNPACK's
// f32_vsigmoid wasmsimd_rr2_p5_div kernel (XNNPACK 5e8033a7, the commit tfjs v4.22.0 pins): e = exp(-|x|) by a
// two-step reduction n = round(-|x| log2 e), t = -|x| - n ln2 (hi and lo parts), a degree-5 polynomial and 2^n from
// the exponent bits; sigmoid(-|x|) = e / (e + 1), flushed to 0 beyond the denormal cutoff; 1 - that for x >= 0. Each
// step one rounded float32 operation (no FMA: -ffp-contract=off), so vector builds give the same bits; checked equal
// to the wasm kernel on all 2^32 inputs (scripts/check-sigmoid.mjs, environment.md).
static inline __attribute__((always_inline)) float sigmoid_wasm_bits(float x) {
  const float magic = 0x1.8000FEp23f, minus_log2e = -0x1.715476p+0f;
  const float ln2_hi = 0x1.62E400p-1f, ln2_lo = 0x1.7F7D1Cp-20f;
  const float c5 = -0x1.0F9F9Cp-7f, c4 = 0x1.573A1Ap-5f, c3 = -0x1.555A80p-3f, c2 = 0x1.FFFDC6p-2f, c1 = -0x1.FFFFF6p-1f;
  const float cutoff = 0x1.5D589Ep+6f;
  uint32_t bits;
  memcpy(&bits, &x, 4);
  const uint32_t abs_bits = bits & 0x7FFFFFFFu;
  float z;
  memcpy(&z, &abs_bits, 4);
  float n = z * minus_log2e + magic;
  uint32_t nb;
  memcpy(&nb, &n, 4);
  const uint32_t sb = nb << 23;
  float two_n;
  memcpy(&two_n, &sb, 4);
  n = n - magic;
  float t = n * ln2_hi + z;
  t = n * ln2_lo + t;
  float p = t * c5 + c4;
  p = t * p + c3;
  p = t * p + c2;
  p = t * p + c1;
  t = t * two_n;
  const float e = t * p + two_n;
  const float f = e / (e + 1.0f);
  // Branch-free (masks), so that the loop vectorises: f flushed to 0 beyond the cutoff, 1 - f where x >= 0.
  uint32_t fb;
  memcpy(&fb, &f, 4);
  fb &= z > cutoff ? 0u : 0xFFFFFFFFu;
  float ff;
  memcpy(&ff, &fb, 4);
  const float g = 1.0f - ff;
  uint32_t gb;
  memcpy(&gb, &g, 4);
  const uint32_t neg = (uint32_t)((int32_t)bits >> 31);
  const uint32_t r = (fb & neg) | (gb & ~neg);
  float out;
  memcpy(&out, &r, 4);
  return out;
}

// out = sigmoid(x * factor), factor 1 or 2 (tanh's sigmoid(2 z): the doubling rounded as tfjs's multiply).
static inline __attribute__((always_inline)) void sigmoid_loop(size_t n, const float *x, float factor, float *__restrict out) {
  for (size_t i = 0; i < n; i++) out[i] = sigmoid_wasm_bits(x[i] * factor);
}

__attribute__((target("avx2"))) static void sigmoid_avx2(size_t n, const float *x, float factor, float *__restrict out) { sigmoid_loop(n, x, factor, out); }

static void sigmoid_sse2(size_t n, const float *x, float factor, float *__restrict out) { sigmoid_loop(n, x, factor, out); }

// sigmoid(heap, size, xOffset, outOffset, factor): out = sigmoid(x factor), factor 1 or 2.
static napi_value sigmoid_napi(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  void *data;
  size_t byte_length;
  static const char *const names[] = {"size", "xOffset", "outOffset", "factor"};
  size_t s[4];
  if (!heap_and_sizes(env, info, "sigmoid", "heap, size, xOffset, outOffset, factor", 5, argv, &data, &byte_length, names, 4, s)) return NULL;
  if (s[3] != 1 && s[3] != 2) {
    char msg[120];
    snprintf(msg, sizeof msg, "sigmoid: factor = %zu; expected 1 (sigmoid) or 2 (tanh's sigmoid(2 z))", s[3]);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  float *p[2];
  if (!vectors_in_heap(env, "sigmoid", names, s, 1, 2, s[0], data, byte_length, p)) return NULL;
  // One thread: two measured no faster at 128 x 4096 (316 against 334 us) and twice as slow at 64 x 1024.
  (cpu_avx2() ? sigmoid_avx2 : sigmoid_sse2)(s[0], p[0], (float)s[3], p[1]);
  return NULL;
}

// (x . y, y . y) in one pass, each with dot_lanes' order: the same bits as two dot_f64 calls, half the reads.
static inline __attribute__((always_inline)) void dot_pair_lanes(size_t n, const float *x, const float *y, double *xy, double *yy) {
  double a[DOT_LANES] = {0}, b[DOT_LANES] = {0};
  size_t i = 0;
  for (; i + DOT_LANES <= n; i += DOT_LANES)
    for (int j = 0; j < DOT_LANES; j++) {
      a[j] += (double)x[i + j] * (double)y[i + j];
      b[j] += (double)y[i + j] * (double)y[i + j];
    }
  for (int j = 0; i < n; i++, j++) {
    a[j] += (double)x[i] * (double)y[i];
    b[j] += (double)y[i] * (double)y[i];
  }
  for (int w = DOT_LANES / 2; w > 0; w /= 2)
    for (int j = 0; j < w; j++) {
      a[j] += a[j + w];
      b[j] += b[j + w];
    }
  *xy = a[0];
  *yy = b[0];
}

__attribute__((target("avx2,fma"))) static void dot_pair_avx2(size_t n, const float *x, const float *y, double *xy, double *yy) { dot_pair_lanes(n, x, y, xy, yy); }

static void dot_pair_sse2(size_t n, const float *x, const float *y, double *xy, double *yy) { dot_pair_lanes(n, x, y, xy, yy); }

// Reads (heap, xOffset, yOffset, n) and resolves the two vectors inside the heap.
static int dot_args(napi_env env, napi_callback_info info, const char *fn, napi_value *argv, const float **x, const float **y, size_t *n) {
  void *data;
  size_t byte_length;
  static const char *const names[] = {"xOffset", "yOffset", "n"};
  size_t s[3];
  char msg[200];
  if (!heap_and_sizes(env, info, fn, "heap, xOffset, yOffset, n", 4, argv, &data, &byte_length, names, 3, s)) return 0;
  size_t x_off = s[0], y_off = s[1];
  *n = s[2];
  if ((x_off | y_off) & 3) {
    snprintf(msg, sizeof msg, "%s: offsets are not 4-byte aligned", fn);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  if (extent(x_off, *n, 1, 0, 0) > byte_length || extent(y_off, *n, 1, 0, 0) > byte_length) {
    snprintf(msg, sizeof msg, "%s: vectors of %zu floats at bytes %zu and %zu; expected them inside the heap of %zu bytes", fn, *n, x_off, y_off, byte_length);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *x = (const float *)((char *)data + x_off);
  *y = (const float *)((char *)data + y_off);
  return 1;
}

// x . y of two float32 vectors in the heap in double: one pass, no tfjs kernels or read-back, for the scalar
// products of parameter vectors (power and Lanczos iterations).
static napi_value dot_f64_napi(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  const float *x, *y;
  size_t n;
  if (!dot_args(env, info, "dotF64", argv, &x, &y, &n)) return NULL;
  napi_value r;
  CHECK(napi_create_double(env, dot_f64(n, x, y), &r));
  return r;
}

// [x . y, y . y]: a power iteration's Rayleigh quotient and norm of H v in one pass.
static napi_value dot_pair_napi(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  const float *x, *y;
  size_t n;
  if (!dot_args(env, info, "dotPairF64", argv, &x, &y, &n)) return NULL;
  double xy, yy;
  (cpu_avx2() ? dot_pair_avx2 : dot_pair_sse2)(n, x, y, &xy, &yy);
  napi_value r, a, b;
  CHECK(napi_create_array_with_length(env, 2, &r));
  CHECK(napi_create_double(env, xy, &a));
  CHECK(napi_create_double(env, yy, &b));
  CHECK(napi_set_element(env, r, 0, a));
  CHECK(napi_set_element(env, r, 1, b));
  return r;
}

static napi_value set_outer_product(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  bool on;
  if (argc != 1 || napi_get_value_bool(env, argv[0], &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "setOuterProduct: expected one boolean");
    return NULL;
  }
  outer_native = on;
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
  max_threads = t;
  use_threads(t);
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_int32(env, max_threads, &r));
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
      {"sgemmScaled", NULL, sgemm_scaled, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sgemmScaledAccumulate", NULL, sgemm_scaled_accumulate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ssyrk", NULL, ssyrk, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gramsBatch", NULL, grams_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"jet1", NULL, jet1, NULL, NULL, NULL, napi_enumerable, NULL},
      {"jet1GradZ0", NULL, jet1_grad_z0, NULL, NULL, NULL, napi_enumerable, NULL},
      {"jet1GradS", NULL, jet1_grad_s, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sigmoidBack", NULL, sigmoid_back_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"scale", NULL, scale_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sigmoid", NULL, sigmoid_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"reluGrad", NULL, relu_grad_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dotF64", NULL, dot_f64_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dotPairF64", NULL, dot_pair_napi, NULL, NULL, NULL, napi_enumerable, NULL},
      {"descentStep", NULL, descent_step, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setOuterProduct", NULL, set_outer_product, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, config, NULL, NULL, NULL, napi_enumerable, NULL},
      {"corename", NULL, corename, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
