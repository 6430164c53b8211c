// enum_bits: the value a caller stored in an enum-typed argument, read without loading it as the enum.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace gg {

// A C caller (and the .NET layer's P/Invoke) may pass any int32 where the C ABI names an enum, by value or in an args
// struct. In C++ an enum without a fixed underlying type holds only the values of its range, so loading an
// out-of-range value as the enum (a comparison, a switch, a cast, passing it on) is undefined behaviour, before any
// check can refuse it (UBSan: "load of value 9, which is not a valid value for type 'gg_dtype'"; -fstrict-enums would
// let the compiler drop the check). memcpy reads the object's bytes, not its value as the enum. So every entry point
// reads each enum argument through this first, checks the int32_t, and uses the enum-typed value only once it is
// known to be one of its enumerators.
template <typename E>
inline int32_t enum_bits(const E& value) {
    static_assert(std::is_enum_v<E>, "enum_bits reads an enum argument");
    static_assert(sizeof(E) == sizeof(int32_t), "the C ABI's enums are 32-bit (the .NET bindings pass int32)");
    int32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

}  // namespace gg
