// Declarations only (include/libfuzzer.h); the definitions come from libFuzzer, linked by
// -sanitize=fuzzer.
#include "libfuzzer.h"
