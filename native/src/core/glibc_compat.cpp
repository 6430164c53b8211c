// Keeps libgroupedgemm.so loadable on the glibc of the distributions CUDA supports (2.34 and newer: RHEL 9,
// Ubuntu 22.04, Debian 12) when it is built on a newer one, as the release library is (the GPU host's glibc 2.39):
//  - glibc 2.38's headers redirect strtol/strtoul to __isoc23_strtol/__isoc23_strtoul (C23 parsing of "0b"
//    prefixes), versioned GLIBC_2.38; the release build referenced both;
//  - arc4random appeared in glibc 2.36 and was referenced too.
// Hidden definitions here satisfy those references at link time, so the library never asks the loader for them.
// native/tests/glibc_versions_test.cmake checks the result: no symbol newer than GLIBC_2.34.
#include <features.h>

#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 36)
#include <sys/random.h>

#include <cstdint>
#endif

extern "C" {

#if __GLIBC_PREREQ(2, 38)
// The plain (pre-C23) functions, named by their symbols: <stdlib.h> would redirect these very names.
long gg_plain_strtol(const char* text, char** end, int base) __asm__("strtol");
unsigned long gg_plain_strtoul(const char* text, char** end, int base) __asm__("strtoul");

__attribute__((visibility("hidden"))) long __isoc23_strtol(const char* text, char** end, int base) {
    return gg_plain_strtol(text, end, base);
}
__attribute__((visibility("hidden"))) unsigned long __isoc23_strtoul(const char* text, char** end, int base) {
    return gg_plain_strtoul(text, end, base);
}
#endif

#if __GLIBC_PREREQ(2, 36)
// From the kernel's random source (getrandom, glibc 2.25), as glibc's own arc4random does.
__attribute__((visibility("hidden"))) uint32_t arc4random(void) {
    uint32_t value = 0;
    while (getrandom(&value, sizeof value, 0) != static_cast<ssize_t>(sizeof value)) {
    }
    return value;
}
#endif

}  // extern "C"
#endif
