/*
 * Seeded random driver for the C ABI fuzz target, for machines without clang's libFuzzer.
 *
 *   fuzz_main SECONDS [SEED]     random inputs until the time is up (seed defaults to the clock)
 *   fuzz_main --one SEED ITER    rerun exactly input ITER of that seed (a reproduction)
 *   fuzz_main --file PATH...     run saved inputs (e.g. libFuzzer crash files or a corpus)
 *
 * Input ITER of SEED is a pure function of the two numbers, and both are printed before every input
 * runs, so a sanitizer report or an abort always comes with the command that reproduces it.
 */
#define _POSIX_C_SOURCE 199309L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_c_api.h"

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_input(uint64_t seed, uint64_t iter)
{
    uint64_t s = seed * 0x100000001B3ull ^ iter;
    /* Mostly short programs (cheap engines, many option mixes), sometimes long ones (streaming). */
    size_t n = (splitmix(&s) % 4 == 0) ? 200 + splitmix(&s) % 1800 : 16 + splitmix(&s) % 240;
    uint8_t *buf = malloc(n);
    size_t i;

    if (!buf)
        abort();
    for (i = 0; i < n; i++)
        buf[i] = (uint8_t)splitmix(&s);
    salcrop_fuzz_one(buf, n);
    free(buf);
}

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        fprintf(stderr, "fuzz_main: cannot read %s\n", path);
        return 1;
    }
    buf = malloc(n ? n : 1);
    if (!buf || fread(buf, 1, n, f) != (size_t)n) {
        fprintf(stderr, "fuzz_main: cannot read %s\n", path);
        return 1;
    }
    fclose(f);
    fprintf(stderr, "fuzz_main: %s (%ld bytes)\n", path, n);
    salcrop_fuzz_one(buf, n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds, start;
    uint64_t seed, iter;
    int i;

    if (argc >= 4 && !strcmp(argv[1], "--one")) {
        seed = strtoull(argv[2], NULL, 0);
        iter = strtoull(argv[3], NULL, 0);
        fprintf(stderr, "fuzz_main: seed %llu input %llu\n", (unsigned long long)seed, (unsigned long long)iter);
        run_input(seed, iter);
        fprintf(stderr, "fuzz_main: ok\n");
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "--file")) {
        for (i = 2; i < argc; i++)
            if (run_file(argv[i]))
                return 1;
        return 0;
    }
    if (argc < 2 || (seconds = atof(argv[1])) <= 0) {
        fprintf(stderr, "usage: %s SECONDS [SEED] | --one SEED ITER | --file PATH...\n", argv[0]);
        return 2;
    }
    seed = argc >= 3 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL);
    start = now();
    for (iter = 0; now() - start < seconds; iter++) {
        fprintf(stderr, "fuzz_main: input %llu (reproduce: fuzz_main --one %llu %llu)\n",
                (unsigned long long)iter, (unsigned long long)seed, (unsigned long long)iter);
        run_input(seed, iter);
    }
    printf("fuzz_main: %llu inputs in %.1f s, seed %llu, no failure: ", (unsigned long long)iter, now() - start,
           (unsigned long long)seed);
    salcrop_fuzz_report(stdout);
    return 0;
}
