# Page-cache helper for micro-VM snapshot memory files (Node has no mincore/fadvise):
#   pagecache.py drop FILE            fdatasync + posix_fadvise(DONTNEED): a cold page cache for FILE
#   pagecache.py resident FILE        prints the indexes of FILE's 4 KiB pages in the page cache (mincore)
#   pagecache.py prefetch FILE LOG    reads the pages LOG lists (one index per line) that are not
#                                     resident, in order, runs merged; nothing if >= 90% are
# Run with /usr/bin/python3 -I -S. Standard library only (ctypes for mincore).
import ctypes, mmap, os, sys

PAGE = mmap.PAGESIZE


def drop(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def resident(path):
    size = os.path.getsize(path)
    pages = (size + PAGE - 1) // PAGE
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        vec = ctypes.create_string_buffer(pages)
        if libc.mincore(ctypes.c_void_p(addr), size, vec) != 0:
            raise OSError(ctypes.get_errno(), "mincore")
        libc.munmap(ctypes.c_void_p(addr), size)
    finally:
        os.close(fd)
    raw = vec.raw
    sys.stdout.write("".join(f"{i}\n" for i in range(pages) if raw[i] & 1))


def resident_set(path):
    import io
    out = io.StringIO()
    real, sys.stdout = sys.stdout, out
    try:
        resident(path)
    finally:
        sys.stdout = real
    return {int(x) for x in out.getvalue().split()}


def prefetch(path, log):
    with open(log) as f:
        idx = [int(x) for x in f if x.strip()]
    # Already in the page cache (a hot snapshot): nothing to gain, return at once.
    have = resident_set(path)
    if sum(1 for i in idx if i in have) >= 0.9 * len(idx):
        return
    idx = [i for i in idx if i not in have]
    fd = os.open(path, os.O_RDONLY)
    try:
        i = 0
        while i < len(idx):
            j = i
            while j + 1 < len(idx) and idx[j + 1] == idx[j] + 1 and j - i < 255:
                j += 1
            os.pread(fd, (j - i + 1) * PAGE, idx[i] * PAGE)
            i = j + 1
    finally:
        os.close(fd)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "drop":
        drop(sys.argv[2])
    elif cmd == "resident":
        resident(sys.argv[2])
    elif cmd == "prefetch":
        prefetch(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"unknown command {cmd}")
