/* The salcrop C ABI fuzz target: runs the program spelled by one input; abort()s on a broken promise. */
#ifndef SALCROP_FUZZ_C_API_H
#define SALCROP_FUZZ_C_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int salcrop_fuzz_one(const uint8_t *data, size_t size);

/* One line: how many engines, pushes, decisions... the inputs so far reached. */
void salcrop_fuzz_report(FILE *f);

#endif /* SALCROP_FUZZ_C_API_H */
