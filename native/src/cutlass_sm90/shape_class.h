// The shape classes of Auto's measured tile table (sm90_tile_table.inc): what a call's cutlass-sm90 tile may depend on
// when the batch sizes live on the device, so that a table row measured on some models' shapes applies to every shape
// of its class. Read by tile_choice.h (the lookup), by native/tests/sm90_choice.cpp (`--class`, which is how
// bench/sweep/make_tile_table.py classifies measured rows: no second copy of these bounds in Python).
#pragma once

#include <cstdint>
#include <cstdio>

#include "cutlass_common/group_arrays.cuh"

namespace gg::cutlass_sm90 {

// The policy's size measure: rows per expert on average (device counts give no more than that). tile_choice.h's rules
// and the measured table's classes both size a call by it.
inline int64_t mean_rows_per_expert(const GmmProblem& p) { return p.m / (p.num_experts > 0 ? p.num_experts : 1); }

// The operand form: forward (weights [E, K, N]), trans_b (weights [E, N, K]) or weight gradient (trans_a).
enum class FormClass : uint8_t { kForward, kTransB, kWeightGrad };
// Mean rows per expert, the only size measure device counts give: below 16 (decode), 64, 256, 1024, 4096, and above.
enum class RowsClass : uint8_t { kBelow16, kBelow64, kBelow256, kBelow1024, kBelow4096, kFrom4096 };
// The widest of the tile widths 256, 192 and 128 that cut n exactly (192: gpt-oss's 2880 and 5760), else none.
enum class NClass : uint8_t { k256, k192, k128, kOther };
// The reduction depth of a forward (k), or the output rows of a weight gradient (also k): below 1024, 4096, above.
enum class KClass : uint8_t { kBelow1024, kBelow4096, kFrom4096 };
// The card, by peak DRAM bandwidth: the H100 SXM (3.35 TB/s) below 4.5 TB/s, the H200 (4.8 TB/s) above; unknown (0)
// counts as below. tile_choice.h's own rules split the cards at the same bandwidth.
enum class CardClass : uint8_t { kBelow4500GBs, kFrom4500GBs };

struct ShapeClass {
    FormClass form;
    RowsClass rows;
    NClass n;
    KClass k;
    CardClass card;
    constexpr bool operator==(const ShapeClass& o) const {
        return form == o.form && rows == o.rows && n == o.n && k == o.k && card == o.card;
    }
};

// The DRAM bandwidth that parts the two measured cards, the H100 SXM (3.35 TB/s) and the H200 (4.8 TB/s): the measured
// tile table's card classes and tile_choice.h's one card rule (the ping-pong 1x2 forward tile) both split here.
inline constexpr double kCardClassDramBytesPerS = 4.5e12;

inline ShapeClass classify(const GmmProblem& p, double dram_bytes_per_s) {
    const int64_t rows = mean_rows_per_expert(p);
    const RowsClass r = rows < 16     ? RowsClass::kBelow16
                        : rows < 64   ? RowsClass::kBelow64
                        : rows < 256  ? RowsClass::kBelow256
                        : rows < 1024 ? RowsClass::kBelow1024
                        : rows < 4096 ? RowsClass::kBelow4096
                                      : RowsClass::kFrom4096;
    const NClass n = p.n % 256 == 0 ? NClass::k256 : p.n % 192 == 0 ? NClass::k192 : p.n % 128 == 0 ? NClass::k128
                                                                                                       : NClass::kOther;
    const KClass k = p.k < 1024 ? KClass::kBelow1024 : p.k < 4096 ? KClass::kBelow4096 : KClass::kFrom4096;
    const FormClass f = p.trans_a ? FormClass::kWeightGrad : p.trans_b ? FormClass::kTransB : FormClass::kForward;
    const CardClass c = dram_bytes_per_s >= kCardClassDramBytesPerS ? CardClass::kFrom4500GBs : CardClass::kBelow4500GBs;
    return {f, r, n, k, c};
}

// Each class value's two names: its token in the class key and its enumerator in a table row.
struct ClassNames {
    const char* key;
    const char* enumerator;
};
inline constexpr ClassNames kFormNames[] = {{"forward", "kForward"}, {"forward-transb", "kTransB"},
                                            {"weight-grad", "kWeightGrad"}};
inline constexpr ClassNames kRowsNames[] = {{"r0-16", "kBelow16"},     {"r16-64", "kBelow64"},
                                            {"r64-256", "kBelow256"},  {"r256-1k", "kBelow1024"},
                                            {"r1k-4k", "kBelow4096"},  {"r4k+", "kFrom4096"}};
inline constexpr ClassNames kNNames[] = {{"n256", "k256"}, {"n192", "k192"}, {"n128", "k128"}, {"nother", "kOther"}};
inline constexpr ClassNames kKNames[] = {{"k0-1k", "kBelow1024"}, {"k1k-4k", "kBelow4096"}, {"k4k+", "kFrom4096"}};
inline constexpr ClassNames kCardNames[] = {{"dram-4.5T", "kBelow4500GBs"}, {"dram4.5T+", "kFrom4500GBs"}};

// The class's names joined: keys by '.' ("forward.r64-256.n192.k1k-4k.dram-4.5T", what the table's comments and the
// generator's report show) or enumerators by ", " (a row's arguments, "kForward, kBelow256, k192, kBelow4096,
// kBelow4500GBs": bench/sweep/make_tile_table.py writes what this prints, so that the names live here only).
inline const char* class_text(ShapeClass c, bool enumerators, char* out, size_t size) {
    const ClassNames* parts[] = {&kFormNames[static_cast<int>(c.form)], &kRowsNames[static_cast<int>(c.rows)],
                                 &kNNames[static_cast<int>(c.n)], &kKNames[static_cast<int>(c.k)],
                                 &kCardNames[static_cast<int>(c.card)]};
    auto name = [&](int i) { return enumerators ? parts[i]->enumerator : parts[i]->key; };
    const char* sep = enumerators ? ", " : ".";
    std::snprintf(out, size, "%s%s%s%s%s%s%s%s%s", name(0), sep, name(1), sep, name(2), sep, name(3), sep, name(4));
    return out;
}
inline const char* class_key(ShapeClass c, char* out, size_t size) { return class_text(c, false, out, size); }
inline const char* class_enumerators(ShapeClass c, char* out, size_t size) { return class_text(c, true, out, size); }

}  // namespace gg::cutlass_sm90
