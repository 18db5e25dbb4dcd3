"""Reads a disk chain through libvhdi and writes its logical content as a raw image.

usage: vhdi_read.py OUT TOP [PARENT ...]   (files from the top of the chain down to the root)
Prints the identifier, parent identifier and media size of each file as it opens them.
"""
import sys

import pyvhdi

out_path, paths = sys.argv[1], sys.argv[2:]
files = []
for path in paths:
    f = pyvhdi.file()
    f.open(path)
    files.append(f)
    print(path, f.get_identifier(), f.get_parent_identifier(), f.get_media_size(), file=sys.stderr)
# set_parent needs the parent already linked to its own parent: link from the root upwards.
for child, parent in reversed(list(zip(files, files[1:]))):
    child.set_parent(parent)
top = files[0]
size = top.get_media_size()
chunk = 4 << 20
with open(out_path, "wb") as out:
    offset = 0
    while offset < size:
        n = min(chunk, size - offset)
        data = top.read_buffer_at_offset(n, offset)
        if len(data) != n:
            sys.exit("short read at %d: %d of %d bytes" % (offset, len(data), n))
        out.write(data)
        offset += n
