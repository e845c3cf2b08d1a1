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
// For a few chunks (one image) the latency of one chunk is what counts: lzw_decode16_shared decodes into shared
// memory (a warp a block), where reading earlier output costs a shared load, not a trip to L2, and copies the
// result out at the end.
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

// written[c]: bytes decoded (at most the capacity), or -1 for an invalid code. A chunk is in the old style when
// it starts with the bytes 0x00 0x?1, as libtiff tells them apart. P holds output positions: u16 for chunks up
// to 64 KiB (7.5 KiB of shared memory a warp), u32 beyond. IN_SHARED: one warp a block, the output decoded
// into the shared memory after the table (64 KiB) and copied to dst at the end.
template <typename P, bool IN_SHARED>
__device__ void lzw_decode(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity, i64* written,
                           long long nchunks, P* tables) {
    const int lane = threadIdx.x & 31;
    const unsigned all = 0xffffffffu;
    long long c = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (c >= nchunks) return;
    P* start_of = tables + (threadIdx.x >> 5) * LZW_SLOTS;  // start_of[j]: where code j of the segment's output starts
    const u8* in = (const u8*)src[c];
    long long size = src_size[c], total_bits = size * 8;
    const int late = size >= 2 && __ldg(in) == 0 && (__ldg(in + 1) & 1) ? 1 : 0;  // old style (the whole warp)
    u8* out = IN_SHARED ? (u8*)(tables + LZW_SLOTS) : (u8*)dst[c];
    long long capacity = dst_capacity[c];
    long long most = sizeof(P) == 2 ? 65536LL : 0xffffffffLL;
    if (capacity > most) capacity = most;
    long long segment = 0, pos = 0;  // bit offset of the segment's first code; output position of the batch
    int i0 = 0;                        // index of the batch's first code in its segment
    long long result = -2;
    while (result == -2) {
        int i = i0 + lane, width = lzw_width(i - late);
        long long bit = segment + lzw_bit(i - late) + 9 * late;
        bool have = bit + width <= total_bits;
        int code = -1;
        if (have) {
            long long at = bit >> 3;
            u32 b0 = __ldg(in + at), b1 = at + 1 < size ? __ldg(in + at + 1) : 0u;
            u32 b2 = at + 2 < size ? __ldg(in + at + 2) : 0u;
            u32 bits = late ? (b0 | (b1 << 8) | (b2 << 16)) >> (int)(bit & 7)
                            : ((b0 << 16) | (b1 << 8) | b2) >> (24 - (int)(bit & 7) - width);
            code = (int)(bits & ((1u << width) - 1));
        }
        int limit = i == 0 ? 255 : min(257 + i, 4095);  // the table's last entry when code i is read
        unsigned ends = __ballot_sync(all, !have || code == 256 || code == 257 || code > limit);
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
        if (count < f || end >= capacity) {
            result = capacity;  // the output is full
        } else if (f < 32) {    // lane f holds a Clear, an EOI, an invalid code, or the data ended
            int last = __shfl_sync(all, code, f);
            if (last == 256) {
                segment = __shfl_sync(all, bit, f) + __shfl_sync(all, width, f);
                i0 = 0;
            } else {
                result = last == 257 || last < 0 ? end : -1;
            }
        } else {
            i0 += 32;
        }
    }
    if (IN_SHARED) {  // the decoded bytes out to the chunk's place, 16 bytes a lane where aligned
        __syncwarp();
        u8* target = (u8*)dst[c];
        long long n = pos < capacity ? pos : capacity;
        if ((((unsigned long long)target) & 15) == 0) {
            for (long long k = lane; k < n / 16; k += 32) ((uint4*)target)[k] = ((const uint4*)out)[k];
            for (long long k = n / 16 * 16 + lane; k < n; k += 32) target[k] = out[k];
        } else {
            for (long long k = lane; k < n; k += 32) target[k] = out[k];
        }
    }
    if (lane == 0) written[c] = result;
}

extern "C" __global__ void lzw_decode16(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w,
                                        long long n) {
    extern __shared__ u16 lzw_tables16[];
    lzw_decode<u16, false>(s, ss, d, dc, w, n, lzw_tables16);
}
extern "C" __global__ void lzw_decode16_shared(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w,
                                               long long n) {
    extern __shared__ __align__(16) u16 lzw_tables16s[];
    lzw_decode<u16, true>(s, ss, d, dc, w, n, lzw_tables16s);
}
extern "C" __global__ void lzw_decode32(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w,
                                        long long n) {
    extern __shared__ u32 lzw_tables32[];
    lzw_decode<u32, false>(s, ss, d, dc, w, n, lzw_tables32);
}
