/* Peak heap of a stretch of code: a malloc interposer loaded with LD_PRELOAD (bench/heap.py builds
 * it with the system's C compiler and drives it through ctypes).
 *
 * After heap_peak_reset(), every allocation of MIN_BYTES or more made through malloc, calloc,
 * realloc, posix_memalign, aligned_alloc or memalign is recorded with its size until it is freed;
 * heap_peak_bytes() is the largest total of such allocations alive at once since the reset.
 * Allocations made before the reset are not counted, nor are their frees: the figure is what the
 * measured code itself holds at its peak (XLA's buffers, its runtime's workspaces, the copies of
 * the arguments), exact to the byte, unlike the resident size, which moves with page faults, the
 * allocator's caches and what other threads touch.
 * Memory mapped without malloc (Python's small-object arenas) is not seen.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MIN_BYTES 4096
#define SLOTS (1u << 17) /* open addressing; far more than the live buffers of one call */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

/* dlsym may allocate before the real functions are known: serve that from here, never freed */
static char boot[1 << 16];
static size_t boot_used;

struct slot { void *p; size_t n; };
static struct slot table[SLOTS];
static size_t live, peak;
static int counting;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void resolve(void) {
    if (real_malloc) return;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
}

static int from_boot(void *p) { return (char *)p >= boot && (char *)p < boot + sizeof boot; }

static void *boot_alloc(size_t n) {
    size_t at = (boot_used + 15) & ~(size_t)15;
    if (at + n > sizeof boot) return NULL;
    boot_used = at + n;
    return boot + at;
}

static size_t home(void *p) { return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull >> 47) & (SLOTS - 1); }

static void record(void *p, size_t n) {
    if (!p || n < MIN_BYTES || !counting) return;
    pthread_mutex_lock(&lock);
    for (size_t k = 0, i = home(p); k < SLOTS; k++, i = (i + 1) & (SLOTS - 1)) {
        if (!table[i].p) {
            table[i].p = p;
            table[i].n = n;
            live += n;
            if (live > peak) peak = live;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
}

static void forget(void *p) {
    if (!p || !counting) return;
    pthread_mutex_lock(&lock);
    size_t i = home(p);
    while (table[i].p && table[i].p != p) i = (i + 1) & (SLOTS - 1);
    if (table[i].p == p) {
        live -= table[i].n;
        table[i].p = NULL;
        /* backward-shift deletion: move up the entries of the probe run that follows */
        for (size_t j = (i + 1) & (SLOTS - 1); table[j].p; j = (j + 1) & (SLOTS - 1)) {
            size_t h = home(table[j].p);
            int between = (i <= j) ? (i < h && h <= j) : (i < h || h <= j);
            if (!between) {
                table[i] = table[j];
                table[j].p = NULL;
                i = j;
            }
        }
    }
    pthread_mutex_unlock(&lock);
}

void heap_peak_reset(void) {
    pthread_mutex_lock(&lock);
    memset(table, 0, sizeof table);
    live = peak = 0;
    counting = 1;
    pthread_mutex_unlock(&lock);
}

size_t heap_peak_bytes(void) { return peak; }

void *malloc(size_t n) {
    if (!real_malloc) {
        void *p = boot_alloc(n);
        if (p) return p;
        resolve();
    }
    void *p = real_malloc(n);
    record(p, n);
    return p;
}

void free(void *p) {
    if (!p || from_boot(p)) return;
    resolve();
    forget(p);
    real_free(p);
}

void *calloc(size_t a, size_t b) {
    if (!real_calloc) {
        void *p = boot_alloc(a * b); /* static storage: already zero */
        if (p) return p;
        resolve();
    }
    void *p = real_calloc(a, b);
    record(p, a * b);
    return p;
}

void *realloc(void *p, size_t n) {
    resolve();
    if (from_boot(p)) {
        void *q = real_malloc(n);
        size_t left = (size_t)(boot + sizeof boot - (char *)p); /* never read past the buffer */
        if (q) memcpy(q, p, n < left ? n : left);
        record(q, n);
        return q;
    }
    forget(p);
    void *q = real_realloc(p, n);
    record(q, n);
    return q;
}

int posix_memalign(void **out, size_t align, size_t n) {
    resolve();
    int r = real_posix_memalign(out, align, n);
    if (r == 0) record(*out, n);
    return r;
}

void *aligned_alloc(size_t align, size_t n) {
    resolve();
    void *p = real_aligned_alloc(align, n);
    record(p, n);
    return p;
}

void *memalign(size_t align, size_t n) {
    resolve();
    void *p = real_memalign(align, n);
    record(p, n);
    return p;
}
