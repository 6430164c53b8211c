// store_bits: what a C caller does with an enum field of an args struct, store any int32 in it. Through memcpy,
// since C++ has no other way to put a value outside an enum's range into an enum object (a static_cast to such a
// value is undefined, and UBSan would report the test's own load of it).
#pragma once

#include <cstdint>
#include <cstring>

namespace gg_test {

template <typename E>
void store_bits(E& field, int32_t bits) {
    static_assert(sizeof(E) == sizeof bits, "the C ABI's enums are 32-bit");
    std::memcpy(&field, &bits, sizeof bits);
}

}  // namespace gg_test
