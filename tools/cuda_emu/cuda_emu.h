// A CPU stand-in for the part of CUDA's execution model our kernels use, to check their logic where no GPU is
// (tests/test_gpu_kernels_on_cpu.py, tests/test_gpu_tiff_kernels_on_cpu.py): not for speed. A block's threads
// are std::threads that run one block at a time; __syncthreads is a barrier of the block, each warp intrinsic a
// barrier of the warp's 32 lanes; shared memory (static and dynamic) is memory of the process, filled with
// garbage before each block.
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct Dim3 {
    unsigned x = 1, y = 1, z = 1;
};
static thread_local Dim3 threadIdx, blockIdx;
static Dim3 blockDim, gridDim;

#define __device__
#define __forceinline__ inline
#define __global__
#define __launch_bounds__(x)
#define __align__(x) alignas(x)
#define __shared__ static

// A barrier whose waiters yield the CPU while they spin: blocks have up to 1024 threads on a few cores, and a
// warp meets at every intrinsic (std::barrier's futex wakes took seconds a chunk).
class EmuBarrier {
  public:
    explicit EmuBarrier(int count) : expected_(count) {}
    void arrive_and_wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        int generation = generation_.load();
        if (++arrived_ == expected_) {
            release();
            return;
        }
        lock.unlock();
        while (generation_.load() == generation) std::this_thread::yield();
    }
    void arrive_and_drop() {  // this thread leaves: the others stop waiting for it from now on
        std::lock_guard<std::mutex> lock(mutex_);
        if (--expected_ == arrived_ && arrived_ > 0) release();
    }

  private:
    void release() {
        arrived_ = 0;
        generation_.fetch_add(1);
    }
    std::mutex mutex_;
    int expected_, arrived_ = 0;
    std::atomic<int> generation_{0};
};

struct EmuWarp {
    EmuBarrier lanes{32};
    long long slots[32];
};
static std::unique_ptr<EmuBarrier> emu_block;
static std::vector<std::unique_ptr<EmuWarp>> emu_warps;
alignas(16) static unsigned char emu_dynamic_shared[256 * 1024];  // extern __shared__ arrays point here
static std::atomic<int> emu_votes[3];                            // __syncthreads_or, in turn
static thread_local int emu_vote = 0;
static std::atomic<long long> emu_marks;                        // counted where a test's edit of a kernel says

static inline void __syncthreads() { emu_block->arrive_and_wait(); }

// Every thread votes into this call's slot, then reads it after the barrier; the slot of the call before (read
// by all by now) is cleared for the call after this one.
static inline int __syncthreads_or(int predicate) {
    int now = emu_vote;
    emu_vote = (emu_vote + 1) % 3;
    if (predicate) emu_votes[now].fetch_or(1);
    emu_block->arrive_and_wait();
    int result = emu_votes[now].load();
    if (threadIdx.x == 0) emu_votes[(now + 2) % 3].store(0);
    return result;
}

static inline EmuWarp& emu_warp() { return *emu_warps[threadIdx.x >> 5]; }

template <typename T>
static inline T __shfl_sync(unsigned, T value, int source) {
    EmuWarp& warp = emu_warp();
    long long slot = 0;
    std::memcpy(&slot, &value, sizeof(T));
    warp.slots[threadIdx.x & 31] = slot;
    warp.lanes.arrive_and_wait();
    slot = warp.slots[source & 31];
    warp.lanes.arrive_and_wait();
    std::memcpy(&value, &slot, sizeof(T));
    return value;
}

template <typename T>
static inline T __shfl_up_sync(unsigned mask, T value, int delta) {
    int lane = threadIdx.x & 31;
    return __shfl_sync(mask, value, lane >= delta ? lane - delta : lane);
}

static inline unsigned __ballot_sync(unsigned, int predicate) {
    EmuWarp& warp = emu_warp();
    warp.slots[threadIdx.x & 31] = predicate != 0;
    warp.lanes.arrive_and_wait();
    unsigned bits = 0;
    for (int lane = 0; lane < 32; ++lane) bits |= warp.slots[lane] ? 1u << lane : 0u;
    warp.lanes.arrive_and_wait();
    return bits;
}

static inline void __syncwarp() { emu_warp().lanes.arrive_and_wait(); }
static inline int __ffs(unsigned x) { return __builtin_ffs((int)x); }
static inline int __popc(unsigned x) { return __builtin_popcount(x); }
template <typename T>
static inline T __ldg(const T* p) { return *p; }

static inline int atomicMin(int* address, int value) {
    std::atomic_ref<int> target(*address);
    int old = target.load();
    while (value < old && !target.compare_exchange_weak(old, value)) {
    }
    return old;
}

template <typename A, typename B>
static inline auto min(A a, B b) -> decltype(a + b) { return a < b ? a : b; }

// Run `kernel` (a callable that calls the __global__ function) on `grid`, block after block; a thread that
// returns leaves its block's and its warp's barriers, as an exited GPU thread stops counting.
template <typename F>
static void emu_launch(Dim3 grid, unsigned block, F kernel) {
    gridDim = grid;
    blockDim.x = block;
    for (unsigned z = 0; z < grid.z; ++z)
        for (unsigned y = 0; y < grid.y; ++y)
            for (unsigned x = 0; x < grid.x; ++x) {
                emu_block = std::make_unique<EmuBarrier>(block);
                emu_warps.clear();
                for (unsigned w = 0; w < (block + 31) / 32; ++w) emu_warps.push_back(std::make_unique<EmuWarp>());
                for (auto& vote : emu_votes) vote = 0;
                std::memset(emu_dynamic_shared, 0xcd, sizeof emu_dynamic_shared);
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < block; ++t)
                    threads.emplace_back([=] {
                        threadIdx.x = t;
                        blockIdx = Dim3{x, y, z};
                        emu_vote = 0;
                        kernel();
                        emu_block->arrive_and_drop();
                        emu_warps[t >> 5]->lanes.arrive_and_drop();
                    });
                for (auto& thread : threads) thread.join();
            }
}

template <typename F>
static void emu_launch(unsigned grid, unsigned block, F kernel) {
    emu_launch(Dim3{grid, 1, 1}, block, kernel);
}
