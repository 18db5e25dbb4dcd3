#!/usr/bin/python3
"""What qemu-img and libvhdi do with broken VHDX files (docs/formats.md, "Broken files").

Makes a small dynamic VHDX with qemu-img, breaks copies of it one way each (fixing checksums
where the point is the field behind them), and prints, per case, the exit status and first
error line of `qemu-img info`, `qemu-img check` and `vhdiinfo`, and whether pyvhdi reads the
whole disk. Usage: broken-vhdx-oracles.py [WORKDIR]
"""
import os, struct, subprocess, sys, tempfile, uuid

MIB = 1 << 20
_T = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _T.append(c)

def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c = _T[(c ^ x) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

class F:
    def __init__(s, path): s.b = bytearray(open(path, 'rb').read())
    def u16(s, at): return struct.unpack_from('<H', s.b, at)[0]
    def u32(s, at): return struct.unpack_from('<I', s.b, at)[0]
    def u64(s, at): return struct.unpack_from('<Q', s.b, at)[0]
    def p16(s, at, v): struct.pack_into('<H', s.b, at, v)
    def p32(s, at, v): struct.pack_into('<I', s.b, at, v & 0xFFFFFFFF)
    def p64(s, at, v): struct.pack_into('<Q', s.b, at, v & 0xFFFFFFFFFFFFFFFF)
    def fix(s, at, size):
        s.p32(at + 4, 0); s.p32(at + 4, crc32c(bytes(s.b[at:at + size])))
    def fix_headers(s):
        for h in (0x10000, 0x20000): s.fix(h, 4096)
    def fix_regions(s):
        for r in (0x30000, 0x40000): s.fix(r, 65536)
    def region(s, table, guid):
        for i in range(s.u32(table + 8)):
            at = table + 16 + 32 * i
            if bytes(s.b[at:at + 16]) == uuid.UUID(guid).bytes_le: return at
    def meta(s): return s.u64(s.region(0x30000, BAT_META) + 16)
    def item(s, guid):
        m = s.meta()
        for i in range(s.u16(m + 10)):
            at = m + 32 + 32 * i
            if bytes(s.b[at:at + 16]) == uuid.UUID(guid).bytes_le: return at
    def bat(s): return s.u64(s.region(0x30000, BAT) + 16)
    def save(s, path): open(path, 'wb').write(s.b)

BAT = '2DC27766-F623-4200-9D64-115E9BFD4A08'
BAT_META = '8B7CA206-4790-4B9A-B8FE-575F050F886E'
FILE_PARAMETERS = 'CAA16737-FA36-4D43-B3B6-33F0AA44E76B'
VIRTUAL_DISK_SIZE = '2FA54224-CD1B-4876-B211-5DBED83BF4B8'
UNKNOWN = 'c0ffee00-1234-4567-89ab-cdef01234567'

def both_regions(f, edit):
    for t in (0x30000, 0x40000): edit(t)
    f.fix_regions()

def add_region(f, required):
    start = (len(f.b) + MIB - 1) // MIB * MIB
    f.b.extend(bytes(start + MIB - len(f.b)))
    def edit(t):
        n = f.u32(t + 8); e = t + 16 + 32 * n
        f.b[e:e + 16] = uuid.UUID(UNKNOWN).bytes_le
        f.p64(e + 16, start); f.p32(e + 24, MIB); f.p32(e + 28, 1 if required else 0); f.p32(t + 8, n + 1)
    both_regions(f, edit)

def first_allocated(f):
    for i in range(64):
        if f.u64(f.bat() + 8 * i) & 7 == 6: return i

CASES = {
    'pristine': lambda f: None,
    'header 1 checksum wrong (header 2 valid)': lambda f: f.p32(0x10004, f.u32(0x10004) ^ 1),
    'both header checksums wrong': lambda f: (f.p32(0x10004, f.u32(0x10004) ^ 1), f.p32(0x20004, f.u32(0x20004) ^ 1)),
    'header Version 2 (both, checksums fixed)': lambda f: (f.p16(0x10042, 2), f.p16(0x20042, 2), f.fix_headers()),
    'LogGuid set, no log entry (checksums fixed)': lambda f: ([f.b.__setitem__(slice(h + 48, h + 64), uuid.UUID(UNKNOWN).bytes_le) for h in (0x10000, 0x20000)], f.fix_headers()),
    'region table 1 checksum wrong (copy 2 valid)': lambda f: f.p32(0x30004, f.u32(0x30004) ^ 1),
    'both region table checksums wrong': lambda f: (f.p32(0x30004, f.u32(0x30004) ^ 1), f.p32(0x40004, f.u32(0x40004) ^ 1)),
    'unknown region, required': lambda f: add_region(f, True),
    'unknown region, optional': lambda f: add_region(f, False),
    'BlockSize 3 MiB': lambda f: f.p32(f.meta() + f.u32(f.item(FILE_PARAMETERS) + 16), 3 * MIB),
    'VirtualDiskSize not a sector multiple': lambda f: f.p64(f.meta() + f.u32(f.item(VIRTUAL_DISK_SIZE) + 16), 8 * MIB + 1),
    'region table 2 checksum wrong (copy 1 valid)': lambda f: f.p32(0x40004, f.u32(0x40004) ^ 1),
    'LogVersion 1, no log to replay (checksums fixed)': lambda f: (f.p16(0x10040, 1), f.p16(0x20040, 1), f.fix_headers()),
    'unknown metadata item, optional, empty (offset 0, length 0)': lambda f: (lambda m, n: (f.b.__setitem__(slice(m + 32 + 32 * n, m + 48 + 32 * n), uuid.UUID(UNKNOWN).bytes_le), f.p16(m + 10, n + 1)))(f.meta(), f.u16(f.meta() + 10)),
    'unknown metadata item, required': lambda f: (lambda m, n: (f.b.__setitem__(slice(m + 32 + 32 * n, m + 48 + 32 * n), uuid.UUID(UNKNOWN).bytes_le), f.p32(m + 56 + 32 * n, 4), f.p16(m + 10, n + 1)))(f.meta(), f.u16(f.meta() + 10)),
    'BAT entry past the end of the file': lambda f: f.p64(f.bat() + 8 * first_allocated(f), (1 << 40 >> 20 << 20) | 6),
    'BAT entry in reserved state 4': lambda f: f.p64(f.bat() + 8 * first_allocated(f), (f.u64(f.bat() + 8 * first_allocated(f)) & ~7) | 4),
    'two BAT entries at one offset': lambda f: f.p64(f.bat() + 8 * 5, f.u64(f.bat() + 8 * first_allocated(f))),
    'PARTIALLY_PRESENT in a dynamic disk': lambda f: f.p64(f.bat() + 8 * first_allocated(f), f.u64(f.bat() + 8 * first_allocated(f)) | 7),
    'truncated in the last block': lambda f: f.b.__delitem__(slice(len(f.b) - 4096, None)),
}

def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    out = (p.stdout + p.stderr).strip().splitlines()
    err = [l for l in out if 'rror' in l or 'nvalid' in l or 'ould not' in l or 'nable' in l or 'orrupt' in l]
    return p.returncode, (err[0] if err else (out[-1] if out and p.returncode else ''))[:110]

def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix='broken-vhdx-')
    base = os.path.join(work, 'base.vhdx')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'vhdx', '-o', 'subformat=dynamic,block_size=1M', base, str(8 * MIB)], check=True)
    subprocess.run(['qemu-io', '-f', 'vhdx', '-c', 'write -P 0x5a 0 1M', '-c', 'write -P 0xa5 3M 64k', base], check=True, capture_output=True)
    for name, breaker in CASES.items():
        f = F(base); breaker(f)
        path = os.path.join(work, 'case.vhdx'); f.save(path)
        info = run(['qemu-img', 'info', '-f', 'vhdx', path])
        check = run(['qemu-img', 'check', '-f', 'vhdx', path])
        vhdi = run(['vhdiinfo', path])
        read = run(['/usr/bin/python3', '-c', 'import pyvhdi,sys\nf=pyvhdi.file();f.open(sys.argv[1]);n=f.get_media_size()\nfor o in range(0,n,1<<20): f.read_buffer_at_offset(min(1<<20,n-o),o)', path])
        print(f'{name}\n  qemu-img info {info[0]}: {info[1]}\n  qemu-img check {check[0]}: {check[1]}\n  vhdiinfo {vhdi[0]}: {vhdi[1]}\n  pyvhdi read {read[0]}: {read[1]}')

if __name__ == '__main__':
    main()
