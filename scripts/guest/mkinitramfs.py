#!/usr/bin/env python3
"""Write a gzip-compressed newc cpio initramfs from a staging directory, reproducibly.

Usage: mkinitramfs.py STAGING_DIR OUTPUT [--busybox-links LIST_FILE]

- Every file is stored with uid/gid 0 and mtime 0, in sorted order, so the same input gives the same bytes.
- Device nodes /dev/console, /dev/null, /dev/ttyS0 are added without needing mknod on the build host
  (the kernel needs /dev/console to exist before it runs /init).
- --busybox-links: a file with one path per line (output of `busybox --list-full`); each becomes a
  symlink to /bin/busybox unless the staging dir already has that path.
"""
import gzip
import io
import os
import stat
import sys


def main():
    args = sys.argv[1:]
    links_file = None
    if "--busybox-links" in args:
        i = args.index("--busybox-links")
        links_file = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    root, out = args

    entries = {}  # path (no leading /) -> (mode, data, rdev_major, rdev_minor)

    def add_dir(path):
        parts = path.split("/")
        for k in range(1, len(parts) + 1):
            d = "/".join(parts[:k])
            if d and d not in entries:
                entries[d] = (stat.S_IFDIR | 0o755, b"", 0, 0)

    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        if rel != ".":
            add_dir(rel)
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            relp = os.path.normpath(os.path.join(rel, name)) if rel != "." else name
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                entries[relp] = (stat.S_IFLNK | 0o777, os.readlink(full).encode(), 0, 0)
            elif stat.S_ISDIR(st.st_mode):
                entries[relp] = (stat.S_IFDIR | (st.st_mode & 0o7777), b"", 0, 0)
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    entries[relp] = (stat.S_IFREG | (st.st_mode & 0o7777), f.read(), 0, 0)

    if links_file:
        with open(links_file) as f:
            for line in f:
                p = line.strip().lstrip("/")
                if not p or p in entries or p == "bin/busybox":
                    continue
                add_dir(os.path.dirname(p))
                entries[p] = (stat.S_IFLNK | 0o777, b"/bin/busybox", 0, 0)

    add_dir("dev")
    for p, mode, major, minor in (("dev/console", 0o600, 5, 1), ("dev/null", 0o666, 1, 3),
                                  ("dev/ttyS0", 0o660, 4, 64)):
        entries[p] = (stat.S_IFCHR | mode, b"", major, minor)

    buf = io.BytesIO()
    ino = 1000

    def write_entry(name, mode, data, maj, mnr, nlink=1):
        nonlocal ino
        ino += 1
        nameb = name.encode() + b"\0"
        hdr = "070701" + "".join("%08X" % v for v in (
            ino, mode, 0, 0, nlink if not stat.S_ISDIR(mode) else 2, 0, len(data), 0, 0, maj, mnr,
            len(nameb), 0))
        buf.write(hdr.encode())
        buf.write(nameb)
        buf.write(b"\0" * ((4 - (len(hdr) + len(nameb)) % 4) % 4))
        buf.write(data)
        buf.write(b"\0" * ((4 - len(data) % 4) % 4))

    for name in sorted(entries, key=lambda p: (p.count("/"), p)):
        mode, data, maj, mnr = entries[name]
        write_entry(name, mode, data, maj, mnr)
    write_entry("TRAILER!!!", 0, b"", 0, 0, nlink=1)

    raw = buf.getvalue()
    with open(out, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as gz:
            gz.write(raw)


if __name__ == "__main__":
    main()
