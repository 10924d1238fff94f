// Counts the allocations of chosen threads: replaces operator new and aligned_alloc (Asio's
// recycling allocator falls back to it) for the whole program, so a program includes this header
// in exactly one file. OpenSSL's own mallocs are not counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace bench {

/// Allocations counted on one thread. Only that thread writes; any thread may read.
struct AllocationCount {
    std::atomic<std::uint64_t> allocations{0};
    std::atomic<std::uint64_t> bytes{0};
};

namespace detail {
inline thread_local AllocationCount* counted_thread = nullptr;

inline void note_allocation(std::size_t size) {
    if (AllocationCount* c = counted_thread) {
        // The owner is the only writer: a plain store, no locked read-modify-write.
        c->allocations.store(c->allocations.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        c->bytes.store(c->bytes.load(std::memory_order_relaxed) + size, std::memory_order_relaxed);
    }
}

inline void* allocate(std::size_t size) {
    note_allocation(size);
    void* p = std::malloc(size == 0 ? 1 : size);
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace detail

/// From now on the calling thread's allocations add to `count`, which must outlive the counting.
inline void count_allocations_of_this_thread(AllocationCount& count) { detail::counted_thread = &count; }

}  // namespace bench

extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
    bench::detail::note_allocation(size);
    void* p = nullptr;
    return posix_memalign(&p, alignment < sizeof(void*) ? sizeof(void*) : alignment, size) == 0 ? p : nullptr;
}
void* operator new(std::size_t size) { return bench::detail::allocate(size); }
void* operator new[](std::size_t size) { return bench::detail::allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
