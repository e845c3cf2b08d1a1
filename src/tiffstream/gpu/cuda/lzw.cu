// TIFF LZW (MSB-first codes of 9 to 12 bits, Clear 256, EOI 257, "early change"), a warp per chunk, 32 codes
// at a time; also the old style of libtiff before 5.0 (LSB-first codes, each width one code later), which
// libtiff and imagecodecs still read: its data starts with the bytes 0x00 and 0x?1 (a Clear, LSB-first).
// Nothing in LZW is sequential except through the code table, and the table follows from the codes:
// - a code's width depends only on its index i since the last Clear, so each lane reads its own code;
// - code 258 + j stands for the output of code j of the segment plus one byte, so a string's length is one more
//   than that of an earlier code (pointer jumping over the batch) and it is a copy of earlier output;
// - output positions are a prefix sum of the lengths.
// A lane's string is copied once no earlier lane of the batch still has to write bytes it reads. The only
// state kept per chunk is where each code's output starts (3,839 positions in shared memory).
// On an H100, 10,752 256x256 tiles (benchmarks/gpu_lzw.py): 6 ms; a thread a chunk took 54 ms.
// For a few chunks (one image) the latency of one chunk is what counts: lzw_decode16_segments gives a chunk a
// block and decodes its segments (the codes between two Clears, about 5 KB each) side by side, each with no
// step that waits for the one before (see there).
#include "common.cuh"

#define LZW_SLOTS 3840       // output positions of codes 0..3838 of a segment: entries 258..4095 and their ends
#define LZW_SHORT_STRING 8   // longer strings are copied by the whole warp

// Width and bit offset of the i-th code after a Clear (early change; the old style's are those of code i - 1,
// its offsets 9 bits later).
__device__ __forceinline__ int lzw_width(int i) { return i <= 253 ? 9 : i <= 765 ? 10 : i <= 1789 ? 11 : 12; }

__device__ __forceinline__ long long lzw_bit(int i) {
    return i <= 253    ? 9LL * i
           : i <= 765  ? 2286LL + 10LL * (i - 254)
           : i <= 1789 ? 7406LL + 11LL * (i - 766)
                       : 18670LL + 12LL * (i - 1790);
}

// Copy the string of each lane in `now` (literals are one byte). `stop` ends the chunk's output.
__device__ __forceinline__ void lzw_copy(u8* out, unsigned now, bool literal, int code, long long at, long long from,
                                         int own, int len, long long stop) {
    const int lane = threadIdx.x & 31;
    bool mine = (now >> lane) & 1;
    if (mine && literal) {
        out[at] = (u8)code;
    } else if (mine && len <= LZW_SHORT_STRING) {  // every load before any store: one memory round trip
        u8 t[LZW_SHORT_STRING];
        #pragma unroll
        for (int k = 0; k < LZW_SHORT_STRING; ++k) t[k] = k < own ? out[from + k] : 0;
        #pragma unroll
        for (int k = 0; k < LZW_SHORT_STRING; ++k)
            if (k < len && at + k < stop) out[at + k] = k < own ? t[k] : t[0];  // KwKwK: the last byte is the first
    }
    unsigned longs = __ballot_sync(0xffffffffu, mine && !literal && len > LZW_SHORT_STRING);
    while (longs) {
        int who = __ffs(longs) - 1;
        longs &= longs - 1;
        long long w_at = __shfl_sync(0xffffffffu, at, who), w_from = __shfl_sync(0xffffffffu, from, who);
        int w_own = __shfl_sync(0xffffffffu, own, who), w_len = __shfl_sync(0xffffffffu, len, who);
        for (int k = lane; k < w_own; k += 32)
            if (w_at + k < stop) out[w_at + k] = out[w_from + k];
        if (lane == 0 && w_own < w_len && w_at + w_own < stop) out[w_at + w_own] = out[w_from];
    }
}

// The code of `width` bits at bit `bit` (MSB-first; LSB-first for the old style).
__device__ __forceinline__ int lzw_code(const u8* in, long long size, long long bit, int width, int late) {
    long long at = bit >> 3;
    u32 b0 = __ldg(in + at), b1 = at + 1 < size ? __ldg(in + at + 1) : 0u;
    u32 b2 = at + 2 < size ? __ldg(in + at + 2) : 0u;
    u32 bits = late ? (b0 | (b1 << 8) | (b2 << 16)) >> (int)(bit & 7)
                    : ((b0 << 16) | (b1 << 8) | b2) >> (24 - (int)(bit & 7) - width);
    return (int)(bits & ((1u << width) - 1));
}

// The last table entry when code i of a segment is read: a larger code is invalid.
__device__ __forceinline__ int lzw_limit(int i) { return i == 0 ? 255 : min(257 + i, 4095); }

// A warp decodes a chunk, 32 codes at a time. Returns the bytes decoded (at most the capacity), or -1 for an
// invalid code.
template <typename P>
__device__ long long lzw_run(const u8* in, long long size, int late, u8* out, long long capacity, P* start_of) {
    const int lane = threadIdx.x & 31;
    const unsigned all = 0xffffffffu;
    long long total_bits = size * 8, segment = 0, pos = 0;  // where the segment's first code is; the output's end
    int i0 = 0;  // index of the batch's first code in its segment
    while (true) {
        int i = i0 + lane, width = lzw_width(i - late);
        long long bit = segment + lzw_bit(i - late) + 9 * late;
        bool have = bit + width <= total_bits;
        int code = have ? lzw_code(in, size, bit, width, late) : -1;
        unsigned ends = __ballot_sync(all, !have || code == 256 || code == 257 || code > lzw_limit(i));
        int f = ends ? __ffs(ends) - 1 : 32;  // lanes before f hold codes of this segment
        bool valid = lane < f, literal = code < 256;
        int parent = code - 258;  // this string is that code's string plus one byte
        int len = 1, target = -1;
        if (valid && !literal) {
            if (parent < i0) len = (int)start_of[parent + 1] - (int)start_of[parent] + 1;
            else target = parent - i0;
        }
        #pragma unroll
        for (int r = 0; r < 5; ++r) {  // pointer jumping: chains inside the batch are shorter than 32
            int from_lane = target >= 0 ? target : lane;
            int add = __shfl_sync(all, len, from_lane), next_target = __shfl_sync(all, target, from_lane);
            if (target >= 0) { len += add; target = next_target; }
        }
        if (!valid) len = 0;
        int inclusive = len;
        #pragma unroll
        for (int d = 1; d < 32; d <<= 1) {
            int t = __shfl_up_sync(all, inclusive, d);
            if (lane >= d) inclusive += t;
        }
        long long at = pos + inclusive - len;
        bool read = valid && at < capacity;  // codes past the output's end are never read (a prefix of lanes reads)
        unsigned reading = __ballot_sync(all, read);
        int count = __popc(reading);
        long long end = pos + (count ? __shfl_sync(all, inclusive, count - 1) : 0);
        if (read && i < LZW_SLOTS) start_of[i] = (P)at;
        if (lane == 0 && i0 + count < LZW_SLOTS) start_of[i0 + count] = (P)end;
        __syncwarp();
        long long from = read && !literal ? (long long)start_of[parent] : 0;
        int own = read && !literal ? (int)min((long long)len, at - from) : 0;  // bytes before this string's output
        long long stop = end < capacity ? end : capacity;
        unsigned todo = reading;
        while (todo) {  // a lane may copy once no earlier lane still to copy writes what it reads
            long long begin = __shfl_sync(all, at, __ffs(todo) - 1);
            unsigned waits = __ballot_sync(all, ((todo >> lane) & 1) && !literal && from + own > begin) & todo;
            unsigned now = waits ? todo & ((1u << (__ffs(waits) - 1)) - 1) : todo;
            lzw_copy(out, now, literal, code, at, from, own, len, stop);
            todo &= ~now;
            __syncwarp();
        }
        pos = end;
        if (count < f || end >= capacity) return capacity;  // the output is full
        if (f < 32) {  // lane f holds a Clear, an EOI, an invalid code, or the data ended
            int last = __shfl_sync(all, code, f);
            if (last != 256) return last == 257 || last < 0 ? end : -1;
            segment = __shfl_sync(all, bit, f) + __shfl_sync(all, width, f);
            i0 = 0;
        } else {
            i0 += 32;
        }
    }
}

// written[c]: bytes decoded (at most the capacity), or -1 for an invalid code. A chunk is in the old style when
// it starts with the bytes 0x00 0x?1, as libtiff tells them apart. P holds output positions: u16 for chunks up
// to 64 KiB (7.5 KiB of shared memory a warp), u32 beyond.
template <typename P>
__device__ void lzw_decode(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity, i64* written,
                           long long nchunks, P* tables) {
    long long c = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (c >= nchunks) return;
    const u8* in = (const u8*)src[c];
    long long size = src_size[c], capacity = dst_capacity[c];
    long long most = sizeof(P) == 2 ? 65536LL : 0xffffffffLL;
    const int late = size >= 2 && __ldg(in) == 0 && (__ldg(in + 1) & 1) ? 1 : 0;  // old style (the whole warp)
    P* table = tables + (threadIdx.x >> 5) * LZW_SLOTS;
    long long result = lzw_run<P>(in, size, late, (u8*)dst[c], min(capacity, most), table);
    if ((threadIdx.x & 31) == 0) written[c] = result;
}

extern "C" __global__ void lzw_decode16(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w,
                                        long long n) {
    extern __shared__ u16 lzw_tables16[];
    lzw_decode<u16>(s, ss, d, dc, w, n, lzw_tables16);
}
extern "C" __global__ void lzw_decode32(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w,
                                        long long n) {
    extern __shared__ u32 lzw_tables32[];
    lzw_decode<u32>(s, ss, d, dc, w, n, lzw_tables32);
}

#define LZW_MAX_SEGMENTS 64     // segments of a chunk decoded by groups (more: one warp decodes it all)
#define LZW_GROUP 128           // threads of a group: lzw_decode16_segments runs blockDim.x / LZW_GROUP at once
#define LZW_SEGMENT_CODES 4094  // codes of a segment a group decodes (longer: one warp decodes the chunk)
#define LZW_GROUP_SLOTS 4096    // a group's codes (u16) and words (u32) in shared memory
#define LZW_DONE 0xfffu

// For a few chunks of up to 64 KiB (one image), where the latency of a chunk is what counts: a block a chunk.
// The block first finds where each segment (the codes between two Clears) starts, segment after segment,
// reading all codes a segment can have at once (a code's width and place follow from its index). Then groups of LZW_GROUP threads
// take a segment each, and decode it with no step that waits for the one before:
// - each code's string length and first byte by pointer jumping: code 258 + j extends the string of the
//   segment's code j (literals end the chains), a word per code holding (length so far, the code still to add,
//   first byte) updated in place, as often as the longest chain needs (at most 12 rounds);
// - where each string starts: a prefix sum of the lengths (in the group), and of the segments' totals;
// - each thread writes its codes' strings back to front: the last byte of code c's string is the first byte of
//   code c - 257 (the code after the one it extends; itself for KwKwK, where the two are equal), the byte
//   before it that of the code it extends, and so on down to a literal.
// An old-style chunk, one with more segments or longer ones, an invalid code, or output past the capacity is
// decoded by one warp as lzw_decode16 would. Shared memory: 6 bytes a code of each group (24 KiB).
extern "C" __global__ void __launch_bounds__(1024) lzw_decode16_segments(const u64* src, const i64* src_size,
                                                                         const u64* dst, const i64* dst_capacity,
                                                                         i64* written, long long nchunks) {
    extern __shared__ __align__(16) u32 lzw_words[];  // the groups' words, then their codes
    __shared__ long long seg_bit[LZW_MAX_SEGMENTS], seg_base[LZW_MAX_SEGMENTS + 1];
    __shared__ int seg_codes[LZW_MAX_SEGMENTS], group_total[1024 / LZW_GROUP], warp_sums[32];
    __shared__ int first_end, segments, split, scanned;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int groups = blockDim.x / LZW_GROUP, group = threadIdx.x / LZW_GROUP, member = threadIdx.x % LZW_GROUP;
    long long c = blockIdx.x;
    if (c >= nchunks) return;
    u8* out = (u8*)dst[c];
    const u8* in = (const u8*)src[c];
    long long size = src_size[c], capacity = min((long long)dst_capacity[c], 65536LL), total_bits = size * 8;
    const int late = size >= 2 && __ldg(in) == 0 && (__ldg(in + 1) & 1) ? 1 : 0;
    if (threadIdx.x == 0) {
        segments = 0; split = !late; scanned = 0; seg_bit[0] = 0; seg_base[0] = 0; first_end = 0x7fffffff;
    }
    __syncthreads();
    while (split && !scanned) {  // where segment `segments` ends: its Clear, or the chunk's end (EOI, ...)
        const long long start = seg_bit[segments];
        for (int i = threadIdx.x; i <= LZW_SEGMENT_CODES; i += blockDim.x) {  // all its codes at once
            int width = lzw_width(i);
            long long bit = start + lzw_bit(i);
            bool have = bit + width <= total_bits;
            int code = have ? lzw_code(in, size, bit, width, 0) : -1;
            if (!have || code == 256 || code == 257 || code > lzw_limit(i)) {
                atomicMin(&first_end, i);
                break;
            }
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            int stop = first_end == 0x7fffffff ? -1 : first_end;
            long long bit = start + lzw_bit(stop);
            int width = lzw_width(stop);
            int code = stop >= 0 && bit + width <= total_bits ? lzw_code(in, size, bit, width, 0) : -1;
            seg_codes[segments] = stop;
            segments += 1;
            first_end = 0x7fffffff;
            if (stop < 0 || code > 257 || (code == 256 && segments == LZW_MAX_SEGMENTS)) split = 0;  // one warp
            else if (code == 256) seg_bit[segments] = bit + width;
            else scanned = 1;  // that was the last segment (EOI, or the data ended)
        }
        __syncthreads();
    }
    u32* words = lzw_words + group * LZW_GROUP_SLOTS;
    u16* codes = (u16*)(lzw_words + groups * LZW_GROUP_SLOTS) + group * LZW_GROUP_SLOTS;
    for (int wave = 0; split && wave < segments; wave += groups) {
        const int k = wave + group, n = k < segments ? seg_codes[k] : 0;
        const long long first_bit = k < segments ? seg_bit[k] : 0;
        for (int i = member; i < n; i += LZW_GROUP) {
            int code = lzw_code(in, size, first_bit + lzw_bit(i), lzw_width(i), 0);
            codes[i] = (u16)code;
            words[i] = code < 256 ? 1u | (LZW_DONE << 12) | ((u32)code << 24) : 1u | ((u32)(code - 258) << 12);
        }
        bool more = true;
        while (__syncthreads_or(more)) {  // chains point to earlier codes, down to a literal
            more = false;
            for (int i = member; i < n; i += LZW_GROUP) {
                u32 w = words[i], to = (w >> 12) & 0xfffu;
                if (to != LZW_DONE) {
                    u32 v = words[to];  // one load: its length and pointer belong together
                    words[i] = ((w & 0xfffu) + (v & 0xfffu)) | (v & 0xfffff000u);
                    more |= ((v >> 12) & 0xfffu) != LZW_DONE;
                }
            }
        }
        const int per = (n + LZW_GROUP - 1) / LZW_GROUP, lo = min(n, member * per), hi = min(n, lo + per);
        int sum = 0;
        for (int i = lo; i < hi; ++i) sum += words[i] & 0xfffu;
        int inclusive = sum;
        #pragma unroll
        for (int d = 1; d < 32; d <<= 1) {
            int t = __shfl_up_sync(0xffffffffu, inclusive, d);
            if (lane >= d) inclusive += t;
        }
        if (lane == 31) warp_sums[warp] = inclusive;
        __syncthreads();
        int before = 0, segment_total = 0;
        for (int w = group * (LZW_GROUP / 32); w < (group + 1) * (LZW_GROUP / 32); ++w) {
            before += w < warp ? warp_sums[w] : 0;
            segment_total += warp_sums[w];
        }
        int at = before + inclusive - sum;  // where this thread's first string starts in the segment
        for (int i = lo; i < hi; ++i) {     // the word becomes (start, first byte)
            u32 w = words[i];
            words[i] = ((u32)at & 0xffffu) | ((w >> 24) << 16);
            at += w & 0xfffu;
        }
        if (member == 0) group_total[group] = segment_total;
        __syncthreads();
        if (threadIdx.x == 0) {
            for (int g = 0; g < groups && wave + g < segments; ++g)
                seg_base[wave + g + 1] = seg_base[wave + g] + group_total[g];
            if (seg_base[min(wave + groups, segments)] > capacity) split = 0;  // one warp decodes it
        }
        __syncthreads();
        if (split) {
            const long long base = k < segments ? seg_base[k] : 0;
            for (int i = member; i < n; i += LZW_GROUP) {
                int begin = words[i] & 0xffffu, end = i + 1 < n ? (int)(words[i + 1] & 0xffffu) : segment_total;
                int q = i;
                for (int p = end - 1; p >= begin; --p) {
                    int code = codes[q];
                    out[base + p] = code < 256 ? (u8)code : (u8)(words[code - 257] >> 16);
                    q = code - 258;
                }
            }
        }
        __syncthreads();  // the next wave reuses the groups' memory
    }
    if (split) {
        if (threadIdx.x == 0) written[c] = seg_base[segments];
    } else if (warp == 0) {
        long long result = lzw_run<u16>(in, size, late, out, capacity, (u16*)lzw_words);
        if (lane == 0) written[c] = result;
    }
}
