// libFuzzer's driver entry point (compiler-rt FuzzerInterface.h), for an executable whose `main`
// SwiftPM renames: `slawatch_fuzz_main` calls it with the fuzz callback.
#ifndef SLAWATCH_LIBFUZZER_H
#define SLAWATCH_LIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
