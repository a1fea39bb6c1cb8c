// SPDX-License-Identifier: MIT
// The frame content: one 64-bit add per word to write it, one compare per word to check it.
#include "framepattern.h"

#include <cstring>

namespace FrameRing {

namespace {

constexpr quint64 Word = sizeof(quint64);

quint64 baseOf(quint32 frame)
{
    // The golden-ratio constant is odd: distinct frames get distinct bases.
    return quint64(frame) * 0x9E3779B97F4A7C15ull;
}

} // namespace

void renderFrame(char *out, qsizetype size, quint32 frame)
{
    const quint64 base = baseOf(frame);
    const qsizetype words = size / qsizetype(Word);
    // memcpy per word: no alignment or aliasing assumptions, and compilers
    // turn it into plain (vectorised) stores.
    for (qsizetype j = 0; j < words; ++j) {
        const quint64 value = base + quint64(j);
        std::memcpy(out + j * qsizetype(Word), &value, Word);
    }
}

qsizetype firstWrongWord(const char *bytes, qsizetype size, quint32 frame)
{
    const quint64 base = baseOf(frame);
    const qsizetype words = size / qsizetype(Word);
    // Compare a block at a time without a branch per word; find the word only
    // in a block that failed.
    constexpr qsizetype Block = 512;
    for (qsizetype start = 0; start < words; start += Block) {
        const qsizetype end = qMin(words, start + Block);
        quint64 difference = 0;
        for (qsizetype j = start; j < end; ++j) {
            quint64 value;
            std::memcpy(&value, bytes + j * qsizetype(Word), Word);
            difference |= value ^ (base + quint64(j));
        }
        if (difference == 0)
            continue;
        for (qsizetype j = start; j < end; ++j) {
            quint64 value;
            std::memcpy(&value, bytes + j * qsizetype(Word), Word);
            if (value != base + quint64(j))
                return j;
        }
    }
    return -1;
}

} // namespace FrameRing
